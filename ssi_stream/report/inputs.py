"""What the report reads: a file of score records, or an event log it replays with the engine, or the
values of the scores topic (`LineSource` says how to name them; `ops.topic_snapshot` reads them).

All are JSON lines; the first line that is not blank says which (a score record has `ssi` and `date`,
an event `type` and `event_id`). An event log is scored by `replay.Replay`, the same engine and settings
as `ssi-stream replay`, and also gives each member's own activity (`activity.ActivityCounter`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import IO

import orjson

from ssi_stream.replay import BATCH_LINES, Replay
from ssi_stream.report.activity import ActivityCounter
from ssi_stream.report.scores import ScoreTable, ScoreTableBuilder
from ssi_stream.timeline.days import iso_date

_PROGRESS_SECONDS = 0.5


class InputError(ValueError):
    """A line the report cannot use: names the line and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class LineSource:
    """Where the lines come from, as the report's messages name it: a file's lines by number, a topic's
    values by where the last one read is (`locate` is asked about the line just read)."""

    #: What a line is, in the progress and the summary ("lines", "records of ssi.scores.daily").
    unit: str = "lines"
    #: How many lines there are at most, when known beforehand (a topic's snapshot): shown in the progress.
    total: int | None = None
    #: Names line `number` in an error message.
    locate: Callable[[int], str] = "line {}".format
    #: Whether an event log may come this way (else its first event is refused: score records only).
    events: bool = True


#: A file (or stdin): lines by number, score records or an event log.
FILE = LineSource()


@dataclass(frozen=True, slots=True)
class ReadSummary:
    kind: str  # "records" or "events"
    lines: int
    records: int
    members: int
    seconds: float
    unit: str = "lines"

    def text(self) -> str:
        what = "events replayed into" if self.kind == "events" else f"{self.unit},"
        return (
            f"report: {self.lines:,} {what} {self.records:,} score records of {self.members:,} members"
            f" read in {self.seconds:.1f} s"
        )


def kind_of(first: object, where: str = "line 1") -> str:
    """ "records" or "events", from the first parsed line (`where` names it); InputError for anything else."""
    if isinstance(first, dict) and "ssi" in first and "date" in first and "member_id" in first:
        return "records"
    if isinstance(first, dict) and "type" in first and "event_id" in first:
        return "events"
    raise InputError(f"{where} is neither a score record (ssi, date) nor an event (type, event_id)")


def read_scores(
    lines: Iterable[bytes],
    *,
    replay: Callable[[], Replay],
    activity: ActivityCounter | None = None,
    progress: IO[str] | None = None,
    source: LineSource = FILE,
) -> tuple[ScoreTable, ReadSummary]:
    """The score table of `lines` (records, or events scored with `replay()`); an event log's activity
    goes to `activity` as well. `source` names the lines in messages and says whether events may come."""
    started = time.perf_counter()
    builder = ScoreTableBuilder()
    numbered = enumerate(lines, start=1)
    kind, first = None, None
    for number, line in numbered:
        if line.strip():
            try:
                kind = kind_of(orjson.loads(line), source.locate(number))
            except orjson.JSONDecodeError:
                raise InputError(f"{source.locate(number)} is not JSON") from None
            if kind == "events" and not source.events:
                raise InputError(f"{source.locate(number)} is an event, not a score record")
            first = (number, line)
            break
    if kind is None or first is None:
        raise InputError("the input is empty")
    ticker = _Progress(progress, builder, source)
    rest = chain([first], numbered)
    if kind == "records":
        last = _read_records(rest, builder, ticker, source.locate)
    else:
        last = _read_events(rest, builder, replay(), activity, ticker)
    ticker.done()
    try:
        table = builder.build()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    seconds = time.perf_counter() - started
    return table, ReadSummary(kind, last, builder.records, len(table.member_ids), seconds, source.unit)


class _Progress:
    """A line on `stream` (a terminal) every half second: how far the reading is."""

    def __init__(self, stream: IO[str] | None, builder: ScoreTableBuilder, source: LineSource) -> None:
        self.stream, self.builder = stream, builder
        self.of = "" if source.total is None else f" of {source.total:,}"
        self.unit = source.unit
        self.next = time.perf_counter() + _PROGRESS_SECONDS
        self.width = 0

    def tick(self, number: int) -> None:
        if self.stream is not None and time.perf_counter() >= self.next:
            self.next = time.perf_counter() + _PROGRESS_SECONDS
            line = f"report: {number:,}{self.of} {self.unit} read, {self.builder.records:,} score records"
            self.width = max(self.width, len(line))
            self.stream.write("\r" + line)
            self.stream.flush()

    def done(self) -> None:
        if self.stream is not None and self.width:
            self.stream.write("\r" + " " * self.width + "\r")


def _read_records(
    numbered: Iterable[tuple[int, bytes]],
    builder: ScoreTableBuilder,
    ticker: _Progress,
    locate: Callable[[int], str],
) -> int:
    loads, add = orjson.loads, builder.add
    number = 0
    for number, line in numbered:
        try:
            add(loads(line))  # JSON allows the line's end, \n or \r\n, as whitespace
        except orjson.JSONDecodeError:
            if line.strip():
                raise InputError(f"{locate(number)} is not JSON") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{locate(number)} is not a score record (schema version 2): {exc!r}") from None
        if not number & 4095:
            ticker.tick(number)
    return number


def _read_events(
    numbered: Iterable[tuple[int, bytes]],
    builder: ScoreTableBuilder,
    scorer: Replay,
    activity: ActivityCounter | None,
    ticker: _Progress,
) -> int:
    loads = orjson.loads
    batch: list[tuple[int, bytes]] = []
    number = 0
    for number, line in numbered:
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue  # blank lines are not events
        batch.append((number, raw))
        if activity is not None:
            try:  # noqa: SIM105 - contextlib.suppress costs about as much as the parse
                activity.add(loads(raw))
            except orjson.JSONDecodeError:
                pass  # a broken payload: the replay dead-letters it
        if len(batch) >= BATCH_LINES:
            builder.add_all(scorer.feed(batch))
            batch = []
            ticker.tick(number)
    builder.add_all(scorer.feed(batch) + scorer.finish())
    return number


def read_activity(
    lines: Iterable[bytes], activity: ActivityCounter, days: tuple[int, int] | None = None
) -> int:
    """Count an event log's own activity (for a report over records); the number of lines read.

    With `days` (first, last), a line whose `occurred_at` is written on a date more than a day outside
    them (a timestamp's offset moves its UTC day by one at most) is passed over without being parsed:
    the report asks only about the days before its anchors."""
    count = 0
    loads = orjson.loads
    wanted = None
    if days is not None:
        wanted = {iso_date(day).encode() for day in range(days[0] - 1, days[1] + 2)}
    find = _OCCURRED_ON.findall
    for line in lines:
        count += 1
        if wanted is not None:
            dates = find(line)
            if len(dates) == 1 and dates[0] not in wanted:
                continue  # one occurred_at, on a date the report does not ask about
        if line.strip():
            try:  # noqa: SIM105 - contextlib.suppress costs about as much as the parse
                activity.add(loads(line))
            except orjson.JSONDecodeError:
                pass
    return count


#: The date an `occurred_at` member is written with, as bytes (a key can only be written with its quotes
#: unescaped; a line where the pattern is not found once is parsed in full).
_OCCURRED_ON = re.compile(rb'"occurred_at"\s*:\s*"([0-9]{4}-[0-9]{2}-[0-9]{2})')
