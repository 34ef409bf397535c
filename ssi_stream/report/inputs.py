"""What the report reads: a file of score records, or an event log it replays with the engine.

Both are JSON lines; the first line that is not blank says which (a score record has `ssi` and `date`,
an event `type` and `event_id`). An event log is scored by `replay.Replay`, the same engine and settings
as `ssi-stream replay`, and also gives each member's own activity (`activity.ActivityCounter`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

import orjson

from ssi_stream.replay import BATCH_LINES, Replay
from ssi_stream.report.activity import ActivityCounter
from ssi_stream.report.scores import ScoreTable, ScoreTableBuilder

_PROGRESS_SECONDS = 0.5


class InputError(ValueError):
    """A line the report cannot use: names the line and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class ReadSummary:
    kind: str  # "records" or "events"
    lines: int
    records: int
    members: int
    seconds: float

    def text(self) -> str:
        what = "events replayed into" if self.kind == "events" else "lines,"
        return (
            f"report: {self.lines:,} {what} {self.records:,} score records of {self.members:,} members"
            f" read in {self.seconds:.1f} s"
        )


def kind_of(first: object) -> str:
    """ "records" or "events", from the first parsed line; InputError for anything else."""
    if isinstance(first, dict) and "ssi" in first and "date" in first and "member_id" in first:
        return "records"
    if isinstance(first, dict) and "type" in first and "event_id" in first:
        return "events"
    raise InputError("line 1 is neither a score record (ssi, date) nor an event (type, event_id)")


def read_scores(
    lines: Iterable[bytes],
    *,
    replay: Callable[[], Replay],
    activity: ActivityCounter | None = None,
    progress: IO[str] | None = None,
) -> tuple[ScoreTable, ReadSummary]:
    """The score table of `lines` (records, or events scored with `replay()`); an event log's activity
    goes to `activity` as well."""
    started = time.perf_counter()
    builder = ScoreTableBuilder()
    next_report = started + _PROGRESS_SECONDS
    kind = None
    scorer: Replay | None = None
    batch: list[tuple[int, bytes]] = []
    number = 0
    loads = orjson.loads
    for number, line in enumerate(lines, start=1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue
        if kind is None:
            try:
                kind = kind_of(loads(raw))
            except orjson.JSONDecodeError:
                raise InputError(f"line {number} is not JSON") from None
            if kind == "events":
                scorer = replay()
        if scorer is not None:
            batch.append((number, raw))
            if activity is not None:
                try:  # noqa: SIM105 - contextlib.suppress costs about as much as the parse
                    activity.add(loads(raw))
                except orjson.JSONDecodeError:
                    pass  # a broken payload: the replay dead-letters it
            if len(batch) >= BATCH_LINES:
                builder.add_all(scorer.feed(batch))
                batch = []
        else:
            try:
                builder.add(loads(raw))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InputError(f"line {number} is not a score record (schema version 2): {exc!r}") from None
        if progress is not None and time.perf_counter() >= next_report:
            next_report = time.perf_counter() + _PROGRESS_SECONDS
            progress.write(f"\rreport: {number:,} lines read, {builder.records:,} score records")
            progress.flush()
    if scorer is not None:
        builder.add_all(scorer.feed(batch) + scorer.finish())
    if progress is not None:
        progress.write("\r" + " " * 79 + "\r")
    if kind is None:
        raise InputError("the input is empty")
    try:
        table = builder.build()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    seconds = time.perf_counter() - started
    return table, ReadSummary(kind, number, builder.records, len(table.member_ids), seconds)


def read_activity(lines: Iterable[bytes], activity: ActivityCounter) -> int:
    """Count an event log's own activity (for a report over records); the number of lines read."""
    count = 0
    loads = orjson.loads
    for line in lines:
        count += 1
        if line.strip():
            try:  # noqa: SIM105 - contextlib.suppress costs about as much as the parse
                activity.add(loads(line))
            except orjson.JSONDecodeError:
                pass
    return count
