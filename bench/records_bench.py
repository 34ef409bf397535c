"""Score records: how many, how big, how fast, on (a) the simulator's default population and (b) an open
population — a base population plus members who each invite 200 new people a day (people who never do
anything themselves: the shape that made records explode).

For each log, replay runs twice in this process, with `--emit daily` and with the default emission rule
(`changes`), and prints records, bytes, records and bytes per input event, median and p99 record bytes,
and events/s; `orjson.loads` of the same lines in the same run is the yardstick.

    .venv/bin/python bench/records_bench.py [--open-days 120] [--spammers 3] [--base 2000]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from array import array
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson

from ssi_stream.replay import replay_log
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings

NOW = datetime(2100, 1, 1, tzinfo=UTC)


def default_population() -> list[bytes]:
    """`ssi-stream simulate` with its defaults (500 members, 28 days)."""
    return [raw for _, raw in iter_encoded(SimulationConfig())]


def open_population(base: int, days: int, spammers: int, per_day: int = 200) -> list[bytes]:
    """A base population over `days`, plus `spammers` members each inviting `per_day` new people a day."""
    config = SimulationConfig(members=base, days=days, seed=7)
    lines = [raw for _, raw in iter_encoded(config)]
    start = datetime.combine(config.start, datetime.min.time(), tzinfo=UTC)
    invites = []
    for day in range(days):
        for spammer in range(spammers):
            for k in range(per_day):
                at = start + timedelta(days=day, seconds=30_000 + 40 * k + spammer)
                event = {
                    "schema_version": 1,
                    "event_id": f"spam-{spammer}-{day}-{k}",
                    "type": "invite_sent",
                    "member_id": f"spammer-{spammer}",
                    "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "target_member_id": f"stranger-{spammer}-{day}-{k}",
                    "personalized": False,
                }
                invites.append((at, orjson.dumps(event)))
    # interleave by time with the base log (whose lines are in time order)
    timed = [(datetime.fromisoformat(orjson.loads(raw)["occurred_at"]), raw) for raw in lines if _valid(raw)]
    merged = sorted(timed + invites, key=lambda pair: pair[0])
    return [raw for _, raw in merged]


def _valid(raw: bytes) -> bool:
    try:
        return isinstance(orjson.loads(raw), dict)
    except orjson.JSONDecodeError:
        return False


class Sizes(io.RawIOBase):
    """A sink that keeps only the size of each record written (replay writes one line per call)."""

    def __init__(self) -> None:
        self.sizes = array("I")

    def writable(self) -> bool:
        return True

    def write(self, line: bytes) -> int:  # type: ignore[override]
        self.sizes.append(len(line))
        return len(line)


def replay(lines: list[bytes], emit: str) -> tuple[list[int], float]:
    log = io.BytesIO(b"\n".join(lines) + b"\n")
    output = Sizes()
    timeline = replace(TimelineSettings(), emit=emit)  # type: ignore[arg-type]
    result = replay_log(log, output, model=load_model(), timeline=timeline, now=NOW)  # type: ignore[arg-type]
    return sorted(output.sizes), result.seconds


def loads_seconds(lines: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in lines:
        orjson.loads(raw)
    return time.perf_counter() - started


def report(name: str, lines: list[bytes], modes: tuple[str, ...] = ("daily", "changes")) -> None:
    events = len(lines)
    yardstick = loads_seconds(lines)
    print(f"\n{name}: {events:,} input events (orjson.loads: {events / yardstick:,.0f} events/s)")
    print(
        f"  {'emit':<8} {'records':>9} {'MB':>8} {'rec/event':>9} {'B/event':>8} {'p50 B':>6} {'p99 B':>6}"
        f" {'events/s':>9} {'x loads':>8}"
    )
    for emit in modes:
        sizes, seconds = replay(lines, emit)
        records = sizes or [0]
        sizes = records
        total = sum(sizes)
        p99 = sizes[min(len(sizes) - 1, int(len(sizes) * 0.99))]
        rate = events / seconds
        print(
            f"  {emit:<8} {len(records):>9,} {total / 1e6:>8.1f} {len(records) / events:>9.2f} "
            f"{total / events:>8.0f} {statistics.median(sizes):>6.0f} {p99:>6} {rate:>9,.0f} "
            f"{rate * yardstick / events:>8.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--open-days", type=int, default=120)
    parser.add_argument("--base", type=int, default=200, help="members of the base population in (b), (c)")
    parser.add_argument("--spammers", type=int, default=4, help="members inviting 200 a day in (c)")
    args = parser.parse_args()
    report("(a) the simulator's default population (500 members, 28 days)", default_population())
    lines = open_population(args.base, args.open_days, 1)
    report(
        f"(b) open population: {args.base} members over {args.open_days} days + 1 member inviting 200 new "
        "people a day",
        lines,
    )
    lines = open_population(args.base, args.open_days, args.spammers)
    report(
        f"(c) open population: {args.base} members over {args.open_days} days + {args.spammers} members "
        f"inviting 200 new people a day ({args.spammers * 200 * args.open_days + args.base:,} members)",
        lines,
        modes=("changes",),
    )


if __name__ == "__main__":
    main()
