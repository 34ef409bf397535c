"""The evolving network: connections, follows, groups and each member's latest post.

Per-member sets are small `array('i')` created on first use and capped at `cap` entries, so memory is
O(members × cap) however many days run.
"""

from __future__ import annotations

from array import array


class MemberSets:
    """One small capped set of member numbers (or other ints) per member, created lazily."""

    __slots__ = ("_cap", "_sets")

    def __init__(self, size: int, cap: int) -> None:
        self._sets: list[array[int] | None] = [None] * size
        self._cap = cap

    def contains(self, i: int, x: int) -> bool:
        s = self._sets[i]
        return s is not None and x in s

    def size(self, i: int) -> int:
        s = self._sets[i]
        return 0 if s is None else len(s)

    def has_room(self, i: int) -> bool:
        s = self._sets[i]
        return s is None or len(s) < self._cap

    def add(self, i: int, x: int) -> bool:
        """Add `x` to member `i`'s set unless present or full; True if added."""
        s = self._sets[i]
        if s is None:
            self._sets[i] = array("i", (x,))
            return True
        if len(s) >= self._cap or x in s:
            return False
        s.append(x)
        return True

    def discard(self, i: int, x: int) -> None:
        s = self._sets[i]
        if s is not None and x in s:
            s.remove(x)

    def members(self, i: int) -> array[int] | None:
        """Member `i`'s set (do not modify), or None if it never had one."""
        return self._sets[i]

    def total(self) -> int:
        """Number of entries over all members."""
        return sum(len(s) for s in self._sets if s is not None)


class Network:
    """Connections (symmetric), follows, group memberships, follower counts and latest posts."""

    __slots__ = ("connections", "followers", "following", "groups", "last_post", "last_post_at")

    def __init__(self, size: int, cap: int) -> None:
        self.connections = MemberSets(size, cap)
        self.following = MemberSets(size, cap)
        self.groups = MemberSets(size, cap)
        self.followers = array("I", [0]) * size
        #: Number and time (ms since start) of each member's latest post; -1 when none yet.
        self.last_post = array("q", [-1]) * size
        self.last_post_at = array("q", [-1]) * size

    def connected(self, a: int, b: int) -> bool:
        return self.connections.contains(a, b)

    def connect(self, a: int, b: int) -> bool:
        """Connect `a` and `b` unless already connected or either is at the cap; True if connected."""
        c = self.connections
        if a == b or not (c.has_room(a) and c.has_room(b)) or c.contains(a, b):
            return False
        c.add(a, b)
        c.add(b, a)
        return True

    def disconnect(self, a: int, b: int) -> bool:
        """Remove the connection between `a` and `b`; True if they were connected."""
        if not self.connections.contains(a, b):
            return False
        self.connections.discard(a, b)
        self.connections.discard(b, a)
        return True
