"""The event-time clock of one input partition: which day each event counts in, and which days are done.

A partition's watermark `W` is the greatest event time it has shown so far. A day `d` is *closable*
once `W` passes its end plus the grace period; an event whose own day is already closable when it
is read is *late*: it is never dropped, it counts in the first day that is not closable yet.

Every decision depends only on the order of events within the partition, so replay (which sees each
partition's events in the same order) decides exactly as the stream does. To stay exact across a
worker restart, the clock keeps a few checkpoints — `(offset, W)` whenever the closable day or the
top day changes — and places an event re-read after a restart with the clock as it was before that
offset, not as it was when the worker died.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import orjson

from ssi_stream.timeline.days import SECONDS_PER_DAY, day_of

#: Checkpoints kept: each is one change of day, so this covers many days of uncommitted input.
MAX_CHECKPOINTS = 32


class Placement(msgspec.Struct, frozen=True, gc=False):
    """Where an event counts: `day` (its own; for a late event, the first open day) and if it was late.

    A msgspec Struct (one per event on the hot path: ~0.1 µs to build, a frozen dataclass ~0.35 µs)."""

    day: int
    late: bool


@dataclass(frozen=True, slots=True)
class SourceMark:
    """What a source partition tells every target partition about its progress.

    `closable`: every day ≤ it is complete at this source (None: no event yet); `top_day`: the day
    of its watermark; `idle`: it has had no input for a while, so it should not hold days open;
    `offset`: the input offset it was sent after, so redelivered or stale marks are recognised;
    `first_day`: the earliest day it has placed an effect in (None: none yet), where closing starts.
    """

    source: int
    closable: int | None
    top_day: int | None
    idle: bool
    offset: int
    first_day: int | None = None


class SourceClock:
    """Watermark and lateness of one input partition."""

    __slots__ = ("checkpoints", "first_day", "grace", "mark_offset", "watermark")

    def __init__(
        self,
        grace_seconds: int,
        checkpoints: list[tuple[int, int]] | None = None,
        mark_offset: int = -1,
        first_day: int | None = None,
    ) -> None:
        if grace_seconds < 0:
            raise ValueError(f"grace must be ≥ 0 seconds, got {grace_seconds}")
        self.grace = grace_seconds
        self.checkpoints: list[tuple[int, int]] = list(checkpoints or [])
        self.watermark: int | None = self.checkpoints[-1][1] if self.checkpoints else None
        #: Offset of the newest mark this source sent: an idle mark must not be older than it.
        self.mark_offset = mark_offset
        #: The earliest day an effect was placed in: every target starts closing there.
        self.first_day = first_day

    def closable_through(self, watermark: int | None = None) -> int | None:
        """The last day complete at this source (its end + grace ≤ the watermark)."""
        w = self.watermark if watermark is None else watermark
        if w is None:
            return None
        return (w - self.grace) // SECONDS_PER_DAY - 1

    def top_day(self) -> int | None:
        return None if self.watermark is None else day_of(self.watermark)

    def place(self, occurred_at: int, offset: int) -> tuple[Placement, bool]:
        """Place the event read at `offset`; return its placement and whether the clock's mark changed."""
        if self.checkpoints and offset <= self.checkpoints[-1][0]:
            return self._place_reread(occurred_at, offset), False
        closable = self.closable_through()
        own_day = day_of(occurred_at)
        if closable is not None and own_day <= closable:
            placement = Placement(closable + 1, True)
        else:
            placement = Placement(own_day, False)
        first_day_moved = self.first_day is None or placement.day < self.first_day
        if first_day_moved:
            self.first_day = placement.day
        if self.watermark is None or occurred_at > self.watermark:
            before = (closable, self.top_day())
            self.watermark = occurred_at
            if (self.closable_through(), self.top_day()) != before:
                self.checkpoints.append((offset, occurred_at))
                del self.checkpoints[:-MAX_CHECKPOINTS]
                return placement, True
        return placement, first_day_moved

    def _place_reread(self, occurred_at: int, offset: int) -> Placement:
        """An event at or before the newest checkpoint: a redelivery after a restart."""
        before = [w for o, w in self.checkpoints if o < offset]
        if not before and len(self.checkpoints) == MAX_CHECKPOINTS:
            raise RuntimeError(
                f"offset {offset} is older than every kept checkpoint; "
                "the uncommitted input spans more day changes than MAX_CHECKPOINTS"
            )
        closable = self.closable_through(before[-1]) if before else None
        own_day = day_of(occurred_at)
        if closable is not None and own_day <= closable:
            return Placement(closable + 1, True)
        return Placement(own_day, False)

    def mark(self, source: int, offset: int, *, idle: bool = False) -> SourceMark:
        """This source's mark, sent after the input at `offset` (never older than the previous mark)."""
        self.mark_offset = max(self.mark_offset, offset)
        return SourceMark(
            source, self.closable_through(), self.top_day(), idle, self.mark_offset, self.first_day
        )

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "grace": self.grace,
                "checkpoints": self.checkpoints,
                "mark_offset": self.mark_offset,
                "first_day": self.first_day,
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> SourceClock:
        stored = orjson.loads(raw)
        checkpoints = [(int(o), int(w)) for o, w in stored["checkpoints"]]
        return cls(stored["grace"], checkpoints, stored["mark_offset"], stored["first_day"])
