"""`ssi-stream replay`: score a JSON-lines event log offline with exactly the code the stream uses."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import orjson

from ssi_stream.scoring.model import Model
from ssi_stream.timeline.offline import OfflineScorer, ReplayStats
from ssi_stream.timeline.policy import TimelineSettings

_NEWLINE = orjson.OPT_APPEND_NEWLINE


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
    dead_letters: IO[bytes] | None = None,
    alerts: IO[bytes] | None = None,
    progress: IO[str] | None = None,
    source_name: str | None = None,
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

    scorer = OfflineScorer(
        model,
        timeline=timeline,
        now=now,
        on_dead_letter=write_dead_letter,
        on_alert=write_alert,
        source_name=source_name,
    )
    started = time.perf_counter()
    next_report = started + 0.5
    for number, line in enumerate(events, start=1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue  # blank lines are not events
        for record in scorer.feed(raw, number):
            output.write(dumps(record, option=_NEWLINE))
        if progress is not None and number % 2048 == 0 and time.perf_counter() >= next_report:
            next_report = time.perf_counter() + 0.5
            rate = number / (time.perf_counter() - started)
            progress.write(
                f"\rreplay: {number:,} lines, {len(scorer.members):,} members, {rate:,.0f} events/s"
            )
            progress.flush()
    for record in scorer.finish():
        output.write(dumps(record, option=_NEWLINE))
    if progress is not None:
        progress.write("\r" + " " * 79 + "\r")
    return ReplayResult(scorer.stats, len(scorer.members), time.perf_counter() - started)


def replay_file(
    events_path: Path,
    *,
    output_path: Path | None,
    dlq_path: Path | None,
    model: Model,
    alerts_path: Path | None = None,
    timeline: TimelineSettings,
    now: datetime,
) -> ReplayResult:
    """`replay_log` on files (stdout when `output_path` is None); progress on a terminal's stderr."""
    progress = sys.stderr if sys.stderr.isatty() else None
    with open(events_path, "rb") as events:
        output = open(output_path, "wb") if output_path else sys.stdout.buffer  # noqa: SIM115
        dlq = open(dlq_path, "wb") if dlq_path else None  # noqa: SIM115
        alerts = open(alerts_path, "wb") if alerts_path else None  # noqa: SIM115
        try:
            return replay_log(
                events,
                output,
                model=model,
                timeline=timeline,
                now=now,
                dead_letters=dlq,
                alerts=alerts,
                progress=progress,
                source_name=str(events_path),
            )
        finally:
            if output_path:
                output.close()
            else:
                output.flush()
            if dlq is not None:
                dlq.close()
            if alerts is not None:
                alerts.close()
