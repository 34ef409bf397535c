"""When a target partition may close a day: when every source partition has finished it.

Each source partition sends its `SourceMark` to every target partition after its effects, so
when a target has a source's mark it already has all that source's effects for the days the mark
declares complete. A target closes day `d` once every active source has declared `d` complete;
idle sources do not hold days open, and when every source is idle the target closes through the
newest day any of them has seen (the end of the input, for replay).

A closed day is ranked before the next one closes: the gate also holds the index of the day shares the
target has received (`ranking.exchange.ShareIndex`), the last day it ranked, and the first day it closed.
Targets may start closing on different days (a source that was idle before placing anything can lower
its first day after some targets started); a target answers a share for a day before its own first
close with an empty stand-in, so the target that did close it is not kept waiting.
"""

from __future__ import annotations

from enum import Enum

import orjson

from ssi_stream.ranking.exchange import DayShare, ShareIndex
from ssi_stream.timeline.source_clock import SourceMark


class Receipt(Enum):
    """What a target does with a day share it received."""

    STORE = "store"  # a new part of a day still to rank
    SKIP = "skip"  # held already, or for a day ranked already
    ANSWER = "answer"  # for a day this target never closed: send a stand-in so the sender can rank


class CloseGate:
    """Source progress as one target partition knows it, and the days it may close."""

    __slots__ = (
        "closed_through",
        "dropping",
        "expected_sources",
        "first_closed",
        "marks",
        "ranked_through",
        "shares",
    )

    def __init__(self, expected_sources: int | None = None) -> None:
        #: With a number, a source that never reported holds every day open (the stream);
        #: with None, only sources that reported count (replay, which knows no others exist yet).
        self.expected_sources = expected_sources
        self.marks: dict[int, SourceMark] = {}
        self.closed_through: int | None = None
        #: The last day whose records were emitted with their ranks.
        self.ranked_through: int | None = None
        #: The first day this target closed: it never shares a day before it (see `receive`).
        self.first_closed: int | None = None
        self.shares = ShareIndex()
        #: (day, source, part) of share parts no longer needed, until their deletion is delivered.
        self.dropping: list[tuple[int, int, int]] = []

    @property
    def first_day(self) -> int | None:
        """The earliest day any source placed an effect in: where the target starts closing.

        While every source is active, every target sees the same value when it first closes: a source
        can still lower its first day only to a day after its closable day, and closing waits for every
        source's closable day. A source idle before its first event does not hold days open, so targets
        may then start on different days (see `receive`).
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

    def receive(self, share: DayShare) -> Receipt:
        """Note a day share part that arrived and say what to do with it."""
        if self.first_closed is not None and share.day < self.first_closed:
            # never closed here: answer a real share (not a stand-in: two stand-ins would echo forever),
            # once per source (its part 0)
            return Receipt.ANSWER if share.closed and share.part == 0 else Receipt.SKIP
        if self.ranked_through is not None and share.day <= self.ranked_through:
            return Receipt.SKIP  # a redelivery, or a share sent again after a crash
        return Receipt.STORE if self.shares.note(share) else Receipt.SKIP

    def next_step(self, sources: int) -> tuple[str, int] | None:
        """("rank", day) once every source's share of the closed day is in, else ("close", day) for the
        next day the marks allow, else None."""
        day = self.day_to_rank()
        if day is not None:
            return ("rank", day) if self.shares.complete(day, sources) else None
        days = self.days_to_close()
        return ("close", days.start) if days else None

    def skipped_days(self, day: int) -> list[int]:
        """Days before `day` other targets shared, which this one will never close if `day` is its first
        close: answer each with a stand-in before calling `closed(day)`."""
        if self.first_closed is not None:
            return []
        return sorted(held for held in self.shares.received if held < day)

    def closed(self, day: int) -> None:
        """Record that `day` closed (its shares, and stand-ins for `skipped_days`, are delivered)."""
        skipped = self.skipped_days(day)
        if skipped:
            self.dropping += self.shares.forget_through(skipped[-1])
        self.closed_through = day
        if self.first_closed is None:
            self.first_closed = day

    def ranked(self, day: int) -> None:
        """Record that `day`'s records are delivered: its share parts may go (see `dropping`)."""
        self.ranked_through = day
        self.dropping += self.shares.forget_through(day)

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
                "first_closed": self.first_closed,
                "shares": self.shares.to_json(),
                "dropping": [list(entry) for entry in self.dropping],
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
        if "ranked_through" in stored:
            gate.ranked_through = stored["ranked_through"]
            gate.first_closed = stored.get("first_closed")
        else:
            # Stored before ranking existed: every day it closed was emitted. Its first ranked close is
            # the next day; other targets may be a day behind (they close it after the upgrade, and this
            # one answers their share with a stand-in).
            gate.ranked_through = gate.closed_through
            gate.first_closed = None if gate.closed_through is None else gate.closed_through + 1
        gate.shares = ShareIndex.from_json(stored.get("shares", ()))
        gate.dropping = [(day, source, part) for day, source, part in stored.get("dropping", ())]
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
