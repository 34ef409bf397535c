"""Event decoding throughput: `decode` (parse + validate + typed event) against bare `orjson.loads`.

Both run on the same realistic payloads (the simulator's default mix, encoded as producers send them) in
the same process, interleaved, several repetitions; the ratio is what to compare across machines. The
same events spaced as Python's `json.dumps` writes them (`", "`, `": "`) take the unique-member-names
check's second path (colon counts) instead of its first (orjson writes the text back as it came): both are
timed, and the check alone. Also times the per-event dedup step the worker adds (RecentIds from bytes,
seen_or_add, to bytes).

    .venv/bin/python bench/decode_bench.py [--events 50000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import orjson

from ssi_stream.events.decode import decode
from ssi_stream.events.duplicate_names import repeated_name
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
    spaced = [json.dumps(orjson.loads(raw), ensure_ascii=False).encode() for raw in payloads]
    n = len(payloads)
    rejected = sum(isinstance(decode(raw, now=now), Rejected) for raw in payloads + spaced)
    assert rejected == 0, f"{rejected} realistic payloads were rejected"
    loads = orjson.loads
    parsed = [loads(raw) for raw in payloads]
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

    def bare_spaced() -> None:
        for raw in spaced:
            loads(raw)

    def full_spaced() -> None:
        for raw in spaced:
            decode(raw, now=now)

    def names_compact() -> None:
        for raw, document in zip(payloads, parsed, strict=True):
            repeated_name(raw, document)

    def names_spaced() -> None:
        for raw, document in zip(spaced, parsed, strict=True):
            repeated_name(raw, document)

    def dedup() -> None:
        for key in keys:
            recent = RecentIds.from_bytes(state)
            recent.seen_or_add(key, stamp)
            recent.to_bytes()

    bare_rates, decode_rates, ratios, dedup_rates = [], [], [], []
    spaced_ratios, spaced_decode, names = [], [], {"compact": [], "spaced": []}
    for _ in range(args.repeat):
        bare_rate, decode_rate = rate(bare, n), rate(full, n)
        bare_rates.append(bare_rate)
        decode_rates.append(decode_rate)
        ratios.append(decode_rate / bare_rate)
        spaced_bare, spaced_rate = rate(bare_spaced, n), rate(full_spaced, n)
        spaced_decode.append(spaced_rate)
        spaced_ratios.append(spaced_rate / spaced_bare)
        names["compact"].append(rate(names_compact, n))
        names["spaced"].append(rate(names_spaced, n))
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
    median = statistics.median(spaced_decode)
    print(f"decode, spaced payloads {max(spaced_decode):>12,.0f} / {median:>12,.0f} events/s")
    print(f"ratio to their loads   {max(spaced_ratios):>12.3f} / {statistics.median(spaced_ratios):>12.3f}")
    print(f"  decode cost per event {1e6 / median:.2f} µs")
    for style, rates in names.items():
        print(f"  unique-names check alone, {style}: {1e6 / statistics.median(rates):.2f} µs per event")
    print(
        f"RecentIds (256 held) from_bytes+seen_or_add+to_bytes "
        f"{statistics.median(dedup_rates):,.0f} /s ({1e6 / statistics.median(dedup_rates):.2f} µs)"
    )


if __name__ == "__main__":
    main()
