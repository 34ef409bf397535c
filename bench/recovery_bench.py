"""Recovery of a large members table: seconds until a worker holds N members restored from the changelog,
for each deployment option, all against one filled changelog in one run; and the resident memory per member.

The members changelog of one app is written directly (one record per member, as a compacted changelog
holds it): real ledgers, from replaying a small simulated log, cloned round-robin to N member keys, each
sent to the partition Faust's table would use (the key's murmur2 partition, as for the member's effects),
in batches built per partition (aiokafka). Then, one system at a time, workers of that app start:

  empty       a worker of another app on empty tables: start-up, topic checks, group join
  memory      (a) the present case: a fresh memory:// worker restores everything (the baseline row)
  rocksdb     (b) a rocksdb:// worker on an empty data dir restores everything; SIGTERM; a new worker on the
              same data dir (Faust keeps each partition's changelog offset in its RocksDB db); SIGTERM;
              --tail records written to the changelog while it is down; a new worker again
  standby     (c) two rocksdb:// workers with SSI_STANDBY_REPLICAS=1: A on a copy of the kept data dir, then
              B on an empty one (its half as actives, the other half as standbys); both caught up (CPU
              idle), SIGKILL A: seconds until B logs its rebalance, `Recovery complete`, and answers a
              member of every partition (`/readyz` 200 and GET /members/{id}/history 200)
  takeover    (d) the same without standby replicas: B restores A's half from the changelog
  scale-out   (e) two fresh memory:// workers started together: seconds until both are ready (each holds
              half the partitions; on 2 shared cores the two compete for CPU); the k=2 restore without
              that competition is B's own restore of its half in (d)
  memory-standby  (c) with memory://, only with --memory-standby: Faust's memory store keeps no changelog
              offsets, so a standby promoted to active is read again from the start

Every figure is from process start (or from the SIGKILL) to a line in the worker's log, polled every
0.1 s. Memory: VmRSS of the (a) worker two seconds after `Recovery complete` minus the empty worker's, over N.

    SSI_STREAM_HOME=bench/results/home .venv/bin/ssi-stream kafka up
    SSI_STREAM_HOME=bench/results/home .venv/bin/python bench/recovery_bench.py --quick        # 100k members
    SSI_STREAM_HOME=bench/results/home .venv/bin/python bench/recovery_bench.py --members 1000000

Figures go to stdout and bench/results/recovery-<run>.json; worker logs to bench/results/recovery-<run>/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stream_bench import RECOVERED, RESULTS, WORKER_TABLES, Child, Run, cpu_seconds, precreate_changelogs

from ssi_stream.ledger.member_ledger import encode_ledger
from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.kafka_security import aiokafka_config, load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.replay import Replay
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import TimelineSettings

#: The app whose members changelog is filled; every worker but the empty one belongs to it.
APP = "filled"
#: Faust logs this line (tables/recovery.py) when the group hands the worker a new assignment.
REBALANCED = "generation id"
#: A worker whose CPU grows by less than this over IDLE_WINDOW seconds has read all it was given.
IDLE_CPU_SECONDS = 0.25
IDLE_WINDOW = 3.0
TIMEOUT = 3600.0


def template_ledgers(partitions: int) -> list[bytes]:
    """Ledgers of 500 simulated members after 7 days, open days and all (as a worker holds them)."""
    scorer = Replay(
        load_model(), timeline=TimelineSettings(partitions=partitions), now=datetime(2100, 1, 1, tzinfo=UTC)
    )
    config = SimulationConfig(members=500, days=7, seed=1)
    scorer.feed([(number, raw) for number, (_key, raw) in enumerate(iter_encoded(config), 1)])
    return [encode_ledger(ledger) for _, ledger in scorer.ledgers()]


def member_key(index: int) -> str:
    return f"bench-{index:08d}"


def write_changelog(
    run: Run, topic: str, indexes: Iterable[int], templates: list[bytes]
) -> tuple[int, float]:
    """Produce one record per member index to the members changelog; returns (records, seconds)."""
    return asyncio.run(_write_changelog(run, topic, indexes, templates))


async def _write_changelog(
    run: Run, topic: str, indexes: Iterable[int], templates: list[bytes]
) -> tuple[int, float]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=run.bootstrap, acks=1, max_batch_size=1024 * 1024, **aiokafka_config(run.security)
    )
    await producer.start()
    started = time.perf_counter()
    records = 0
    try:
        batches: dict[int, Any] = {}
        pending: list[asyncio.Future[Any]] = []

        async def send(partition: int) -> None:
            pending.append(await producer.send_batch(batches.pop(partition), topic, partition=partition))
            if len(pending) >= 64:
                await asyncio.gather(*pending)
                pending.clear()

        for index in indexes:
            key = member_key(index)
            partition = partition_for(key, run.partitions)
            value = templates[index % len(templates)]
            batch = batches.get(partition)
            if batch is None:
                batch = batches[partition] = producer.create_batch()
            if batch.append(key=key.encode(), value=value, timestamp=None) is None:
                await send(partition)
                batches[partition] = producer.create_batch()
                batches[partition].append(key=key.encode(), value=value, timestamp=None)
            records += 1
        for partition in list(batches):
            await send(partition)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return records, time.perf_counter() - started


# -- workers ------------------------------------------------------------------------------------------
class Worker:
    """A worker process with its own log file (a restart gets a new one), and what its log said when."""

    def __init__(self, run: Run, env: dict[str, str], log_name: str) -> None:
        argv = [sys.executable, "-m", "ssi_stream.cli", "worker", "--loglevel", "INFO"]
        self.env = env
        self.name = log_name
        self.child = Child(argv, run.workdir / f"{log_name}.log", env)
        self.port = int(env["SSI_WEB_PORT"])
        self.seen: dict[str, list[float]] = defaultdict(list)  # needle -> monotonic times of each line
        self._read = 0

    @property
    def started(self) -> float:
        return self.child.started

    def poll(self) -> None:
        """Read the log's new lines and note the time of each watched line; raise if the process died."""
        with open(self.child.log, "rb") as log:
            log.seek(self._read)
            chunk = log.read()
        complete = chunk.rfind(b"\n") + 1
        self._read += complete
        now = time.monotonic()
        for line in chunk[:complete].decode(errors="replace").splitlines():
            for needle in (RECOVERED, REBALANCED):
                if needle in line:
                    self.seen[needle].append(now)
        if self.child.process.poll() is not None and self.child.process.returncode not in (0, -9):
            raise RuntimeError(f"{self.name} exited ({self.child.process.returncode}):\n{self.child.tail()}")

    def count(self, needle: str) -> int:
        return len(self.seen[needle])

    def last(self, needle: str) -> float:
        return self.seen[needle][-1]

    def get(self, path: str) -> int:
        """HTTP status of GET `path` on this worker (0: no answer)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def ready(self) -> bool:
        return self.get("/readyz") == 200

    def kill(self) -> None:
        self.child.process.send_signal(signal.SIGKILL)
        self.child.process.wait(timeout=30)

    def stop(self) -> None:
        self.child.stop()


def start(run: Run, name: str, store: str, log_name: str, **settings: str) -> Worker:
    env = run.worker_env(name, store, app=APP) | settings
    return Worker(run, env, log_name)


def until(what: str, condition: Callable[[], bool], workers: list[Worker], timeout: float = TIMEOUT) -> float:
    """Poll every 0.1 s until `condition()`; returns the monotonic time it first held."""
    deadline = time.monotonic() + timeout
    while True:
        for worker in workers:
            worker.poll()
        if condition():
            return time.monotonic()
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {w.name}\n{w.child.tail()}" for w in workers)
            raise RuntimeError(f"not {what} after {timeout:.0f} s:\n{tails}")
        time.sleep(0.1)


def settled(workers: list[Worker]) -> float:
    """Wait until every worker is ready and idle (has read all its changelog partitions, standbys too)."""
    until("ready", lambda: all(w.count(RECOVERED) and w.ready() for w in workers), workers)
    while True:
        before = [cpu_seconds(w.child) for w in workers]
        time.sleep(IDLE_WINDOW)
        for worker in workers:
            worker.poll()
        grew = [cpu_seconds(w.child) - b for w, b in zip(workers, before, strict=True)]
        if all(g < IDLE_CPU_SECONDS for g in grew) and all(w.ready() for w in workers):
            return time.monotonic() - IDLE_WINDOW


def recovered_once(worker: Worker) -> float:
    """Seconds from the worker's start to its first `Recovery complete`."""
    return until("recovered", lambda: worker.count(RECOVERED) > 0, [worker]) - worker.started


def probes(members: int, partitions: int) -> list[str]:
    """One member id on each partition: `GET /members/{id}/history` 200 means the partition is served."""
    found: dict[int, str] = {}
    for index in range(members):
        found.setdefault(partition_for(member_key(index), partitions), member_key(index))
        if len(found) == partitions:
            break
    return [found[p] for p in sorted(found)]


def answers_all(worker: Worker, members: list[str]) -> bool:
    return all(worker.get(f"/members/{member}/history?weeks=1") == 200 for member in members)


def rss_bytes(worker: Worker) -> int:
    for line in Path(f"/proc/{worker.child.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def data_dir(worker: Worker) -> Path:
    """Where Faust keeps this worker's tables (SSI_DATA_DIR/SSI_WORKER_ID, as the topology sets it)."""
    return Path(worker.env["SSI_DATA_DIR"]) / worker.env["SSI_WORKER_ID"]


# -- the measurements -----------------------------------------------------------------------------------
@dataclass
class Rows:
    baseline: float = 0.0
    rows: list[tuple[str, float, str]] = field(default_factory=list)

    def add(self, label: str, seconds: float, note: str = "") -> None:
        self.rows.append((label, seconds, note))
        ratio = f"{seconds / self.baseline:.2f}x" if self.baseline else ""
        print(f"  {label}: {seconds:.1f} s {ratio} {note}".rstrip(), flush=True)


def empty_worker(run: Run) -> tuple[float, int]:
    env = run.worker_env("empty", "memory://", app="empty")
    precreate_changelogs(run, env["SSI_APP_ID"], WORKER_TABLES)
    return recovered_and_stopped(Worker(run, env, "empty"))


def memory_restore(run: Run) -> tuple[float, int]:
    """(a) A fresh memory:// worker restores everything: seconds, and its RSS two seconds later."""
    return recovered_and_stopped(start(run, "memory", "memory://", "memory"))


def recovered_and_stopped(worker: Worker) -> tuple[float, int]:
    """Seconds to the worker's `Recovery complete`, and its RSS two seconds later; then it stops."""
    try:
        seconds = recovered_once(worker)
        time.sleep(2)
        return seconds, rss_bytes(worker)
    finally:
        worker.stop()


def kept_rocksdb(run: Run, rows: Rows, topic: str, tail: int, templates: list[bytes]) -> Path:
    """(b) First restore into an empty RocksDB dir, then two restarts on it; returns the kept dir."""
    first = start(run, "rocks", "rocksdb://", "rocks-1")
    try:
        rows.add("(b) rocksdb://, empty data dir: first restore", recovered_once(first))
    finally:
        first.stop()
    again = start(run, "rocks", "rocksdb://", "rocks-2")
    try:
        rows.add("(b) rocksdb://, restart on the kept data dir", recovered_once(again))
    finally:
        again.stop()
    records, seconds = write_changelog(run, topic, range(tail), templates)
    print(f"  ({records:,} changelog records written while it is down, {seconds:.1f} s)", flush=True)
    tailed = start(run, "rocks", "rocksdb://", "rocks-3")
    try:
        rows.add(
            f"(b) rocksdb://, restart on the kept data dir + {records:,} new records", recovered_once(tailed)
        )
    finally:
        tailed.stop()
    return data_dir(tailed)


def takeover(run: Run, label: str, store: str, standby: int, members: list[str], kept: Path | None) -> dict:
    """Two workers A (on a copy of `kept`, if given) then B; both settled; SIGKILL A: B's takeover."""
    settings = {"SSI_STANDBY_REPLICAS": str(standby)}
    a_env = run.worker_env(f"{label}-a", store, app=APP) | settings
    if kept is not None:
        shutil.copytree(kept, Path(a_env["SSI_DATA_DIR"]) / a_env["SSI_WORKER_ID"])
    a = Worker(run, a_env, f"{label}-a")
    b: Worker | None = None
    try:
        a_seconds = recovered_once(a)
        settled([a])
        b = start(run, f"{label}-b", store, f"{label}-b", **settings)
        b_settled = settled([a, b]) - b.started
        # the last restore, not the first: a rebalance can end one early (Faust then logs it complete)
        b_recovered_at = b.last(RECOVERED)
        b_recovered = b_recovered_at - b.started
        b_restore = b_recovered_at - max(t for t in b.seen[REBALANCED] if t <= b_recovered_at)
        until("B answering for every partition", lambda: answers_all(b, members), [a, b], timeout=120)
        rebalances, recoveries = b.count(REBALANCED), b.count(RECOVERED)
        a.kill()
        killed = time.monotonic()
        rebalanced = until("B rebalanced", lambda: b.count(REBALANCED) > rebalances, [b]) - killed
        recovered = until("B recovered again", lambda: b.count(RECOVERED) > recoveries, [b]) - killed
        answered = until("B answering", lambda: b.ready() and answers_all(b, members), [b]) - killed
    finally:
        a.stop()
        if b is not None:
            b.stop()
    return {
        "a_recovered": a_seconds,
        "b_recovered": b_recovered,
        "b_restore_after_rebalance": b_restore,
        "b_settled": b_settled,
        "rebalanced_after_kill": rebalanced,
        "recovered_after_kill": recovered,
        "answered_after_kill": answered,
    }


def report_takeover(rows: Rows, label: str, figures: dict) -> None:
    rows.add(
        f"{label}: SIGKILL A -> B answers for every partition",
        figures["answered_after_kill"],
        f"(rebalance {figures['rebalanced_after_kill']:.1f} s, `Recovery complete` "
        f"{figures['recovered_after_kill']:.1f} s; B from its start: restored its actives "
        f"{figures['b_recovered']:.1f} s, of which {figures['b_restore_after_rebalance']:.1f} s after its "
        f"rebalance; caught up {figures['b_settled']:.1f} s)",
    )
    rows.add(
        f"{label}: B's rebalance -> `Recovery complete`",
        figures["recovered_after_kill"] - figures["rebalanced_after_kill"],
    )


def scale_out(run: Run) -> dict:
    """(e) Two fresh memory:// workers started together: seconds until each has settled."""
    pair = [start(run, f"pair-{n}", "memory://", f"pair-{n}") for n in "ab"]
    try:
        settled(pair)
        return {w.name: w.last(RECOVERED) - w.started for w in pair}
    finally:
        for worker in pair:
            worker.stop()


def per_partition(members: int, run: Run, seconds: float, workers: int) -> str:
    """The restore rate of one worker holding 1/`workers` of the partitions, and its seconds per partition."""
    held = run.partitions / workers
    return f"({members / workers / seconds:,.0f} records/s, {seconds / held:.1f} s per partition held)"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, help="default 1,000,000 (100,000 with --quick)")
    parser.add_argument("--quick", action="store_true", help="100,000 members")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument(
        "--tail", type=int, default=5000, help="records written while the rocksdb worker is down"
    )
    parser.add_argument("--memory-standby", action="store_true", help="also (c) with memory://")
    parser.add_argument(
        "--skip", action="append", default=[], choices=["rocksdb", "standby", "takeover", "scale-out"]
    )
    parser.add_argument("--bootstrap", help="default: SSI_BROKER, else the local broker")
    args = parser.parse_args()
    members = args.members or (100_000 if args.quick else 1_000_000)
    settings = Settings.from_env()
    bootstrap = args.bootstrap or resolve_bootstrap(settings)
    run_id = time.strftime("%m%d%H%M%S") + uuid.uuid4().hex[:4]
    workdir = RESULTS / f"recovery-{run_id}"
    workdir.mkdir(parents=True, exist_ok=True)
    run = Run(bootstrap, run_id, args.partitions, workdir, load_security(settings))
    loads = [load_average()]
    print(f"run {run_id}, commit {git_commit()}, {members:,} members, load average {loads[0]}", flush=True)

    templates = template_ledgers(args.partitions)
    mean_bytes = sum(map(len, templates)) / len(templates)
    print(f"{len(templates)} template ledgers, mean {mean_bytes:.0f} B", flush=True)
    empty_seconds, empty_rss = empty_worker(run)
    print(f"empty tables: recovered in {empty_seconds:.1f} s, RSS {empty_rss / 2**20:.0f} MiB", flush=True)

    app_id = run.worker_env("x", "memory://", app=APP)["SSI_APP_ID"]
    topic = f"{app_id}-members-changelog"
    precreate_changelogs(run, app_id, WORKER_TABLES)
    records, produce_seconds = write_changelog(run, topic, range(members), templates)
    print(f"changelog: {records:,} records in {produce_seconds:.1f} s", flush=True)

    seconds, rss = memory_restore(run)
    rows = Rows(baseline=seconds)
    rows.add("(a) memory://, fresh worker restores everything (baseline)", seconds)
    loads.append(load_average())
    figures: dict[str, Any] = {
        "run": run_id,
        "commit": git_commit(),
        "members": members,
        "partitions": args.partitions,
        "template_mean_bytes": mean_bytes,
        "produce_seconds": produce_seconds,
        "empty_seconds": empty_seconds,
        "empty_rss": empty_rss,
        "memory_seconds": seconds,
        "rss": rss,
        "rss_per_member": (rss - empty_rss) / members,
        "records_per_second": members / max(1e-9, seconds - empty_seconds),
    }
    rate, over = figures["records_per_second"], figures["rss_per_member"]
    print(f"  {rate:,.0f} records/s; RSS {rss / 2**20:,.0f} MiB = {over:,.0f} B/member over the empty worker")
    member_probes = probes(members, args.partitions)
    kept = None
    if "rocksdb" not in args.skip:
        kept = kept_rocksdb(run, rows, topic, args.tail, templates)
        loads.append(load_average())
    if "standby" not in args.skip:
        figures["standby"] = takeover(run, "standby", "rocksdb://", 1, member_probes, kept)
        report_takeover(rows, "(c) rocksdb://, standby replicas 1", figures["standby"])
        loads.append(load_average())
    if "takeover" not in args.skip:
        figures["takeover"] = takeover(run, "nostandby", "rocksdb://", 0, member_probes, kept)
        report_takeover(rows, "(d) rocksdb://, no standby replicas", figures["takeover"])
        half = figures["takeover"]["b_restore_after_rebalance"]
        rows.add(
            "(e) k=2: B restores its half (rocksdb://, A idle), from its rebalance",
            half,
            per_partition(members, run, half, 2),
        )
        loads.append(load_average())
    if args.memory_standby:
        figures["memory_standby"] = takeover(run, "memstandby", "memory://", 1, member_probes, None)
        report_takeover(rows, "(c') memory://, standby replicas 1", figures["memory_standby"])
        loads.append(load_average())
    if "scale-out" not in args.skip:
        figures["scale_out"] = pair = scale_out(run)
        slower = max(pair.values())
        label = "(e) k=2: two fresh memory:// workers started together, the slower"
        rows.add(label, slower, per_partition(members, run, slower, 2))
        loads.append(load_average())
    figures["rows"] = rows.rows
    figures["load_averages"] = loads

    print(
        f"\n{members:,} members, {args.partitions} partitions, run {run_id}; load average {' / '.join(loads)}"
    )
    print("| | seconds | vs (a) | |\n|---|---:|---:|---|")
    print(f"| empty tables (start-up, group join) | {empty_seconds:.1f} | | |")
    for label, value, note in rows.rows:
        print(f"| {label} | {value:.1f} | {value / rows.baseline:.2f} | {note} |")
    (workdir.parent / f"recovery-{run_id}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
