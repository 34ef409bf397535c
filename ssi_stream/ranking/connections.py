"""A member's connections as of their last closed day: the group their network rank compares them with.

Connection effects (`INVITE_ACCEPTED_BY_ME`, `MY_INVITE_ACCEPTED`, `CONNECTION_REMOVED`) carry the other
member's id. Like every effect they count in an open day and take effect when that day closes; within a
day they apply in the order of their events' (occurred_at, event key), which both members of a pair see
alike, so the two sides of a connection agree on every closed day.

Every cap is decided by event time and content, never by arrival order, so replay and the stream keep
the same changes whatever the backlog and the partitions' interleaving (docs/ranking.md, "Limits"):

- per member and open day, the smallest changes by (occurred_at, event key, other, connects) are kept,
  as many as fit in `LinkLimits.changes_per_day` and `MAX_DAY_BYTES`: a bounded selection (the longest
  prefix of the day's changes in that order) that ends the same in any arrival order;
- at a close, a connect applies only while the member holds fewer than `LinkLimits.connections`
  connections and under `MAX_CONNECTION_BYTES` of their ids (removals always apply), in event order;
- `MAX_PENDING_BYTES` bounds the changes of all open days together, so the ledger stays under Kafka's
  record limit: reached only when one member has that many full days open at once (a backlog of several
  days with thousands of new connections a day); an offer past it is refused, and which one depends on
  arrival (the one cap that does), so it is counted apart (`BACKLOG`).

Each refusal is reported through `on_capped` with the cap's name (the metric `ssi_capped_total`).
"""

from __future__ import annotations

import struct
from base64 import urlsafe_b64encode
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import blake2b

import msgspec

from ssi_stream.scoring.effects import Effect, EffectKind

#: Bytes of connection ids kept per member (UTF-8 + 2 each: 20,000 connections with 24-byte ids, 30,000
#: with 15-byte ids), so a ledger stays under Kafka's 1 MB record limit whatever the ids.
MAX_CONNECTION_BYTES = 512 * 1024
#: Bytes of connection changes kept per member and open day (with `LinkLimits.changes_per_day`: 2,000
#: changes of 65 bytes, i.e. with member ids up to 37 bytes, or 470 of the longest ids).
MAX_DAY_BYTES = 128 * 1024
#: Bytes of connection changes pending in all open days together (the ledger's bound; see above): three
#: days at their byte cap, or eight days of 500 new connections each.
MAX_PENDING_BYTES = 384 * 1024
#: The caps' names, as `on_capped` reports them and the metric labels them.
CHANGES_PER_DAY = "connection_changes_per_day"
CONNECTIONS = "connections"
BACKLOG = "connection_changes_backlog"

#: Effect kinds that change a connection, and whether they connect (True) or disconnect.
LINK_KINDS: dict[EffectKind, bool] = {
    EffectKind.INVITE_ACCEPTED_BY_ME: True,
    EffectKind.MY_INVITE_ACCEPTED: True,
    EffectKind.CONNECTION_REMOVED: False,
}

_COUNTS = struct.Struct("<II")  # connections, pending changes
_TEXT = struct.Struct("<H")
_CHANGE = struct.Struct("<iqB")  # day, occurred_at, connects

Capped = Callable[[str], None]


def _ignore(cap: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class LinkLimits:
    """The connection caps replay and the stream apply alike (`SSI_MAX_CONNECTIONS`,
    `SSI_MAX_CONNECTION_CHANGES_PER_DAY`)."""

    #: Connections a member holds at most (LinkedIn's own limit is 30,000).
    connections: int = 30_000
    #: Connection changes kept per member and open day.
    changes_per_day: int = 2_000

    def __post_init__(self) -> None:
        if self.connections < 1 or self.changes_per_day < 1:
            raise ValueError(f"connection limits must be ≥ 1, got {self}")


DEFAULT_LIMITS = LinkLimits()


def event_key(effect_id: str) -> str:
    """The key a connection change is ordered by within its second: the same on both sides of a pair
    (the effect id without its role), 11 characters whatever the event id's length."""
    event_id = effect_id.rpartition("/")[0] or effect_id
    digest = blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


class LinkChange(msgspec.Struct, frozen=True, order=True, gc=False):
    """One pending connect or disconnect, in the open day it counts in (a msgspec Struct: built fast)."""

    day: int
    occurred_at: int
    event_id: str
    other: str
    connects: bool


@dataclass(slots=True)
class Connections:
    """The member's connections (closed days only) and the kept changes of their open days."""

    members: set[str] = field(default_factory=set)
    #: Open day -> its kept changes, in order (the `changes_per_day` smallest offered).
    pending: dict[int, list[LinkChange]] = field(default_factory=dict)
    #: Encoded bytes of `members` and of `pending` (bounded by the caps above); computed when not given.
    member_bytes: int = field(default=-1, compare=False)
    pending_bytes: int = field(default=-1, compare=False)
    _day_bytes: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    #: `members` as `to_bytes` writes them, while they have not changed since (a ledger is written far
    #: more often than its connections change; a hub's are hundreds of KiB).
    _member_blob: bytes | None = field(default=None, init=False, compare=False, repr=False)
    #: All of `to_bytes()`, while neither the members nor the pending changes have changed since.
    _blob: bytes | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.member_bytes < 0:
            self.member_bytes = sum(_TEXT.size + len(m.encode()) for m in self.members)
        self._day_bytes = {day: sum(_size(c) for c in changes) for day, changes in self.pending.items()}
        if self.pending_bytes < 0:
            self.pending_bytes = sum(self._day_bytes.values())

    def pending_count(self) -> int:
        return sum(len(changes) for changes in self.pending.values())

    def offer(
        self, effect: Effect, day: int, limits: LinkLimits = DEFAULT_LIMITS, on_capped: Capped = _ignore
    ) -> None:
        """Note a connection effect counted in open `day` (other effects are ignored)."""
        connects = LINK_KINDS.get(effect.kind)
        if connects is None or not effect.text or effect.text == effect.member_id:
            return
        change = LinkChange(day, effect.occurred_at, event_key(effect.effect_id), effect.text, connects)
        self._blob = None
        changes = self.pending.setdefault(day, [])
        index = bisect_left(changes, change)
        if index < len(changes) and changes[index] == change:
            return  # the same change again (a redelivery beyond the dedup horizon)
        size = _size(change)
        changes.insert(index, change)
        day_bytes = self._day_bytes.get(day, 0) + size
        gone: list[LinkChange] = []  # the day's largest, past its caps: the same selection in any order
        while len(changes) > limits.changes_per_day or day_bytes > MAX_DAY_BYTES:
            gone.append(changes.pop())
            day_bytes -= _size(gone[-1])
        total = self.pending_bytes + size - sum(_size(c) for c in gone)
        if total > MAX_PENDING_BYTES:  # the open days together are full: refuse it, keep the rest as it was
            del changes[index]
            changes.extend(reversed(gone))
            if not changes:
                del self.pending[day]
            on_capped(BACKLOG)
            return
        for _ in gone:
            on_capped(CHANGES_PER_DAY)
        if changes:
            self._day_bytes[day] = day_bytes
        else:
            del self.pending[day]
            self._day_bytes.pop(day, None)
        self.pending_bytes = total

    def close(self, day: int, limits: LinkLimits = DEFAULT_LIMITS, on_capped: Capped = _ignore) -> None:
        """Apply the changes of every open day up to `day`, in event order."""
        due_days = sorted(d for d in self.pending if d <= day)
        if not due_days:
            return
        self._blob = None
        members = self.members
        for due_day in due_days:
            self._day_bytes.pop(due_day, None)
            for change in self.pending.pop(due_day):
                self.pending_bytes -= _size(change)
                size = _TEXT.size + len(change.other.encode())
                if change.connects:
                    if change.other in members:
                        continue
                    if len(members) >= limits.connections or self.member_bytes + size > MAX_CONNECTION_BYTES:
                        on_capped(CONNECTIONS)
                        continue
                    members.add(change.other)
                    self.member_bytes += size
                    self._member_blob = None
                elif change.other in members:
                    members.discard(change.other)
                    self.member_bytes -= size
                    self._member_blob = None

    def to_bytes(self) -> bytes:
        """The compact form: connections sorted, then the pending changes by day and order."""
        if not self.members and not self.pending:
            return b""
        whole = self._blob
        if whole is None:
            whole = self._blob = self._encode()
        return whole

    def _encode(self) -> bytes:
        blob = self._member_blob
        if blob is None:
            written = bytearray()
            for member in sorted(self.members):
                _put_text(written, member)
            blob = self._member_blob = bytes(written)
        if not self.pending:
            return _COUNTS.pack(len(self.members), 0) + blob
        out = bytearray(_COUNTS.pack(len(self.members), self.pending_count()))
        out += blob
        for day in sorted(self.pending):
            for change in self.pending[day]:
                out += _CHANGE.pack(change.day, change.occurred_at, change.connects)
                _put_text(out, change.event_id)
                _put_text(out, change.other)
        return bytes(out)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Connections:
        if not raw:
            return cls()
        count, pending = _COUNTS.unpack_from(raw)
        at = _COUNTS.size
        members = set()
        text_length, size = _TEXT.unpack_from, len(raw)
        for _ in range(count):  # `_get_text`, inlined: a hub has thousands
            (length,) = text_length(raw, at)
            start = at + _TEXT.size
            at = start + length
            if at > size:
                raise ValueError("connections: truncated")
            members.add(raw[start:at].decode())
        members_end = at
        changes: dict[int, list[LinkChange]] = {}
        for _ in range(pending):
            day, occurred_at, connects = _CHANGE.unpack_from(raw, at)
            event_id, at = _get_text(raw, at + _CHANGE.size)
            other, at = _get_text(raw, at)
            insort(changes.setdefault(day, []), LinkChange(day, occurred_at, event_id, other, bool(connects)))
        if at != len(raw):
            raise ValueError(f"connections: {len(raw) - at} bytes left over")
        # the encoded sizes are the caps' measure: known here without encoding every id again
        decoded = cls(members, changes, members_end - _COUNTS.size, at - members_end)
        if len(members) == count:  # no id twice: the members as written are what to_bytes writes
            decoded._member_blob = bytes(raw[_COUNTS.size : members_end])
        return decoded


def _size(change: LinkChange) -> int:
    return _CHANGE.size + 2 * _TEXT.size + len(change.event_id.encode()) + len(change.other.encode())


def _put_text(out: bytearray, text: str) -> None:
    encoded = text.encode()
    out += _TEXT.pack(len(encoded)) + encoded


def _get_text(raw: bytes, at: int) -> tuple[str, int]:
    (length,) = _TEXT.unpack_from(raw, at)
    start = at + _TEXT.size
    if start + length > len(raw):
        raise ValueError("connections: truncated")
    return raw[start : start + length].decode(), start + length
