"""Recovery of a large members table: seconds for a fresh worker to restore N members from the changelog,
and the worker's resident memory per member once it holds them.

The members changelog is written directly (one record per member, as a compacted changelog holds it):
real ledgers, from replaying a small simulated log, cloned round-robin to N member keys, each sent to the
partition Faust's table would use (the key's murmur2 partition, as for the member's effects). Then a
worker with that app id, memory:// and an empty data dir starts: the figure is process start → Faust's
`Recovery complete` log line, next to a worker on empty tables (the baseline: start-up and group join).
Memory: VmRSS of the restored worker minus the baseline worker's, over N.

    SSI_STREAM_HOME=bench/results/home .venv/bin/ssi-stream kafka up
    .venv/bin/python bench/recovery_bench.py --members 1000000
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from stream_bench import RECOVERED, RESULTS, WORKER_TABLES, Child, Run, precreate_changelogs, worker

from ssi_stream.ledger.member_ledger import encode_ledger
from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.kafka_security import kafka_producer, load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.replay import Replay
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import TimelineSettings


def template_ledgers(partitions: int) -> list[bytes]:
    """Ledgers of 500 simulated members after 7 days, open days and all (as a worker holds them)."""
    scorer = Replay(
        load_model(), timeline=TimelineSettings(partitions=partitions), now=datetime(2100, 1, 1, tzinfo=UTC)
    )
    config = SimulationConfig(members=500, days=7, seed=1)
    scorer.feed([(number, raw) for number, (_key, raw) in enumerate(iter_encoded(config), 1)])
    return [encode_ledger(ledger) for _, ledger in scorer.ledgers()]


def write_changelog(run: Run, topic: str, members: int, templates: list[bytes]) -> float:
    """Produce one record per member to the members changelog; returns the seconds it took."""
    producer = kafka_producer(
        run.bootstrap, run.security, linger_ms=20, batch_size=512 * 1024, acks=1, compression_type=None
    )
    started = time.perf_counter()
    for index in range(members):
        key = f"bench-{index:08d}"
        producer.send(
            topic,
            key=key.encode(),
            value=templates[index % len(templates)],
            partition=partition_for(key, run.partitions),
        )
    producer.flush()
    producer.close()
    return time.perf_counter() - started


def rss_bytes(child: Child) -> int:
    for line in Path(f"/proc/{child.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def start_and_measure(run: Run, name: str, app: str) -> tuple[float, int]:
    """Seconds from start to recovery complete, and the RSS two seconds later."""
    child = worker(run, run.worker_env(name, "memory://", app=app))
    try:
        seconds = child.wait_for(RECOVERED, timeout=3600)
        time.sleep(2)
        return seconds, rss_bytes(child)
    finally:
        child.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--bootstrap", help="default: SSI_BROKER, else the local broker")
    args = parser.parse_args()
    settings = Settings.from_env()
    bootstrap = args.bootstrap or resolve_bootstrap(settings)
    run_id = time.strftime("%m%d%H%M%S") + uuid.uuid4().hex[:4]
    workdir = RESULTS / f"recovery-{run_id}"
    workdir.mkdir(parents=True, exist_ok=True)
    run = Run(bootstrap, run_id, args.partitions, workdir, load_security(settings))

    templates = template_ledgers(args.partitions)
    mean_bytes = sum(map(len, templates)) / len(templates)
    print(f"{len(templates)} template ledgers, mean {mean_bytes:.0f} B", flush=True)
    baseline_seconds, baseline_rss = start_and_measure(run, "empty", "empty")
    print(
        f"empty tables: recovered in {baseline_seconds:.1f} s, RSS {baseline_rss / 2**20:.0f} MiB", flush=True
    )
    # the restored worker's app: its members changelog filled before it starts (worker() creates topics)
    env = run.worker_env("restored", "memory://", app="restored")
    topic = f"{env['SSI_APP_ID']}-members-changelog"
    precreate_changelogs(run, env["SSI_APP_ID"], WORKER_TABLES)
    produce_seconds = write_changelog(run, topic, args.members, templates)
    print(f"changelog: {args.members:,} records in {produce_seconds:.1f} s", flush=True)
    seconds, rss = start_and_measure(run, "restored", "restored")
    figures = {
        "members": args.members,
        "template_mean_bytes": mean_bytes,
        "baseline_seconds": baseline_seconds,
        "baseline_rss": baseline_rss,
        "recovery_seconds": seconds,
        "rss": rss,
        "rss_per_member": (rss - baseline_rss) / args.members,
        "records_per_second": args.members / max(1e-9, seconds - baseline_seconds),
    }
    print(
        f"restored {args.members:,} members in {seconds:.1f} s (baseline {baseline_seconds:.1f} s): "
        f"{figures['records_per_second']:,.0f} records/s; RSS {rss / 2**20:,.0f} MiB = "
        f"{figures['rss_per_member']:,.0f} B/member over the baseline",
        flush=True,
    )
    (workdir.parent / f"recovery-{run_id}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
