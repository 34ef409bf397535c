"""A member's connections as of their last closed day: the group their network rank compares them with.

Connection effects (`INVITE_ACCEPTED_BY_ME`, `MY_INVITE_ACCEPTED`, `CONNECTION_REMOVED`) carry the other
member's id. Like every effect they count in an open day and take effect when that day closes; within a
day they apply in the order of their events' (occurred_at, event_id), which both members of a pair see
alike, so the two sides of a connection agree on every closed day.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ssi_stream.scoring.effects import Effect, EffectKind

#: Bytes of connection ids kept per member (UTF-8 + 2 each: 10,000 connections with 24-byte ids), so a
#: ledger stays well under Kafka's 1 MB record limit whatever the ids. A member at the cap gains no more
#: (removals still apply); their new connections still list them, so those see the member's score but
#: not the other way round.
MAX_CONNECTION_BYTES = 256 * 1024
#: Bytes of connection changes pending in open days (a few per day normally); offers past it are dropped.
MAX_PENDING_BYTES = 256 * 1024

#: Effect kinds that change a connection, and whether they connect (True) or disconnect.
LINK_KINDS: dict[EffectKind, bool] = {
    EffectKind.INVITE_ACCEPTED_BY_ME: True,
    EffectKind.MY_INVITE_ACCEPTED: True,
    EffectKind.CONNECTION_REMOVED: False,
}

_COUNTS = struct.Struct("<II")  # connections, pending changes
_TEXT = struct.Struct("<H")
_CHANGE = struct.Struct("<iqB")  # day, occurred_at, connects


@dataclass(frozen=True, slots=True, order=True)
class LinkChange:
    """One pending connect or disconnect, in the open day it counts in."""

    day: int
    occurred_at: int
    event_id: str
    other: str
    connects: bool


@dataclass(slots=True)
class Connections:
    """The member's connections (closed days only) and the changes of their open days."""

    members: set[str] = field(default_factory=set)
    pending: list[LinkChange] = field(default_factory=list)
    #: Encoded bytes of `members` and of `pending` (bounded by the caps above); computed when not given.
    member_bytes: int = field(default=-1, compare=False)
    pending_bytes: int = field(default=-1, compare=False)

    def __post_init__(self) -> None:
        if self.member_bytes < 0:
            self.member_bytes = sum(_TEXT.size + len(m.encode()) for m in self.members)
        if self.pending_bytes < 0:
            self.pending_bytes = sum(_change_bytes(c.event_id, c.other) for c in self.pending)

    def offer(self, effect: Effect, day: int) -> None:
        """Note a connection effect counted in open `day` (other effects are ignored)."""
        connects = LINK_KINDS.get(effect.kind)
        if connects is None or not effect.text or effect.text == effect.member_id:
            return
        event_id = effect.effect_id.rpartition("/")[0] or effect.effect_id  # the same on both sides
        size = _change_bytes(event_id, effect.text)
        if self.pending_bytes + size > MAX_PENDING_BYTES:
            return
        self.pending.append(LinkChange(day, effect.occurred_at, event_id, effect.text, connects))
        self.pending_bytes += size

    def close(self, day: int) -> None:
        """Apply the changes of every open day up to `day`, in event order."""
        due = sorted(change for change in self.pending if change.day <= day)
        if not due:
            return
        self.pending = [change for change in self.pending if change.day > day]
        self.pending_bytes -= sum(_change_bytes(c.event_id, c.other) for c in due)
        for change in due:
            size = _TEXT.size + len(change.other.encode())
            if change.connects:
                if change.other not in self.members and self.member_bytes + size <= MAX_CONNECTION_BYTES:
                    self.members.add(change.other)
                    self.member_bytes += size
            elif change.other in self.members:
                self.members.discard(change.other)
                self.member_bytes -= size

    def to_bytes(self) -> bytes:
        if not self.members and not self.pending:
            return b""
        out = bytearray(_COUNTS.pack(len(self.members), len(self.pending)))
        for member in sorted(self.members):
            _put_text(out, member)
        for change in self.pending:
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
        for _ in range(count):
            member, at = _get_text(raw, at)
            members.add(member)
        members_end = at
        changes = []
        for _ in range(pending):
            day, occurred_at, connects = _CHANGE.unpack_from(raw, at)
            event_id, at = _get_text(raw, at + _CHANGE.size)
            other, at = _get_text(raw, at)
            changes.append(LinkChange(day, occurred_at, event_id, other, bool(connects)))
        if at != len(raw):
            raise ValueError(f"connections: {len(raw) - at} bytes left over")
        # the encoded sizes are the caps' measure: known here without encoding every id again
        return cls(members, changes, members_end - _COUNTS.size, at - members_end)


def _change_bytes(event_id: str, other: str) -> int:
    return _CHANGE.size + 2 * _TEXT.size + len(event_id.encode()) + len(other.encode())


def _put_text(out: bytearray, text: str) -> None:
    encoded = text.encode()
    out += _TEXT.pack(len(encoded)) + encoded


def _get_text(raw: bytes, at: int) -> tuple[str, int]:
    (length,) = _TEXT.unpack_from(raw, at)
    start = at + _TEXT.size
    if start + length > len(raw):
        raise ValueError("connections: truncated")
    return raw[start : start + length].decode(), start + length
