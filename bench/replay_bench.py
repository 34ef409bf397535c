"""Replay throughput on a simulated log of about a million events, side by side with its parts.

One run measures, on the same log and machine:

  (a) bare `orjson.loads` over every line: the ceiling, and the baseline every ratio is taken against;
  (b) `decode` (parse + validate + typed event);
  (c) decode + `effects_of` + `absorb_effect` into per-member ledgers with dedup: the pure-core ingest
      rate, no clocks and no day closes;
  (e) closing every day for every member (`close_member_day`, the rank exchange, `ranked_record`: decay,
  score, ranks, daily record) on the ledgers
      (c) built: the cost per member-day;
  (d) the full replay, `replay_log` as `ssi-stream replay LOG --output /dev/null --dlq /dev/null` runs
      it, in a child process: events/s end to end, its peak RSS (`getrusage(RUSAGE_CHILDREN).ru_maxrss`),
      and the size of every member's ledger (`encode_ledger`) at the end.

(d) runs first (see `full_replay`); then (a) and (b) alternate `--repeat` times (median reported), then
(c) and (e) run once each. The log is
generated once and cached under bench/results/ (git-ignored).

With `--outcomes` the log also holds the simulator's CRM outcome events, and (d) runs a second time on
the same log without them (its outcome lines taken out, every other line as it was): the ledgers'
bytes per member with and without outcomes, side by side.

    .venv/bin/python bench/replay_bench.py [--members 10000] [--days 28] [--scale 0.5] [--repeat 3]
        [--outcomes]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import orjson

from ssi_stream.events.decode import Rejected, decode
from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    absorb_effect,
    close_member_day,
    encode_ledger,
    member_day,
    new_ledger,
    ranked_record,
)
from ssi_stream.ranking.exchange import DayBoard, day_shares
from ssi_stream.scoring.effects import effects_of
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, generate, write_jsonl
from ssi_stream.timeline.policy import TimelineSettings

RESULTS = Path(__file__).resolve().parent / "results"
DEVNULL = Path("/dev/null")


def simulation(args: argparse.Namespace) -> SimulationConfig:
    """The simulated population, with the delivery faults of a real topic (all within the grace period)."""
    return SimulationConfig(
        members=args.members,
        days=args.days,
        seed=args.seed,
        events_per_member_day_scale=args.scale,
        jitter_seconds=600,
        duplicate_rate=0.005,
        invalid_rate=0.001,
        outcomes=args.outcomes,
    )


def receiving_clock(config: SimulationConfig) -> datetime:
    """A fixed `now` two days after the simulated period, so runs are reproducible."""
    return datetime.combine(config.start, clock_time(), tzinfo=UTC) + timedelta(days=config.days + 2)


def cached_log(config: SimulationConfig) -> Path:
    """The simulated log as JSON lines, generated once per configuration."""
    name = (
        f"replay-log-m{config.members}-d{config.days}-x{config.events_per_member_day_scale:g}"
        f"-s{config.seed}{'-outcomes' if config.outcomes else ''}.jsonl"
    )
    path = RESULTS / name
    if not path.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        started = time.perf_counter()
        count = write_jsonl(generate(config), partial)
        partial.rename(path)
        print(f"generated {count:,} events in {time.perf_counter() - started:.0f} s: {path}", file=sys.stderr)
    return path


def without_outcomes(log: Path) -> Path:
    """The log with its outcome events taken out, every other line (broken ones too) as it was."""
    path = log.with_name(log.stem + "-without-them.jsonl")
    if not path.exists():
        outcome_types = {f'"type":"{name}"'.encode() for name in OUTCOME_TYPES}
        with open(log, "rb") as source, open(path.with_suffix(".partial"), "wb") as target:
            target.writelines(line for line in source if not any(kind in line for kind in outcome_types))
        path.with_suffix(".partial").rename(path)
    return path


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def parse_all(lines: list[bytes]) -> None:
    """(a): bare `orjson.loads`, results dropped; broken lines raise and are skipped."""
    loads, error = orjson.loads, orjson.JSONDecodeError
    for raw in lines:
        try:  # noqa: SIM105 - contextlib.suppress costs about as much as the parse
            loads(raw)
        except error:
            pass


def decode_all(lines: list[bytes], now: datetime) -> None:
    """(b): `decode`, results dropped."""
    for raw in lines:
        decode(raw, now=now)


def ingest(lines: list[bytes], now: datetime, timeline: TimelineSettings) -> dict[str, MemberLedger]:
    """(c): decode, split into effects, absorb each into its member's ledger in its own day."""
    model, policy = load_model(), timeline.dedup
    ledgers: dict[str, MemberLedger] = {}
    for raw in lines:
        event = decode(raw, now=now)
        if isinstance(event, Rejected):
            continue
        for effect in effects_of(event):
            ledger = ledgers.get(effect.member_id)
            if ledger is None:
                ledger = ledgers[effect.member_id] = new_ledger(policy)
            absorb_effect(
                ledger, effect, effect.occurred_at // 86_400, late=False, model=model, policy=policy
            )
    return ledgers


def close_all(ledgers: dict[str, MemberLedger], timeline: TimelineSettings) -> int:
    """(e): close every day from the first open one to the last for every member; the records made."""
    model, policy = load_model(), timeline.dedup
    days = [d.day for ledger in ledgers.values() for d in ledger.state.open_days]
    made = 0
    for day in range(min(days), max(days) + 1):  # both steps, as replay does them: close, then rank
        closed = [
            (member_id, ledger)
            for member_id, ledger in sorted(ledgers.items())
            if close_member_day(ledger, day, model, policy) is not None
        ]
        scored = [member_day(member_id, ledger) for member_id, ledger in closed]
        board = DayBoard()
        for share in day_shares(0, day, scored, 1)[0]:
            board.add(share)
        for (member_id, ledger), member in zip(closed, scored, strict=True):
            ranked_record(member_id, ledger, model, board.ranks(member_id, member.ssi, member.industry))
        made += len(closed)
    return made


def child(log: Path, now: datetime) -> None:
    """(d), in its own process: the full replay as the CLI runs it; prints its figures as JSON."""
    import ssi_stream.replay as replay_module
    from ssi_stream.replay import Replay, replay_log

    scorers: list[Replay] = []

    class KeptScorer(Replay):
        """The scorer replay uses, kept after the run so its ledgers can be measured."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            scorers.append(self)

    replay_module.Replay = KeptScorer  # type: ignore[misc]
    model = load_model()
    rss_before = _proc_status_kib("VmRSS")
    with open(log, "rb") as events, open(DEVNULL, "wb") as output, open(DEVNULL, "wb") as dead_letters:
        result = replay_log(
            events, output, model=model, timeline=TimelineSettings(), now=now, dead_letters=dead_letters
        )
    sizes = sorted(len(encode_ledger(ledger)) for _, ledger in scorers[0].ledgers())
    with_outcomes = [ledger for _, ledger in scorers[0].ledgers() if ledger.outcomes is not None]
    print(
        json.dumps(
            {
                "seconds": result.seconds,
                "events": result.stats.events_read,
                "records": result.stats.records,
                "members": result.members,
                "summary": result.summary(),
                "rss_before_kib": rss_before,
                "hwm_kib": _proc_status_kib("VmHWM"),
                "ledger_bytes": {
                    "mean": statistics.fmean(sizes),
                    "p50": sizes[len(sizes) // 2],
                    "p99": sizes[min(len(sizes) - 1, int(len(sizes) * 0.99))],
                    "max": sizes[-1],
                },
                "outcome_ledgers": len(with_outcomes),
                "outcome_section_bytes": statistics.fmean(
                    2 + len(ledger.outcomes.to_bytes()) for ledger in with_outcomes if ledger.outcomes
                )
                if with_outcomes
                else 0.0,
            }
        )
    )


def _proc_status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in KiB; 0 elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def full_replay(log: Path, now: datetime) -> tuple[dict[str, Any], int]:
    """Run (d) in a child process; its report and its peak RSS in KiB (`RUSAGE_CHILDREN`).

    Linux carries a process's peak RSS across exec, so a child forked from a big parent would report
    the parent's size: run this before the parent loads the log (the child's own VmHWM cross-checks).
    """
    run = subprocess.run(
        [sys.executable, __file__, "--child", str(log), "--now", now.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"the replay child failed:\n{run.stderr}")
    return json.loads(run.stdout), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def in_process(
    log: Path, now: datetime, timeline: TimelineSettings, repeat: int
) -> tuple[int, list[float], list[float], float, float, int]:
    """(a), (b) alternating `repeat` times, then (c) and (e), on the log's lines held in memory."""
    lines = [line for line in log.read_bytes().splitlines() if line.strip()]
    loads_s, decode_s = [], []
    for _ in range(repeat):
        loads_s.append(timed(lambda: parse_all(lines))[0])
        decode_s.append(timed(lambda: decode_all(lines, now))[0])
    ingest_s, ledgers = timed(lambda: ingest(lines, now, timeline))
    close_s, member_days = timed(lambda: close_all(ledgers, timeline))
    return len(lines), loads_s, decode_s, ingest_s, close_s, member_days


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--scale", type=float, default=0.5, help="the simulator's activity scale")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of (a) and (b)")
    parser.add_argument(
        "--outcomes", action="store_true", help="a log with outcome events; (d) also without them"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, datetime.fromisoformat(args.now))
        return

    config = simulation(args)
    now, timeline = receiving_clock(config), TimelineSettings()
    log = cached_log(config)
    print(f"python {platform.python_version()}, orjson {orjson.__version__}, {platform.machine()}")
    report, peak_kib = full_replay(log, now)
    plain = full_replay(without_outcomes(log), now)[0] if config.outcomes else None
    n, loads_s, decode_s, ingest_s, close_s, member_days = in_process(log, now, timeline, args.repeat)
    print(
        f"log: {n:,} lines, {log.stat().st_size / 2**20:.0f} MiB, {config.members:,} members × "
        f"{config.days} days, scale {config.events_per_member_day_scale:g} ({log.name})"
    )

    baseline = n / statistics.median(loads_s)
    rows = [
        ("(a) orjson.loads", n / statistics.median(loads_s)),
        ("(b) decode", n / statistics.median(decode_s)),
        ("(c) decode + effects + absorb (no closes)", n / ingest_s),
        ("(d) full replay (replay_log, child)", report["events"] / report["seconds"]),
    ]
    print(f"\n{'stage':<44}{'events/s':>12}{'µs/event':>10}{'× loads':>9}")
    for name, rate in rows:
        print(f"{name:<44}{rate:>12,.0f}{1e6 / rate:>10.2f}{rate / baseline:>9.4f}")
    per_day = close_s / member_days
    print(
        f"(e) close + score + record: {member_days:,} member-days in {close_s:.1f} s = "
        f"{member_days / close_s:,.0f} member-days/s, {per_day * 1e6:.0f} µs each"
    )
    print(
        f"(d) {report['seconds']:.1f} s ≈ ingest {ingest_s:.1f} s (c) + closes "
        f"{report['records'] * per_day:.1f} s (e) + the rest "
        f"{report['seconds'] - ingest_s - report['records'] * per_day:.1f} s"
    )
    print(f"    {report['summary']}")
    sizes = report["ledger_bytes"]
    print(
        f"peak RSS of the full replay: {peak_kib / 1024:,.0f} MiB (RUSAGE_CHILDREN; VmHWM "
        f"{report['hwm_kib'] / 1024:,.0f} MiB), of which {report['rss_before_kib'] / 1024:.0f} MiB "
        "before it started (interpreter, imports, model)"
    )
    print(
        f"bytes per member (encode_ledger, {report['members']:,} members at the end): mean "
        f"{sizes['mean']:,.1f}, p50 {sizes['p50']:,}, p99 {sizes['p99']:,}, max {sizes['max']:,}"
    )
    if plain is not None:
        before = plain["ledger_bytes"]
        print(
            f"  the same log without its outcome events ({plain['events']:,} lines): mean "
            f"{before['mean']:,.1f}, p50 {before['p50']:,}, p99 {before['p99']:,}, max {before['max']:,}; "
            f"{report['outcome_ledgers']:,} members hold outcomes, their section "
            f"{report['outcome_section_bytes']:.1f} bytes on average (its length included)"
        )


if __name__ == "__main__":
    main()
