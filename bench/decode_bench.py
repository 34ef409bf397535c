"""Event decoding throughput: `decode` (parse + validate + typed event) against bare `orjson.loads`.

Both run on the same realistic payloads (the simulator's default mix, encoded as producers send them) in
the same process, interleaved, several repetitions; the ratio is what to compare across machines. Also
times the per-event dedup step the worker adds (RecentIds from bytes, seen_or_add, to bytes).

    .venv/bin/python bench/decode_bench.py [--events 50000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import orjson

from ssi_stream.events.decode import decode
from ssi_stream.events.rejection import Rejected
from ssi_stream.ledger.recent_ids import RecentIds
from ssi_stream.simulation import SimulationConfig, generate


def realistic_payloads(count: int) -> tuple[list[bytes], datetime]:
    """`count` encoded events of the simulator's default mix, and a receiving clock after all of them."""
    config = SimulationConfig(members=2_000, days=14, seed=11)
    payloads: list[bytes] = []
    for event in generate(config):
        payloads.append(orjson.dumps(event))
        if len(payloads) == count:
            break
    now = datetime.combine(config.start, clock_time(), tzinfo=UTC) + timedelta(days=config.days)
    return payloads, now


def rate(run: Callable[[], None], count: int) -> float:
    """Items per second of one call of `run` over `count` items."""
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    payloads, now = realistic_payloads(args.events)
    n = len(payloads)
    rejected = sum(isinstance(decode(raw, now=now), Rejected) for raw in payloads)
    assert rejected == 0, f"{rejected} realistic payloads were rejected"
    loads = orjson.loads
    keys = [orjson.loads(raw)["event_id"] for raw in payloads[:10_000]]
    stamp = int(now.timestamp())
    seeded = RecentIds()
    for index, key in enumerate(keys[:256]):
        seeded.seen_or_add(key, stamp - 256 + index)
    state = seeded.to_bytes()

    def bare() -> None:
        for raw in payloads:
            loads(raw)

    def full() -> None:
        for raw in payloads:
            decode(raw, now=now)

    def dedup() -> None:
        for key in keys:
            recent = RecentIds.from_bytes(state)
            recent.seen_or_add(key, stamp)
            recent.to_bytes()

    bare_rates, decode_rates, ratios, dedup_rates = [], [], [], []
    for _ in range(args.repeat):
        bare_rate, decode_rate = rate(bare, n), rate(full, n)
        bare_rates.append(bare_rate)
        decode_rates.append(decode_rate)
        ratios.append(decode_rate / bare_rate)
        dedup_rates.append(rate(dedup, len(keys)))

    size = statistics.mean(map(len, payloads))
    print(f"python {platform.python_version()}, orjson {orjson.__version__}, {platform.machine()}")
    print(f"{n} realistic events, mean {size:.0f} bytes, {args.repeat} repetitions (best / median)")
    print(
        f"orjson.loads           {max(bare_rates):>12,.0f} / {statistics.median(bare_rates):>12,.0f} events/s"
    )
    best, median = max(decode_rates), statistics.median(decode_rates)
    print(f"decode (+validate)     {best:>12,.0f} / {median:>12,.0f} events/s")
    print(f"ratio decode/loads     {max(ratios):>12.3f} / {statistics.median(ratios):>12.3f}")
    print(f"  decode cost per event {1e6 / statistics.median(decode_rates):.2f} µs")
    print(
        f"RecentIds (256 held) from_bytes+seen_or_add+to_bytes "
        f"{statistics.median(dedup_rates):,.0f} /s ({1e6 / statistics.median(dedup_rates):.2f} µs)"
    )


if __name__ == "__main__":
    main()
