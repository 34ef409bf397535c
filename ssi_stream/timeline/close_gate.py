"""When a target partition may close a day: when every source partition has finished it.

Each source partition sends its `SourceMark` to every target partition after its effects, so
when a target has a source's mark it already has all that source's effects for the days the mark
declares complete. A target closes day `d` once every active source has declared `d` complete;
idle sources do not hold days open, and when every source is idle the target closes through the
newest day any of them has seen (the end of the input, for replay).

A closed day is ranked before the next one closes: the gate also holds the index of the day shares the
target has received (`ranking.exchange.ShareIndex`) and the last day it ranked.
"""

from __future__ import annotations

import orjson

from ssi_stream.ranking.exchange import ShareIndex
from ssi_stream.timeline.source_clock import SourceMark


class CloseGate:
    """Source progress as one target partition knows it, and the days it may close."""

    __slots__ = ("closed_through", "expected_sources", "marks", "ranked_through", "shares")

    def __init__(self, expected_sources: int | None = None) -> None:
        #: With a number, a source that never reported holds every day open (the stream);
        #: with None, only sources that reported count (replay, which knows no others exist yet).
        self.expected_sources = expected_sources
        self.marks: dict[int, SourceMark] = {}
        self.closed_through: int | None = None
        #: The last day whose records were emitted with their ranks.
        self.ranked_through: int | None = None
        self.shares = ShareIndex()

    @property
    def first_day(self) -> int | None:
        """The earliest day any source placed an effect in: where every target starts closing.

        Every target sees the same value when it first closes: a source can still lower its first day
        only to a day after its closable day, and closing waits for every source's closable day.
        """
        days = [m.first_day for m in self.marks.values() if m.first_day is not None]
        return min(days) if days else None

    def count_day(self, day: int) -> int:
        """The day an effect headed for `day` counts in here: `day`, or the first open day if it closed."""
        if self.closed_through is not None and day <= self.closed_through:
            return self.closed_through + 1
        return day

    def observe(self, mark: SourceMark) -> None:
        """Record a source's mark; a mark older than the one held is ignored."""
        held = self.marks.get(mark.source)
        if held is not None and mark.offset < held.offset:
            return
        if held is not None:
            mark = SourceMark(
                mark.source,
                _max(held.closable, mark.closable),
                _max(held.top_day, mark.top_day),
                mark.idle,
                mark.offset,
                _min(held.first_day, mark.first_day),
            )
        self.marks[mark.source] = mark

    def closable(self) -> int | None:
        """The last day every member of this target may be closed through, or None."""
        if self.expected_sources is not None and len(self.marks) < self.expected_sources:
            return None
        active = [m.closable for m in self.marks.values() if not m.idle]
        if any(c is None for c in active):
            return None
        if active:
            return min(active)  # type: ignore[type-var]
        tops = [m.top_day for m in self.marks.values() if m.top_day is not None]
        return max(tops) if tops else None

    def day_to_rank(self) -> int | None:
        """The closed day still waiting for its ranks, if any."""
        return None if self.closed_through == self.ranked_through else self.closed_through

    def wants_share(self, day: int) -> bool:
        """False for a share of a day ranked already (a redelivery, or a re-sent share after a crash)."""
        return self.ranked_through is None or day > self.ranked_through

    def days_to_close(self) -> range:
        """Days that may close now and have not: in increasing order; none while a day awaits its ranks."""
        through = self.closable()
        if through is None or self.day_to_rank() is not None:
            return range(0)
        if self.closed_through is not None:
            return range(self.closed_through + 1, through + 1)
        first = self.first_day
        if first is None:
            return range(0)  # no source placed anything yet, so nothing to close
        return range(first, through + 1)

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "expected": self.expected_sources,
                "closed_through": self.closed_through,
                "ranked_through": self.ranked_through,
                "shares": self.shares.to_json(),
                "marks": [
                    [m.source, m.closable, m.top_day, m.idle, m.offset, m.first_day]
                    for m in self.marks.values()
                ],
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloseGate:
        stored = orjson.loads(raw)
        gate = cls(stored["expected"])
        gate.closed_through = stored["closed_through"]
        # a gate stored before ranking existed had emitted every day it closed
        gate.ranked_through = stored.get("ranked_through", gate.closed_through)
        gate.shares = ShareIndex.from_json(stored.get("shares", ()))
        for source, closable, top_day, idle, offset, first_day in stored["marks"]:
            gate.marks[source] = SourceMark(source, closable, top_day, idle, offset, first_day)
        return gate


def _min(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
