"""`ssi-stream replay`: score a JSON-lines event log offline with the engine the stream runs.

The second driver of `ssi_stream.engine` (the Faust worker is the first): the log is read in batches, the
source side places each event on the partition its member id hashes to (as a producer keyed by member id
would), and every partition's target side takes its messages in the order a consumer of that partition
would see them. Steps are delivered at once (nothing to wait for in memory), so replay makes every
decision the stream makes, with the same code; records come out sorted by date, then member.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import orjson

from ssi_stream.catalog import record_texts
from ssi_stream.engine import (
    MemorySourceStore,
    MemoryTargetStore,
    NullObserver,
    RawEvent,
    SourceSide,
    Step,
    TargetSide,
)
from ssi_stream.engine.messages import TargetMessage
from ssi_stream.events.limits import DEFAULT_LIMITS, DecodeLimits
from ssi_stream.events.rejection import RejectionCode
from ssi_stream.ledger.member_ledger import MemberLedger
from ssi_stream.scoring.model import Model
from ssi_stream.timeline.days import day_from_iso
from ssi_stream.timeline.policy import TimelineSettings

Record = dict[str, Any]
_NEWLINE = orjson.OPT_APPEND_NEWLINE
#: Lines placed per batch: large enough to amortise the steps, small enough to keep few days in memory.
BATCH_LINES = 2048


@dataclass(slots=True)
class ReplayStats(NullObserver):
    """What a replay saw: the summary printed at the end (the engine's observer: what it does not count
    is `NullObserver`'s)."""

    events_read: int = 0
    rejected: int = 0
    duplicates: int = 0
    late: int = 0
    days: int = 0
    records: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    #: line -> (an effect counted, an effect late), for the lines of the batch being absorbed
    _lines: dict[int, list[bool]] = field(default_factory=dict)
    _days: set[int] = field(default_factory=set)

    def event_rejected(self, code: RejectionCode, payload: bytes) -> None:
        self.rejected += 1
        self.rejected_by_reason[code] = self.rejected_by_reason.get(code, 0) + 1

    def effect_absorbed(self, *, counted: bool, late: bool, origin: int | None = None) -> None:
        if origin is None:
            return
        seen = self._lines.get(origin)
        if seen is None:
            self._lines[origin] = [counted, late]
        else:
            seen[0] |= counted
            seen[1] |= late

    def late_redelivery(self) -> None:
        self.duplicates += 1  # its line was counted as late when it was deferred
        self.late = max(0, self.late - 1)

    def quarantined(self, problem: str) -> None:
        raise AssertionError(f"replay's in-memory ledgers are always readable ({problem})")

    def day_closed(self, day: int, *, records: int, seconds: float) -> None:
        self._days.add(day)
        self.days = len(self._days)

    def score_emitted(self, record: Mapping[str, Any]) -> None:
        self.records += 1

    def settle_lines(self) -> None:
        """Count the absorbed lines: a duplicate if none of its effects counted, else late if one was."""
        for counted, late in self._lines.values():
            if not counted:
                self.duplicates += 1
            elif late:
                self.late += 1
        self._lines.clear()


class Replay:
    """Feed it numbered raw event lines in log order; it returns daily score records as days are ranked."""

    def __init__(
        self,
        model: Model,
        *,
        timeline: TimelineSettings | None = None,
        limits: DecodeLimits | None = None,
        now: datetime,
        on_dead_letter: Callable[[Record], None] = lambda record: None,
        on_alert: Callable[[Record], None] = lambda record: None,
        source_name: str | None = None,
        explain: str | None = None,
    ) -> None:
        """`explain`: a locale (`catalog.LOCALES`) to add each record's texts in, as `texts`."""
        self.timeline = timeline = timeline or TimelineSettings()
        self.model = model
        self.explain = explain
        self.now = now
        self.on_dead_letter = on_dead_letter
        self.on_alert = on_alert
        self.stats = ReplayStats()
        self.source = SourceSide(
            timeline,
            MemorySourceStore(),
            limits=limits or DEFAULT_LIMITS,
            observer=self.stats,
            origin_name=source_name,
        )
        self.stores = [MemoryTargetStore() for _ in range(timeline.partitions)]
        self.targets = [
            TargetSide(number, model, timeline, store, observer=self.stats)
            for number, store in enumerate(self.stores)
        ]
        self._inboxes: list[deque[TargetMessage]] = [deque() for _ in self.targets]
        self._days: dict[str, tuple[list[tuple[str, Record]], list[tuple[str, Record]]]] = {}

    @property
    def member_count(self) -> int:
        return sum(target.member_count() for target in self.targets)

    def ledger(self, member_id: str) -> MemberLedger | None:
        """The member's ledger as replay holds it now (None: never touched)."""
        return self.stores[self.source.partition_of(member_id)].ledger(member_id)

    def ledgers(self) -> Iterator[tuple[str, MemberLedger]]:
        """Every member's ledger, partition by partition."""
        for store in self.stores:
            yield from store.ledgers.items()

    def feed(self, lines: Iterable[tuple[int, bytes]]) -> list[Record]:
        """Score a batch of (1-based line number, raw event) pairs; return the records of the days every
        partition has ranked since."""
        batch = [RawEvent(raw, line=number) for number, raw in lines]
        self.stats.events_read += len(batch)
        for step in self.source.place(batch, self.now):
            self._deliver(step)
        self._pump()
        self.stats.settle_lines()
        return self._ranked_records()

    def finish(self) -> list[Record]:
        """The end of the log: every source goes idle, so every day seen closes and is ranked."""
        for source in range(self.timeline.partitions):
            step = self.source.idle_mark(source)
            if step is not None:
                self._deliver(step)
        self._pump()
        self.stats.settle_lines()
        return self._ranked_records(everything=True)

    def _pump(self) -> None:
        """Let every partition take its inbox until no message is left anywhere."""
        inboxes = self._inboxes
        while any(inboxes):
            for target, inbox in zip(self.targets, inboxes, strict=True):
                if not inbox:
                    continue
                batch = list(inbox)
                inbox.clear()
                for step in target.take(batch):
                    self._deliver(step)
                self._deliver(target.drain())

    def _deliver(self, step: Step) -> None:
        for destination, message in step.to_targets:
            self._inboxes[destination].append(message)
        for _, record in step.dead_letters:
            self.on_dead_letter(record)
        for member_id, record in step.records:
            if self.explain is not None:  # the member's ledger holds the state the record was scored from
                ledger = self.ledger(member_id)
                assert ledger is not None
                record = {**record, "texts": record_texts(record, ledger.state, self.model, self.explain)}
            self._day(record["date"])[0].append((member_id, record))
        for member_id, alert in step.alerts:
            self._day(alert["date"])[1].append((member_id, alert))

    def _day(self, date: str) -> tuple[list[tuple[str, Record]], list[tuple[str, Record]]]:
        held = self._days.get(date)
        if held is None:
            held = self._days[date] = ([], [])
        return held

    def _ranked_records(self, everything: bool = False) -> list[Record]:
        """The records of the days every partition has ranked, by date then member; their alerts go out."""
        if not self._days:
            return []
        if everything:
            ready = sorted(self._days)
        else:
            ranked = [target.gate.ranked_through for target in self.targets]
            if any(day is None for day in ranked):
                return []
            through = min(day for day in ranked if day is not None)
            ready = sorted(date for date in self._days if day_from_iso(date) <= through)
        out: list[Record] = []
        for date in ready:
            records, alerts = self._days.pop(date)
            records.sort(key=lambda entry: entry[0])
            out.extend(record for _, record in records)
            alerts.sort(key=lambda entry: entry[0])  # stable: a member's alerts keep their order
            for _, alert in alerts:
                self.on_alert(alert)
        return out


@dataclass(frozen=True, slots=True)
class ReplayResult:
    stats: ReplayStats
    members: int
    seconds: float

    def summary(self) -> str:
        stats = self.stats
        rate = stats.events_read / self.seconds if self.seconds > 0 else 0.0
        reasons = ", ".join(f"{code} {count}" for code, count in sorted(stats.rejected_by_reason.items()))
        return (
            f"replay: {stats.events_read} events read, {stats.rejected} rejected"
            + (f" ({reasons})" if reasons else "")
            + f", {stats.duplicates} duplicates, {stats.late} late; "
            f"{self.members} members, {stats.days} days, {stats.records} score records; "
            f"{self.seconds:.1f} s, {rate:,.0f} events/s"
        )


def replay_log(
    events: IO[bytes],
    output: IO[bytes],
    *,
    model: Model,
    timeline: TimelineSettings,
    now: datetime,
    limits: DecodeLimits | None = None,
    dead_letters: IO[bytes] | None = None,
    alerts: IO[bytes] | None = None,
    progress: IO[str] | None = None,
    source_name: str | None = None,
    explain: str | None = None,
) -> ReplayResult:
    """Read `events` line by line, write daily score records to `output` (sorted by date, member), and
    the alerts they raise to `alerts` (what the stream sends to its alerts topic)."""
    dumps = orjson.dumps

    def write_dead_letter(record: dict) -> None:
        if dead_letters is not None:
            dead_letters.write(dumps(record, option=_NEWLINE))

    def write_alert(record: dict) -> None:
        if alerts is not None:
            alerts.write(dumps(record, option=_NEWLINE))

    replay = Replay(
        model,
        timeline=timeline,
        limits=limits,
        now=now,
        on_dead_letter=write_dead_letter,
        on_alert=write_alert,
        source_name=source_name,
        explain=explain,
    )
    started = time.perf_counter()
    next_report = started + 0.5
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(events, start=1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue  # blank lines are not events
        batch.append((number, raw))
        if len(batch) < BATCH_LINES:
            continue
        for record in replay.feed(batch):
            output.write(dumps(record, option=_NEWLINE))
        batch = []
        if progress is not None and time.perf_counter() >= next_report:
            next_report = time.perf_counter() + 0.5
            rate = number / (time.perf_counter() - started)
            progress.write(
                f"\rreplay: {number:,} lines, {replay.member_count:,} members, {rate:,.0f} events/s"
            )
            progress.flush()
    for record in replay.feed(batch) + replay.finish():
        output.write(dumps(record, option=_NEWLINE))
    if progress is not None:
        progress.write("\r" + " " * 79 + "\r")
    return ReplayResult(replay.stats, replay.member_count, time.perf_counter() - started)
