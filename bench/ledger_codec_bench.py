"""Ledger bytes and codec cost: feed a JSON-lines log to replay's engine, then time `encode_ledger`,
`decode_ledger` and the two together over every member's ledger (best of 9 rounds of 5 passes each, the
least disturbed on a shared machine), and measure what a decoded ledger holds in memory (tracemalloc:
what the worker's ledger cache costs).

    .venv/bin/python bench/ledger_codec_bench.py bench/results/<run>/events.jsonl

Run it on two checkouts (e.g. `git worktree add /tmp/before <commit>` and `PYTHONPATH=/tmp/before`) in one
session to compare codec versions side by side; it prints which checkout's code it timed.
"""

from __future__ import annotations

import statistics
import sys
import timeit
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import ssi_stream
from ssi_stream.ledger.member_ledger import decode_ledger, encode_ledger
from ssi_stream.replay import Replay
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.policy import TimelineSettings


def main(log_path: str) -> None:
    scorer = Replay(load_model(), timeline=TimelineSettings(partitions=8), now=datetime.now(UTC))
    with open(log_path, "rb") as log:
        scorer.feed(
            [(number, line.rstrip(b"\n")) for number, line in enumerate(log, start=1) if line.strip()]
        )
    raws = [encode_ledger(ledger) for _, ledger in scorer.ledgers()]
    policy = scorer.timeline.dedup
    ledgers = [decode_ledger(raw, policy) for raw in raws]

    def encode() -> None:
        for ledger in ledgers:
            encode_ledger(ledger)

    def decode() -> None:
        for raw in raws:
            decode_ledger(raw, policy)

    def codec() -> None:
        for raw in raws:
            encode_ledger(decode_ledger(raw, policy))

    def per_ledger(work: Callable[[], None]) -> float:
        return min(timeit.repeat(work, number=5, repeat=9)) / 5 / len(raws) * 1e6

    encode_us, decode_us, codec_us = per_ledger(encode), per_ledger(decode), per_ledger(codec)
    tracemalloc.start()
    decoded = [decode_ledger(raw, policy) for raw in raws]
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sizes = sorted(map(len, raws))
    print(f"code: {Path(ssi_stream.__file__).parent.parent}")
    print(
        f"{len(decoded)} ledgers: bytes mean {statistics.fmean(sizes):.0f}, p50 {sizes[len(sizes) // 2]}, "
        f"max {sizes[-1]}; encode {encode_us:.1f} µs, decode {decode_us:.1f} µs, codec (both) "
        f"{codec_us:.1f} µs per ledger; {held / len(decoded):,.0f} B per decoded ledger"
    )


if __name__ == "__main__":
    main(sys.argv[1])
