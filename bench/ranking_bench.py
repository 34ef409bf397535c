"""What ranking one day costs as the average network degree grows: bytes and time, per member.

For a population of N members spread over P partitions, each with `degree` random connections and one
of 150 industries, it runs the day's rank exchange the way the workers do, without Kafka:
`day_shares` per partition → `encode_share` → `decode_share` → `DayBoard.add` → `ranks` for every
member, and reports per degree: the share bytes on the wire, share records (parts), the ledger bytes the
connections add, and the time per member. Degree 0 (industry ranks only) is the baseline of each run.

    .venv/bin/python bench/ranking_bench.py --members 20000 --partitions 8 --degrees 0 10 50 200
"""

from __future__ import annotations

import argparse
import random
import time

from ssi_stream.ranking.connections import Connections
from ssi_stream.ranking.exchange import DayBoard, MemberDay, day_shares
from ssi_stream.stream.wire import decode_share, encode_share
from ssi_stream.timeline.partitioner import partition_for


def population(members: int, degree: int, seed: int) -> list[MemberDay]:
    rng = random.Random(seed)
    ids = [f"m{i:07d}" for i in range(members)]
    links: list[set[str]] = [set() for _ in range(members)]
    for a in range(members):
        while len(links[a]) < degree // 2:  # each edge adds one to both ends; the real mean is printed
            b = rng.randrange(members)
            if b != a:
                links[a].add(ids[b])
                links[b].add(ids[a])
    return [
        MemberDay(ids[i], rng.randrange(10_001) / 100, f"industry-{rng.randrange(150)}", links[i])
        for i in range(members)
    ]


def run(members: list[MemberDay], partitions: int) -> dict[str, float]:
    by_partition: dict[int, list[MemberDay]] = {p: [] for p in range(partitions)}
    for member in members:
        by_partition[partition_for(member.member_id, partitions)].append(member)
    started = time.perf_counter()
    inbox: dict[int, list[bytes]] = {p: [] for p in range(partitions)}
    for source, held in by_partition.items():
        for target, parts in day_shares(source, 1, held, partitions).items():
            inbox[target] += [encode_share(part) for part in parts]
    sent = time.perf_counter()
    ranked = 0
    for target, raws in inbox.items():
        board = DayBoard()
        for raw in raws:
            board.add(decode_share(raw))
        for member in by_partition[target]:
            board.ranks(member.member_id, member.ssi, member.industry)
            ranked += 1
    done = time.perf_counter()
    count = len(members)
    connection_bytes = sum(len(Connections(set(m.connections)).to_bytes()) for m in members)
    return {
        "degree": sum(len(m.connections) for m in members) / count,  # type: ignore[arg-type]
        "wire_bytes": sum(len(raw) for raws in inbox.values() for raw in raws) / count,
        "records": sum(len(raws) for raws in inbox.values()),
        "ledger_bytes": connection_bytes / count,
        "share_us": (sent - started) / count * 1e6,
        "rank_us": (done - sent) / count * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--degrees", type=int, nargs="+", default=[0, 10, 50, 200])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.members:,} members, {args.partitions} partitions, 150 industries; per member and day:")
    print(
        "| target degree | mean degree | share bytes on the wire | share records (all partitions) "
        "| connections in the ledger (bytes) | build + encode µs | decode + rank µs | total × degree 0 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    baseline = None
    for degree in args.degrees:
        figures = run(population(args.members, degree, args.seed), args.partitions)
        total = figures["share_us"] + figures["rank_us"]
        baseline = baseline or total
        print(
            f"| {degree} | {figures['degree']:.1f} | {figures['wire_bytes']:,.0f} | {figures['records']:,} "
            f"| {figures['ledger_bytes']:,.0f} | {figures['share_us']:.1f} | {figures['rank_us']:.1f} "
            f"| {total / baseline:.1f} |"
        )


if __name__ == "__main__":
    main()
