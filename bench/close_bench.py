"""The daily close and rank of one partition, per member-day: the engine's batched close against the
per-member path it replaced, side by side in one run.

Members are clones of the ledgers of a simulated population (500 members after 14 days, open days and
all: what a worker holds when a day closes), under new ids, in one partition (`partitions=1`, so the
partition's day share comes back to itself, as in a one-partition deployment). Two ways to close and rank
the next day for all of them:

  (a) per member (the code before the engine's batched close, kept as the scalar path): for each member
      `close_member_day`, `member_day`, then `day_shares` and a `DayBoard`, then `ranked_record` for
      every member (`score` per member-day, the record built from the card);
  (b) the engine: `TargetSide.take` with the mark that allows the day, then the day's shares: the close
      as whole-array operations (`engine/day_close.py`), the records by the emission rule (`changes`)
      and, for the `daily` row, every member.

Reported: µs per member-day for each, and the ratio. (a) runs on fewer members (it is slow); the per
member-day figure does not depend on the count. Then, for (b), the longest time between two steps the
close and rank yield (what a driver sharing its thread, as the worker's event loop, waits at most):
each phase whole (`MEMBERS_PER_STEP` unbounded) against a step every `MEMBERS_PER_STEP` members, with
the code lines that stretch began and ended at (the innermost generators' suspension points).

    .venv/bin/python bench/close_bench.py [--members 100000,1000000] [--scalar-members 20000] \
        [--members-per-step 100]
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from unittest.mock import patch

from ssi_stream.engine import MemoryTargetStore, Step, TargetSide, target
from ssi_stream.ledger.member_ledger import (
    close_member_day,
    decode_ledger,
    encode_ledger,
    member_day,
    ranked_record,
)
from ssi_stream.ranking.exchange import DayBoard, day_shares
from ssi_stream.replay import Replay
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.timeline.source_clock import SourceMark

MODEL = load_model()
TIMELINE = TimelineSettings(partitions=1)


def templates() -> tuple[list[bytes], int]:
    """The encoded ledgers of a simulated population before its last day closes, and that day."""
    replay = Replay(MODEL, timeline=TimelineSettings(partitions=1), now=datetime(2100, 1, 1, tzinfo=UTC))
    replay.feed([(n, raw) for n, (_, raw) in enumerate(iter_encoded(SimulationConfig(days=14)), start=1)])
    ledgers = [ledger for _, ledger in replay.ledgers()]
    day = max(o.day for ledger in ledgers for o in ledger.state.open_days)
    return [encode_ledger(ledger) for ledger in ledgers], day


def population(count: int, raws: list[bytes]) -> dict[str, bytes]:
    return {f"bench-{index:08d}": raws[index % len(raws)] for index in range(count)}


def scalar_close(members: dict[str, bytes], day: int) -> float:
    """(a): µs per member-day."""
    policy = TIMELINE.dedup
    ledgers = {member_id: decode_ledger(raw, policy) for member_id, raw in members.items()}
    started = time.perf_counter()
    closed = [
        (member_id, ledger)
        for member_id, ledger in sorted(ledgers.items())
        if close_member_day(ledger, day, MODEL, policy) is not None
    ]
    days = [member_day(member_id, ledger) for member_id, ledger in closed]
    board = DayBoard()
    for share in day_shares(0, day, days, targets=1)[0]:
        board.add(share)
    for (member_id, ledger), scored in zip(closed, days, strict=True):
        ranked_record(member_id, ledger, MODEL, board.ranks(member_id, scored.ssi, scored.industry))
    return (time.perf_counter() - started) / len(closed) * 1e6


Gap = tuple[float, str, str]  # seconds without a step, and the code lines it began and ended at


def timed_steps(steps: Iterator[Step], gaps: list[Gap]) -> Iterator[Step]:
    """`steps`, with the time each took to come (the driver had no control meanwhile) added to `gaps`,
    and where it began and ended (the innermost generators' lines)."""
    began = "the start"
    while True:
        started = time.perf_counter()
        step = next(steps, None)
        seconds = time.perf_counter() - started
        ended = suspended_at(steps) if step is not None else "the end"
        gaps.append((seconds, began, ended))
        if step is None:
            return
        began = ended
        yield step


def suspended_at(steps: Iterator[Step]) -> str:
    """The function and line each generator of a `yield from` chain waits at (the last three)."""
    places, frame_of = [], steps
    while (frame := getattr(frame_of, "gi_frame", None)) is not None:
        places.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        frame_of = getattr(frame_of, "gi_yieldfrom", None)
    return " > ".join(places[-3:])


def engine_close(
    members: dict[str, bytes], day: int, emit: str, gaps: list[Gap] | None = None
) -> tuple[float, int, float]:
    """(b): µs per member-day, records emitted, and the close's share of the time; `gaps` gets the
    time between the steps the close and the rank yield."""
    gaps = [] if gaps is None else gaps
    store = MemoryTargetStore()
    policy = TIMELINE.dedup
    for member_id, raw in members.items():
        store.put_ledger(member_id, decode_ledger(raw, policy))
    side = TargetSide(0, MODEL, replace(TIMELINE, emit=emit), store)  # type: ignore[arg-type]
    mark = SourceMark(0, day, day + 1, False, 1, day - 13)
    side.gate.observe(SourceMark(0, day - 1, day, False, 0, day - 13))
    side.gate.closed(day - 1)
    side.gate.ranked(day - 1)
    gc.collect()
    started = time.perf_counter()
    shares = [message for step in timed_steps(side.take([mark]), gaps) for _, message in step.to_targets]
    closed_at = time.perf_counter()
    records = 0
    for step in timed_steps(side.take(shares), gaps):
        records += len(step.records)
    records += len(side.drain().records)
    seconds = time.perf_counter() - started
    assert side.gate.ranked_through == day, "the day was not ranked"
    return seconds / len(members) * 1e6, records, (closed_at - started) / seconds


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--members", default="100000,1000000", help="comma-separated member counts for (b)")
    parser.add_argument("--scalar-members", type=int, default=20000, help="member count for (a)")
    parser.add_argument(
        "--members-per-step",
        type=int,
        default=target.MEMBERS_PER_STEP,
        help="members a step for the stepped row (default: the engine's MEMBERS_PER_STEP)",
    )
    args = parser.parse_args()
    raws, day = templates()
    print(f"templates: {len(raws)} simulated ledgers (14 days), closing day {day}; one partition")
    scalar = scalar_close(population(args.scalar_members, raws), day)
    print(f"(a) per member, {args.scalar_members:,} members: {scalar:8.1f} µs per member-day")
    for count in (int(text) for text in args.members.split(",")):
        members = population(count, raws)
        for emit in ("changes", "daily"):
            micros, records, close_share = engine_close(members, day, emit)
            print(
                f"(b) engine, {count:>9,} members, emit {emit:<7}: {micros:8.1f} µs per member-day "
                f"({close_share:.0%} in the close step), {records:,} records; "
                f"(a)/(b) = {scalar / micros:.1f}x"
            )
        whole, now = 10**12, args.members_per_step
        for per_step, label in ((whole, "each phase whole"), (now, f"every {now:,} members")):
            gaps: list[Gap] = []
            with patch.object(target, "MEMBERS_PER_STEP", per_step):
                micros, _, _ = engine_close(members, day, "changes", gaps)
            longest, began, ended = max(gaps)
            print(
                f"    steps {label:<19}: "
                f"{micros:8.1f} µs per member-day, the longest without a step {longest * 1000:8.1f} ms "
                f"({len(gaps)} steps)\n        from {began}\n        to   {ended}"
            )
        del members
        gc.collect()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
