"""Which input offsets a partition's state has taken in: spots redeliveries and skipped input.

A worker keeps, in its own changelog-backed state, the next offset it expects from each input
partition. The consumer's committed offset is only a hint: Faust can acknowledge and commit messages
its streams skipped without processing (around rebalances and table recovery, faust-streaming #596),
and a worker that trusted the commit would then never see them. With the guard, a message past the
expected offset reveals such a gap, and the worker reads the missing offsets itself before going on.

The worker writes a partition's position only after everything the input before it produced (state,
effects, records) has been delivered, so a durable position proves that input fully processed: messages
before it are redeliveries and are skipped. (Counting on per-member effect ids instead is not enough: a
redelivery can come after the member's days moved on past the ids' horizon.)
"""

from __future__ import annotations

import struct
from enum import Enum

_POSITION = struct.Struct(">q")


class Admit(Enum):
    """What to do with a message."""

    NEXT = "next"  # the expected message: process it
    REREAD = "reread"  # before the expected offset: already processed, skip it
    GAP = "gap"  # past the expected offset: read `next_offset`..offset-1 first, then process it


class OffsetGuard:
    """The next offset one input partition's state expects."""

    __slots__ = ("next_offset",)

    def __init__(self, next_offset: int | None = None) -> None:
        self.next_offset = next_offset

    def admit(self, offset: int) -> Admit:
        """Decide about the message at `offset`; NEXT and GAP move the expected offset past it."""
        expected = self.next_offset
        if expected is not None and offset < expected:
            return Admit.REREAD
        self.next_offset = offset + 1
        if expected is None or offset == expected:
            return Admit.NEXT
        return Admit.GAP

    def admit_run(self, first: int, last: int, count: int) -> bool:
        """Admit `count` messages at offsets `first`..`last` at once if they are exactly the next ones
        (each would be NEXT); otherwise change nothing and return False (admit them one by one)."""
        expected = self.next_offset
        if (expected is None or first == expected) and last - first + 1 == count:
            self.next_offset = last + 1
            return True
        return False

    def to_bytes(self) -> bytes:
        return _POSITION.pack(-1 if self.next_offset is None else self.next_offset)

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> OffsetGuard:
        if not raw:
            return cls()
        (position,) = _POSITION.unpack(raw)
        return cls(None if position < 0 else position)
