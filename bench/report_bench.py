"""`ssi-stream report` on a simulated population with outcomes: 10,000 members × 120 days by default.

One run measures, on the same files and machine:

  (a) bare `orjson.loads` of every score record line: the floor of reading the records at all, the
      baseline the other rows are compared with;
  (b) `read_scores`: the records into the report's table;
  (c) `read_activity`: the event log's own activity per member (`--events`), the lines of the days the
      report asks about parsed, the others passed over;
  (d) `measure`: observations, every figure and its bootstrap intervals (1,000 resamples);
  (e) `render_html`: the page and its seven plots;
  (f) the command end to end, in a child process:
      `ssi-stream report SCORES --events EVENTS --groups PERSONAS --html ... --json ...`.

The population (`ssi-stream simulate --outcomes`, seed 1) and its score records (`ssi-stream replay`)
are made once and cached under bench/results/outcomes/ (git-ignored); replaying takes long (about 35
minutes for 10,000 members × 120 days on the development machine). A cached run of the same members
and seed over more days serves as well: the simulator and the engine are causal, so the events and the
records of its first N days are those of an N-day run (the last day's records aside, which a longer
run closes as any other day), and they are cut from it.

    .venv/bin/python bench/report_bench.py [--members 10000] [--days 120] [--window 90]
"""

from __future__ import annotations

import argparse
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ssi_stream.report import ActivityCounter, ReportOptions, activity_days, measure
from ssi_stream.report.html import render_html
from ssi_stream.report.inputs import read_activity, read_scores
from ssi_stream.simulation import SimulationConfig

RESULTS = Path(__file__).resolve().parent / "results" / "outcomes"
CLI = [sys.executable, "-m", "ssi_stream.cli"]


def population(members: int, days: int, seed: int) -> tuple[Path, Path, Path]:
    """(events, score records, personas) of the population, made or cut from a longer cached run."""
    name = f"m{members}-d{days}-s{seed}"
    events, scores, personas = (RESULTS / f"{kind}-{name}{suffix}" for kind, suffix in _FILES)
    if scores.exists():
        return events, scores, personas
    RESULTS.mkdir(parents=True, exist_ok=True)
    longer = sorted(
        (int(match.group(1)), path)
        for path in RESULTS.glob(f"scores-m{members}-d*-s{seed}.jsonl")
        if (match := re.search(rf"-d(\d+)-s{seed}\.jsonl$", path.name)) and int(match.group(1)) > days
    )
    if longer:
        _, source = longer[0]
        source_name = source.name.removeprefix("scores-").removesuffix(".jsonl")
        end = SimulationConfig().start + timedelta(days=days)
        _cut(RESULTS / f"events-{source_name}.jsonl", events, lambda e: _event_day(e) < end)
        _cut(source, scores, lambda r: date.fromisoformat(r["date"]) < end)
        personas.write_bytes((RESULTS / f"personas-{source_name}.csv").read_bytes())
        print(f"cut the first {days} days from {source.name}", file=sys.stderr)
        return events, scores, personas
    started = time.perf_counter()
    arguments = ["--members", str(members), "--days", str(days), "--seed", str(seed), "--outcomes"]
    subprocess.run([*CLI, "simulate", *arguments, "--personas", str(personas), "-o", str(events)], check=True)
    partial = scores.with_suffix(".partial")
    subprocess.run([*CLI, "replay", str(events), "--output", str(partial)], check=True)
    partial.rename(scores)
    print(f"made the population in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return events, scores, personas


_FILES = (("events", ".jsonl"), ("scores", ".jsonl"), ("personas", ".csv"))


def _event_day(event: dict[str, Any]) -> date:
    return datetime.fromisoformat(event["occurred_at"]).astimezone(UTC).date()


def _cut(source: Path, target: Path, keep: Callable[[dict[str, Any]], bool]) -> None:
    partial = target.with_suffix(".partial")
    with open(source, "rb") as lines, open(partial, "wb") as out:
        out.writelines(line for line in lines if keep(orjson.loads(line)))
    partial.rename(target)


def parse_all(lines: list[bytes]) -> None:
    """(a): bare `orjson.loads` of every line, each result dropped at once."""
    loads = orjson.loads
    for line in lines:
        loads(line)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window", type=int, default=90)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    events, scores, personas = population(args.members, args.days, args.seed)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    groups = dict(line.split(",", 1) for line in personas.read_text().splitlines()[1:])
    groups = {member: group.strip() for member, group in groups.items()}
    options = ReportOptions(window_days=args.window, resamples=args.resamples, groups=groups)

    # (f) first, in a child: the parent has not read anything yet
    out = RESULTS / "bench-report"
    command = [*CLI, "report", str(scores), "--events", str(events), "--groups", str(personas)]
    command += ["--window", str(args.window), "--html", f"{out}.html", "--json", f"{out}.json"]
    cli_s, run = timed(lambda: subprocess.run(command, capture_output=True, text=True, check=False))
    if run.returncode != 0:
        raise RuntimeError(f"the report failed:\n{run.stderr}")

    lines = scores.read_bytes().splitlines()
    loads_s, _ = timed(lambda: parse_all(lines))
    read_s, (table, summary) = timed(lambda: read_scores(lines, replay=_no_replay))
    activity = ActivityCounter()
    with open(events, "rb") as log:
        days = activity_days(table, options)
        activity_s, event_lines = timed(lambda: read_activity(log, activity, days))
    measure_s, report = timed(lambda: measure(table, options, activity))
    html_s, page = timed(lambda: render_html(report))

    print(
        f"population: {args.members:,} members × {args.days} days, seed {args.seed}: {len(lines):,} score "
        f"records ({scores.stat().st_size / 2**20:,.0f} MiB), {event_lines:,} events "
        f"({events.stat().st_size / 2**20:,.0f} MiB)"
    )
    print(
        f"report: {report['members']:,} members on {report['anchors'][0]}, {args.window}-day window, "
        f"{args.resamples:,} resamples; {len(page) / 1024:,.0f} KiB of HTML"
    )
    rows = [
        ("(a) orjson.loads of every record (baseline)", loads_s),
        ("(b) read_scores: records -> table", read_s),
        ("(c) read_activity: the event log's volume", activity_s),
        ("(d) measure: figures and bootstrap", measure_s),
        ("(e) render_html: page and plots", html_s),
        ("(b)+(c)+(d)+(e)", read_s + activity_s + measure_s + html_s),
        ("(f) ssi-stream report, end to end (child)", cli_s),
    ]
    print(f"\n{'stage':<46}{'seconds':>9}{'× (a)':>8}")
    for name, seconds in rows:
        print(f"{name:<46}{seconds:>9.1f}{seconds / loads_s:>8.2f}")
    print(f"\n{summary.text()}")


def _no_replay() -> Any:
    raise AssertionError("score records need no replay")


if __name__ == "__main__":
    main()
