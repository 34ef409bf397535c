"""The cyclic garbage collector's share of the engine: one log replayed in memory (`Replay`, batches of
`--batch` events, as the worker's fetches feed it) with CPython's default thresholds and with
`ops.collector`'s, alternated in fresh processes, `--rounds` pairs.

    .venv/bin/ssi-stream simulate --members 1500 --days 7 --seed 1 -o bench/results/log-m1500-d7.jsonl
    .venv/bin/python bench/collector_bench.py bench/results/log-m1500-d7.jsonl [--rounds 3]

Each run prints the CPU seconds of the replay (process time, not wall time: the machine is shared), the
seconds spent in collections (timed with `gc.callbacks`) and how many ran; then the ratios per pair.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def child(log: Path, tuned: bool, batch: int) -> None:
    """One replay of `log` in this process; prints one JSON line."""
    from ssi_stream.ops.collector import tune_collector
    from ssi_stream.replay import Replay
    from ssi_stream.scoring.model import load_model
    from ssi_stream.timeline.policy import TimelineSettings

    lines = [line for line in log.read_bytes().splitlines() if line.strip()]
    scorer = Replay(load_model(), timeline=TimelineSettings(partitions=12), now=datetime.now(UTC))
    if tuned:
        tune_collector()
    spent, started = [0.0, 0], [0.0]

    def timing(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]
            spent[1] += 1

    gc.callbacks.append(timing)
    cpu = time.process_time()
    for start in range(0, len(lines), batch):
        scorer.feed(list(enumerate(lines[start : start + batch], start + 1)))
    cpu = time.process_time() - cpu
    gc.callbacks.remove(timing)
    print(
        json.dumps(
            {"events": len(lines), "cpu_seconds": cpu, "gc_seconds": spent[0], "collections": spent[1]}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--child", choices=("default", "tuned"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.log, args.child == "tuned", args.batch)
        return
    pairs = []
    for _ in range(args.rounds):
        pair = {}
        for mode in ("default", "tuned"):
            command = [sys.executable, __file__, str(args.log), "--batch", str(args.batch), "--child", mode]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            pair[mode] = json.loads(out.splitlines()[-1])
            figures = pair[mode]
            print(
                f"{mode:>8}: {figures['cpu_seconds']:.2f} s CPU for {figures['events']:,} events, "
                f"{figures['gc_seconds']:.2f} s in {figures['collections']} collections "
                f"({figures['gc_seconds'] / figures['cpu_seconds']:.1%})"
            )
        pairs.append(pair["tuned"]["cpu_seconds"] / pair["default"]["cpu_seconds"])
    print("tuned ÷ default CPU, per pair: " + ", ".join(f"{ratio:.3f}" for ratio in pairs))


if __name__ == "__main__":
    main()
