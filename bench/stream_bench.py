"""Streaming benchmark: one worker end to end, its ceiling, two peers, the daily close, recovery, latency.

Everything runs in one invocation on one broker and one pre-produced log, one system at a time (the
machine has 2 cores: nothing is measured while another system runs), so the ratios are comparable:

  1. ceiling     a bare aiokafka consumer that reads and decodes the events topic (run first and last)
  2. worker      `ssi-stream worker` (memory://), from the first committed offset to the group's committed
                 offsets at the end of the events topic and of the effects topic
  3. recovery    that worker stopped (SIGTERM), a new one with a fresh data dir: seconds to "Recovery
                 complete" (the first worker's own start, on empty tables, is the baseline)
  4. quix        the same scoring on Quix Streams (`stream_peers.py quix`), measured like the worker
  5. quixdurable what the worker does up to its ledgers, on Quix Streams: decode, effects re-keyed by
                 member through a repartition topic, ledgers in Quix's state with a changelog; no closes
                 (`stream_peers.py quix-durable`), measured by its own clock like quix
  5. faust       a naive one-event-at-a-time Faust agent (`stream_peers.py faust`), measured likewise
  6. worker      again with rocksdb:// (unless --no-rocksdb)
  7. engine      the engine alone (`Replay`) in memory on the same log, one event per call (as the Quix
                 peer calls it) and in the worker's batches: the bound on any driver of the same core
  8. close       daily close of N members on the pure path and memory per member (`stream_peers.py close`)
  9. latency     a fresh worker fed events stamped "now" at half the worker's rate: produce → effect seen
                 send → effect appended, split by the broker's append times into the producer's share
                 and the worker's (after a warm-up, reported apart), plus its ssi_processing_seconds

    SSI_STREAM_HOME=bench/results/home .venv/bin/ssi-stream kafka up
    SSI_STREAM_HOME=bench/results/home .venv/bin/python bench/stream_bench.py [--quick]

Figures go to stdout and to bench/results/stream-<time>.json; child logs to bench/results/stream-<run>/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from kafka import TopicPartition

from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.kafka_broker import free_port
from ssi_stream.ops.kafka_security import (
    PLAINTEXT,
    KafkaSecurity,
    admin_client,
    kafka_consumer,
    load_security,
)
from ssi_stream.ops.settings import Settings
from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.simulation import SimulationConfig, iter_encoded, keyed_events
from ssi_stream.stream.ingest import ingest_group
from ssi_stream.stream.producer import produce_events
from ssi_stream.stream.wire import decode_frame

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PEERS = BENCH / "stream_peers.py"
RECOVERED = "Recovery complete"
PRECREATE = True


@dataclass(frozen=True)
class Run:
    bootstrap: str
    run_id: str
    partitions: int
    workdir: Path
    #: SSI_KAFKA_* of the environment: the workers and peers this starts read the same variables.
    security: KafkaSecurity = PLAINTEXT

    @property
    def events_topic(self) -> str:
        return f"bench.{self.run_id}.events"

    def worker_env(self, name: str, store: str, *, app: str | None = None) -> dict[str, str]:
        """`SSI_*` settings of a worker of the system `name` (its own app id and internal topics)."""
        app = app or name
        prefix = f"bench.{self.run_id}.{app}"
        return {
            **os.environ,
            "SSI_BROKER": self.bootstrap,
            "SSI_APP_ID": f"bench-{self.run_id}-{app}",
            "SSI_EVENTS_TOPIC": self.events_topic if app != "live" else f"{prefix}.events",
            "SSI_EFFECTS_TOPIC": f"{prefix}.effects",
            "SSI_DLQ_TOPIC": f"{prefix}.dlq",
            "SSI_SCORES_TOPIC": f"{prefix}.scores",
            "SSI_ALERTS_TOPIC": f"{prefix}.alerts",
            "SSI_PARTITIONS": str(self.partitions),
            "SSI_STORE": store,
            "SSI_SESSION_TIMEOUT_SECONDS": "10",
            "SSI_DATA_DIR": str(self.workdir / f"data-{name}"),
            "SSI_WORKER_ID": name,
            "SSI_WEB_PORT": str(free_port()),
        }


# -- child processes --------------------------------------------------------------------------------
class Child:
    """A child process with its output in a log file."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.env = env or dict(os.environ)
        with open(log, "ab") as out:
            self.started = time.monotonic()
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def wait_for(self, needle: str, timeout: float) -> float:
        """Seconds from start until `needle` appears in the log."""
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log.name} exited ({self.process.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {needle!r} in {self.log.name} after {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.1)
        return time.monotonic() - self.started

    def stop(self, timeout: float = 60) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode


def precreate_changelogs(run: Run, app_id: str, tables: tuple[str, ...]) -> None:
    """Create Faust's changelog topics before the app starts (compacted, like Faust's own).

    Under load, a worker that creates them itself can keep a stale view of them (0 partitions) and its
    agents crash with PartitionsMismatch in a loop; see BENCHMARKS.md ("Streaming", notes).
    """
    compact = (("cleanup.policy", "compact"),)
    specs = [TopicSpec(f"{app_id}-{table}-changelog", run.partitions, config=compact) for table in tables]
    ensure_topics(run.bootstrap, specs, security=run.security)


WORKER_TABLES = ("members", "source-clocks", "close-gates")


def worker(run: Run, env: dict[str, str]) -> Child:
    if PRECREATE:
        precreate_changelogs(run, env["SSI_APP_ID"], WORKER_TABLES)
    argv = [sys.executable, "-m", "ssi_stream.cli", "worker", "--loglevel", "INFO"]
    return Child(argv, run.workdir / f"worker-{env['SSI_WORKER_ID']}.log", env)


def peer(run: Run, name: str, *args: str) -> Child:
    return Child([sys.executable, str(PEERS), name, *map(str, args)], run.workdir / f"{name}.log")


def child_json(child: Child, timeout: float) -> dict[str, Any]:
    """The JSON line a peer prints at the end."""
    try:
        child.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.stop()
        raise RuntimeError(f"{child.log.name} timed out:\n{child.tail()}") from None
    if child.process.returncode != 0:
        raise RuntimeError(f"{child.log.name} failed:\n{child.tail()}")
    lines = [line for line in child.text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


# -- watching a consumer group --------------------------------------------------------------------------
class Offsets:
    def __init__(self, bootstrap: str, security: KafkaSecurity) -> None:
        self.admin = admin_client(bootstrap, security)
        self.consumer = kafka_consumer(bootstrap, security)

    def ends(self, topic: str, partitions: int) -> dict[TopicPartition, int]:
        return self.consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])

    def committed(self, group: str) -> dict[TopicPartition, int]:
        try:
            offsets = self.admin.list_group_offsets(group).get(group, {})
        except Exception:  # the group does not exist yet
            return {}
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    def close(self) -> None:
        self.admin.close()
        self.consumer.close()


def drain_rate(
    offsets: Offsets,
    child: Child,
    group: str,
    run: Run,
    total: int,
    drain_topics: tuple[str, ...] = (),
    timeout: float = 1800,
) -> dict[str, Any]:
    """Events/s from `group`'s first committed offset on the events topic until it has committed the end
    of the events topic and of every topic in `drain_topics` (polled every 0.2 s)."""
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    cpu_first = 0.0
    crash = CrashWatch(child.log)
    while True:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.log.name} exited ({child.process.returncode}):\n{child.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{group} did not finish in {timeout:.0f} s:\n{child.tail()}")
        crash.check()
        now = time.monotonic()
        committed = offsets.committed(group)
        done = sum(offset for tp, offset in committed.items() if tp.topic == run.events_topic)
        if first is None and done > 0:
            first, cpu_first = (now, done), cpu_seconds(child)
        if done >= total and all(
            committed.get(tp, 0) >= end
            for topic in drain_topics
            for tp, end in offsets.ends(topic, run.partitions).items()
        ):
            assert first is not None
            seconds = now - first[0]
            return {
                "events": total,
                "counted_events": total - first[1],
                "seconds": seconds,
                "rate": (total - first[1]) / seconds if seconds > 0 else math.inf,
                "since_process_start": now - child.started,
                # the child's CPU (user + system) over the measured window: < 1.0 means it was waiting
                "cpu_share": (cpu_seconds(child) - cpu_first) / seconds if seconds > 0 else 0.0,
            }
        time.sleep(0.2)


class CrashWatch:
    """Fails fast when a Faust agent in the child's log crashes (Faust restarts it and may loop)."""

    def __init__(self, log: Path) -> None:
        self.log, self.position, self.next_check = log, 0, 0.0

    def check(self) -> None:
        if time.monotonic() < self.next_check:
            return
        self.next_check = time.monotonic() + 2.0
        with open(self.log, "rb") as file:
            file.seek(self.position)
            text = file.read().decode(errors="replace")
        self.position += len(text.encode())
        crashed = re.search(r"Crashed reason=.{0,300}", text)
        if crashed:
            raise RuntimeError(f"{self.log.name}: an agent crashed: {crashed.group(0)}")


def cpu_seconds(child: Child) -> float:
    """User + system CPU seconds of the child process so far (Linux /proc)."""
    fields = Path(f"/proc/{child.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the measurements -----------------------------------------------------------------------------------
def ceiling(run: Run, total: int) -> dict[str, Any]:
    return child_json(peer(run, "ceiling", run.bootstrap, run.events_topic, total), timeout=600)


ROCKSDB_WORKERS: list[Child] = []


def worker_e2e(run: Run, offsets: Offsets, total: int, store: str, name: str) -> tuple[dict[str, Any], Child]:
    env = run.worker_env(name, store)
    child = worker(run, env)
    if store.startswith("rocksdb"):
        ROCKSDB_WORKERS.append(child)
    started = child.wait_for(RECOVERED, timeout=180)
    # both topics' offsets are committed by the worker's readers, for lag tools, to `<app>-ingest`
    group = ingest_group(env["SSI_APP_ID"])
    figures = drain_rate(offsets, child, group, run, total, (env["SSI_EFFECTS_TOPIC"],))
    figures["start_to_recovery_complete"] = started
    figures["waits"] = worker_waits(env["SSI_WEB_PORT"])
    return figures, child


def worker_waits(port: str) -> dict[str, float]:
    """The worker's own account of its waiting, from /metrics: seconds each stage waited for delivery, and
    the ingest for the absorb side (`ssi_delivery_wait_seconds_total`, `ssi_backpressure_seconds_total`)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    names = {
        ("ssi_delivery_wait_seconds_total", "place"): "delivery_place",
        ("ssi_delivery_wait_seconds_total", "absorb"): "delivery_absorb",
        ("ssi_backpressure_seconds_total", None): "backpressure",
        ("process_cpu_seconds_total", None): "cpu",
    }
    waits: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = names.get((sample.name, sample.labels.get("stage")))
            if name is not None:
                waits[name] = sample.value
    return waits


def recovery(run: Run, offsets: Offsets, first: Child) -> dict[str, Any]:
    """Stop the e2e worker, start another with a fresh data dir (memory://): seconds to restore."""
    first.stop()
    env = run.worker_env("restored", "memory://", app="memory")
    changelog = f"{env['SSI_APP_ID']}-members-changelog"
    records = sum(offsets.ends(changelog, run.partitions).values())
    child = worker(run, env)
    try:
        seconds = child.wait_for(RECOVERED, timeout=600)
    finally:
        child.stop()
    return {"members_changelog_records": records, "seconds": seconds}


def quix(run: Run, offsets: Offsets, total: int) -> dict[str, Any]:
    group = f"bench-{run.run_id}-quix"
    out = f"bench.{run.run_id}.quix.scores"
    child = peer(
        run,
        "quix",
        run.bootstrap,
        run.events_topic,
        group,
        out,
        run.partitions,
        run.workdir / "quix-state",
        total,
    )
    try:
        by_offsets = drain_rate(offsets, child, group, run, total)
    finally:
        child.stop()
    # Quix is fast enough that 1 s commit steps blur the offsets' figure: its own clock (first message to
    # the last one scored) is the rate; the committed-offsets figure is kept for reference.
    lines = [line for line in child.text().splitlines() if line.startswith("{")]
    figures = json.loads(lines[-1])
    figures["by_committed_offsets"] = by_offsets
    figures["cpu_share"] = by_offsets["cpu_share"]
    return figures


def quix_durable(run: Run, offsets: Offsets, total: int) -> dict[str, Any]:
    group = f"bench-{run.run_id}-quixdurable"
    child = peer(
        run,
        "quix-durable",
        run.bootstrap,
        run.events_topic,
        group,
        run.partitions,
        run.workdir / "quixd",
        total,
    )
    try:
        by_offsets = drain_rate(offsets, child, group, run, total)
        figures = child_report(child, timeout=600)
    finally:
        child.stop()
    figures["by_committed_offsets"] = by_offsets
    figures["cpu_share"] = by_offsets["cpu_share"]
    return figures


def child_report(child: Child, timeout: float) -> dict[str, Any]:
    """The JSON line a running peer prints when it is done (it keeps running: the caller stops it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in child.text().splitlines() if line.startswith("{")]
        if lines:
            return json.loads(lines[-1])
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.log.name} exited ({child.process.returncode}):\n{child.tail()}")
        time.sleep(0.2)
    raise RuntimeError(f"{child.log.name} reported nothing in {timeout:.0f} s:\n{child.tail()}")


def faust_naive(run: Run, offsets: Offsets, total: int) -> dict[str, Any]:
    group = f"bench-{run.run_id}-faust"
    if PRECREATE:
        precreate_changelogs(run, group, ("ledgers",))
    child = peer(
        run,
        "faust",
        run.bootstrap,
        run.events_topic,
        group,
        run.partitions,
        run.workdir / "faust-data",
        free_port(),
    )
    try:
        return drain_rate(offsets, child, group, run, total)
    finally:
        child.stop()


def engine_alone(run: Run, log: Path) -> dict[str, Any]:
    batch = os.environ.get("SSI_BATCH_MAX", str(Settings.from_env().batch_max))
    return child_json(peer(run, "engine", log, run.partitions, batch), timeout=3600)


def daily_close(run: Run, log: Path, sizes: list[int]) -> dict[str, Any]:
    child = peer(run, "close", log, run.partitions, ",".join(map(str, sizes)))
    return child_json(child, timeout=3600)


#: With `--latency-close`, the first events are stamped this long before they are sent.
CLOSE_SHIFT_SECONDS = 2 * 86_400


def live_events(
    members: int, count: int, stamps: dict[str, float], shifted: int = 0
) -> Iterator[tuple[str, bytes]]:
    """Simulated events re-stamped `occurred_at = now` as they are sent (the first `shifted` of them two
    days earlier: when the rest come, the days before today close); `stamps` gets each id's send time."""
    days = max(1, math.ceil(count / (members * 6)))
    config = SimulationConfig(members=members, days=days, seed=2, start=date.today())
    sent = 0
    for key, event in keyed_events(config):
        if sent >= count:
            return
        assert isinstance(event, dict)
        now = time.time()
        at = now - CLOSE_SHIFT_SECONDS if sent < shifted else now
        event["occurred_at"] = (
            datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
        stamps[event["event_id"]] = now
        sent += 1  # noqa: SIM113 - the generator stops at `count`, before the next item is made
        yield key, orjson.dumps(event)


def latency(
    run: Run, members: int, rate: float, seconds: float, warmup: float, *, close: bool = False
) -> dict[str, Any]:
    """Events stamped now, at `rate`/s, into a fresh worker; its events and effects topics are created
    with `message.timestamp.type=LogAppendTime`, so the broker stamps each record as it appends it, and
    both are read after the run (no consumer competes with the producer for this process's CPU). Per
    event: send → the actor's effect appended (end to end), split into the producer's share (send →
    event appended: this script's kafka-python producer) and the worker's (event appended → effect
    appended). The first `warmup` seconds of events are reported apart (`warmup`); the worker's
    share is also given as its maximum in each second of the run. Plus `ssi_processing_seconds` and
    the worker's waits (`worker_waits`).

    With `close`, the events of the warm-up and the first half of the measured seconds are stamped two
    days back, the rest now: the days between close (every member) while events keep coming, and the
    events sent in the 10 s after the switch are also reported apart (`after_switch`)."""
    env = run.worker_env("live", "memory://", app="live")
    appended = (("message.timestamp.type", "LogAppendTime"),)
    events_topic, effects_topic = env["SSI_EVENTS_TOPIC"], env["SSI_EFFECTS_TOPIC"]
    ensure_topics(
        run.bootstrap,
        [TopicSpec(name, run.partitions, config=appended) for name in (events_topic, effects_topic)],
        security=run.security,
    )
    child = worker(run, env)
    try:
        child.wait_for(RECOVERED, timeout=180)
        time.sleep(3)
        stamps: dict[str, float] = {}  # event id -> when it was handed to the producer
        warm, count = int(rate * warmup), int(rate * seconds)
        shifted = warm + count // 2 if close else 0
        produced = produce_events(
            run.bootstrap,
            events_topic,
            live_events(members, warm + count, stamps, shifted),
            rate=rate,
            security=run.security,
        )
        time.sleep(5)  # the last effects
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{env['SSI_WEB_PORT']}/metrics", timeout=10).read()
        waits = worker_waits(env["SSI_WEB_PORT"])
    finally:
        child.stop()
    event_appended = {
        orjson.loads(value)["event_id"]: at for value, at in _appended(run, events_topic) if value
    }
    effect_appended: dict[str, float] = {}  # event id -> when its actor's effect was appended
    for value, at in _appended(run, effects_topic):
        with contextlib.suppress(Exception):  # frames of effects, marks, shares
            for message in decode_frame(value):
                effect_id = getattr(getattr(message, "effect", None), "effect_id", "")
                if effect_id.endswith("/a"):
                    effect_appended.setdefault(effect_id[:-2], at)
    sent_times = list(stamps.values())
    measured_from = sent_times[warm] if warm < len(sent_times) else math.inf
    switched_at = sent_times[shifted] if 0 < shifted < len(sent_times) else math.inf
    after_switch: list[float] = []  # the worker's share of events sent in the 10 s after the switch
    first_sent = sent_times[0] if sent_times else 0.0
    names = ("send_to_effect_ms", "producer_ms", "worker_ms")
    shares: dict[str, dict[str, list[float]]] = {
        phase: {n: [] for n in names} for phase in ("warmup", "measured")
    }
    worst: dict[int, float] = {}  # second of the run -> the worker's largest share in it (ms)
    for event_id, effect_at in effect_appended.items():
        sent, event_at = stamps.get(event_id), event_appended.get(event_id)
        if sent is None or event_at is None:
            continue
        phase = shares["measured" if sent >= measured_from else "warmup"]
        phase["send_to_effect_ms"].append((effect_at - sent) * 1000)
        phase["producer_ms"].append((event_at - sent) * 1000)
        phase["worker_ms"].append((effect_at - event_at) * 1000)
        second = int(sent - first_sent)
        worst[second] = max(worst.get(second, 0.0), phase["worker_ms"][-1])
        if switched_at <= sent < switched_at + 10:
            after_switch.append(phase["worker_ms"][-1])
    exposition = metrics.decode()
    return {
        "rate": rate,
        "warmup_seconds": warmup,
        "produced": produced,
        "effects_seen": len(shares["measured"]["send_to_effect_ms"]),
        **{name: _quantiles(values) for name, values in shares["measured"].items()},
        "warmup": {name: _quantiles(values) for name, values in shares["warmup"].items()},
        "worker_ms_max_by_second": [round(worst.get(s, math.nan)) for s in range(max(worst, default=-1) + 1)],
        "switch_second": None if math.isinf(switched_at) else round(switched_at - first_sent, 1),
        "after_switch": {"worker_ms": _quantiles(after_switch)},
        "processing_ms": {stage: _histogram_quantiles(exposition, stage) for stage in ("place", "absorb")},
        "waits": waits,
        "day_closes": {
            name: _metric_value(exposition, f"ssi_daily_close_seconds_{name}") for name in ("count", "sum")
        },
        "loop_lag": _loop_lag(exposition),
    }


def _loop_lag(exposition: str) -> dict[str, float]:
    """The worker's `ssi_event_loop_lag_seconds`: its 50 ms sleeps, and how many woke 50 / 100 / 250 ms
    late or more (from the histogram's buckets; one stall can span several sleeps only once)."""
    buckets = {
        le: float(count)
        for le, count in re.findall(
            r'^ssi_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', exposition, re.M
        )
    }
    total = buckets.get("+Inf")
    if not total:
        return {}
    return {
        "sleeps": total,
        **{f"over_{ms}ms": total - buckets.get(f"{ms / 1000}", total) for ms in (50, 100, 250)},
    }


def _appended(run: Run, topic: str) -> Iterator[tuple[bytes | None, float]]:
    """Every record of `topic` now, as (value, the broker's append time in seconds)."""
    consumer = kafka_consumer(run.bootstrap, run.security, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in range(run.partitions)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        deadline = time.monotonic() + 300
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not read {topic} to its end")
            for records in consumer.poll(timeout_ms=500, max_records=10_000).values():
                for record in records:
                    yield record.value, record.timestamp / 1000
    finally:
        consumer.close()


def _metric_value(exposition: str, name: str) -> float | None:
    """The value of an unlabelled sample in a /metrics text (None if absent)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", exposition, re.MULTILINE)
    return float(found.group(1)) if found else None


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": values[-1]}


def _histogram_quantiles(exposition: str, stage: str) -> dict[str, float]:
    """p50/p99 (ms) of `ssi_processing_seconds{stage=...}` by linear interpolation within buckets."""
    pattern = re.compile(r'ssi_processing_seconds_bucket\{le="([^"]+)",stage="' + stage + r'"\} (\S+)')
    pattern2 = re.compile(r'ssi_processing_seconds_bucket\{stage="' + stage + r'",le="([^"]+)"\} (\S+)')
    buckets = sorted(
        (math.inf if le == "+Inf" else float(le), float(count))
        for le, count in pattern.findall(exposition) + pattern2.findall(exposition)
    )
    if not buckets or buckets[-1][1] == 0:
        return {}
    total = buckets[-1][1]
    result = {"count": total}
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        rank, lower, below = q * total, 0.0, 0.0
        for upper, cumulative in buckets:
            if cumulative >= rank:
                if math.isinf(upper):
                    result[name] = lower * 1000
                else:
                    result[name] = (
                        lower + (upper - lower) * (rank - below) / max(cumulative - below, 1)
                    ) * 1000
                break
            lower, below = upper, cumulative
    return result


# -- main ----------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="the simulator's activity scale")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--close-members", default="100000,200000", help="sizes for the daily close")
    parser.add_argument("--latency-seconds", type=float, help="default 30 (10 with --quick)")
    parser.add_argument(
        "--latency-warmup",
        type=float,
        default=10.0,
        help="seconds of events sent first and reported apart (the first seconds of a fresh app on a "
        "young broker stall; BENCHMARKS.md, Session 12)",
    )
    parser.add_argument(
        "--latency-rate", type=float, help="events/s of the latency run (default: half the worker's rate)"
    )
    parser.add_argument(
        "--latency-close",
        action="store_true",
        help="stamp the latency run's first events two days back, so days close (every member) mid-run",
    )
    parser.add_argument("--no-rocksdb", action="store_true", help="skip the rocksdb:// worker run")
    parser.add_argument(
        "--quick", action="store_true", help="300 members × 5 days, close 20,000, 10 s latency"
    )
    parser.add_argument("--bootstrap", help="default: SSI_BROKER, else the local broker")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help="which to run, in this order, comma separated (the worker is always run: the ratios are to it)",
    )
    parser.add_argument(
        "--faust-creates-changelogs", action="store_true", help="do not pre-create Faust's changelog topics"
    )
    parser.add_argument("--keep-topics", action="store_true", help="leave the run's topics on the broker")
    args = parser.parse_args()
    global PRECREATE
    PRECREATE = not args.faust_creates_changelogs
    if args.quick:
        args.members, args.days, args.close_members = 300, 5, "20000"
    if args.latency_seconds is None:
        args.latency_seconds = 10 if args.quick else 30

    settings = Settings.from_env()
    bootstrap = args.bootstrap or resolve_bootstrap(settings)
    run_id = time.strftime("%m%d%H%M%S") + uuid.uuid4().hex[:4]
    workdir = RESULTS / f"stream-{run_id}"
    workdir.mkdir(parents=True, exist_ok=True)
    run = Run(bootstrap, run_id, args.partitions, workdir, load_security(settings))
    results: dict[str, Any] = {
        "argv": sys.argv[1:],
        "python": platform.python_version(),
        "bootstrap": bootstrap,
        "run_id": run_id,
    }
    with contextlib.suppress(Exception):
        import quixstreams

        results["quixstreams"] = quixstreams.__version__

    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    config = SimulationConfig(
        members=args.members,
        days=args.days,
        seed=args.seed,
        events_per_member_day_scale=args.scale,
        jitter_seconds=600,
        duplicate_rate=0.005,
        invalid_rate=0.001,
    )
    keyed = list(iter_encoded(config))
    log = workdir / "events.jsonl"
    log.write_bytes(b"".join(value + b"\n" for _, value in keyed))
    ensure_topics(bootstrap, [TopicSpec(run.events_topic, run.partitions)], security=run.security)
    started = time.monotonic()
    produce_events(bootstrap, run.events_topic, keyed, security=run.security)
    offsets = Offsets(bootstrap, run.security)
    total = sum(offsets.ends(run.events_topic, run.partitions).values())
    results["log"] = {
        "members": args.members,
        "days": args.days,
        "scale": args.scale,
        "events": total,
        "bytes": log.stat().st_size,
        "produce_seconds": time.monotonic() - started,
    }
    say(f"log: {total:,} events ({args.members:,} members × {args.days} days) on {run.events_topic}")
    del keyed

    systems = set(args.systems.split(","))
    unknown = systems - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; choose from {','.join(SYSTEMS)}")
    try:
        results["ceiling"] = [ceiling(run, total)] if "ceiling" in systems else []
        if results["ceiling"]:
            say(f"ceiling: {results['ceiling'][0]['rate']:,.0f} events/s")
        results["worker_memory"], first = worker_e2e(run, offsets, total, "memory://", "memory")
        say(f"worker memory://: {results['worker_memory']['rate']:,.0f} events/s")
        if "recovery" in systems:
            results["recovery"] = recovery(run, offsets, first)  # stops the first worker
            say(f"recovery: {results['recovery']}")
        else:
            first.stop()
        if "quix" in systems:
            results["quix"] = quix(run, offsets, total)
            say(f"quix: {results['quix']['rate']:,.0f} events/s")
        if "quixdurable" in systems:
            results["quix_durable"] = quix_durable(run, offsets, total)
            say(f"quix durable: {results['quix_durable']['rate']:,.0f} events/s")
        if "faust" in systems:
            results["faust_naive"] = faust_naive(run, offsets, total)
            say(f"faust naive: {results['faust_naive']['rate']:,.0f} events/s")
        if "rocksdb" in systems and not args.no_rocksdb:
            try:
                results["worker_rocksdb"], _ = worker_e2e(run, offsets, total, "rocksdb://", "rocksdb")
                say(f"worker rocksdb://: {results['worker_rocksdb']['rate']:,.0f} events/s")
            except RuntimeError as error:
                results["worker_rocksdb_error"] = str(error)[:2000]
                say(f"worker rocksdb:// failed: {str(error)[:300]}")
            finally:
                for child in ROCKSDB_WORKERS:
                    child.stop()
        if "ceiling" in systems:
            results["ceiling"].append(ceiling(run, total))
            say(f"ceiling again: {results['ceiling'][1]['rate']:,.0f} events/s")
        if "engine" in systems:
            results["engine"] = engine_alone(run, log)
            say(
                f"engine alone: {results['engine']['rate']:,.0f} events/s one per call, "
                f"{results['engine']['batched']['rate']:,.0f} batched"
            )
        if "close" in systems:
            sizes = [int(size) for size in args.close_members.split(",")]
            results["close"] = daily_close(run, log, sizes)
            say(f"close: {results['close']['runs']}")
        if "latency" in systems:
            rate = args.latency_rate or results["worker_memory"]["rate"] / 2
            results["latency"] = latency(
                run,
                args.members,
                rate,
                args.latency_seconds,
                args.latency_warmup,
                close=args.latency_close,
            )
            say(f"latency: {results['latency']}")
    finally:
        out = RESULTS / f"stream-{run_id}.json"
        out.write_text(json.dumps(results, indent=2))
        offsets.close()
        print(f"figures: {out}")
        if not args.keep_topics:
            drop_topics(run.bootstrap, run.security, run.run_id)
    summarise(results)


def drop_topics(bootstrap: str, security: KafkaSecurity, run_id: str) -> None:
    """Delete a run's topics (those whose name holds `run_id`: its log, every system's internal topics
    and changelogs): a broker that keeps every run's partitions answers later runs more slowly."""
    admin = admin_client(bootstrap, security)
    try:
        mine = [topic for topic in admin.list_topics() if run_id in topic]
        if mine:
            admin.delete_topics(mine)
    except Exception as exc:  # the figures are written: a broker that refuses only costs disk
        print(f"could not delete the run's topics: {exc!r}", file=sys.stderr)
    finally:
        admin.close()


#: The systems `--systems` chooses from, in the order they run.
SYSTEMS = (
    "ceiling",
    "worker",
    "recovery",
    "quix",
    "quixdurable",
    "faust",
    "rocksdb",
    "engine",
    "close",
    "latency",
)


def summarise(results: dict[str, Any]) -> None:
    best_ceiling = max((c["rate"] for c in results["ceiling"]), default=math.nan)
    worker_rate = results["worker_memory"]["rate"]
    rows = [("ceiling (aiokafka read + decode), best of 2", best_ceiling, math.nan)]
    for key, name in (
        ("worker_memory", "ssi-stream worker, memory://"),
        ("worker_rocksdb", "ssi-stream worker, rocksdb://"),
        ("quix", "peer: Quix Streams + Replay (the engine)"),
        ("quix_durable", "peer: Quix, re-keyed durable ledgers, no closes"),
        ("faust_naive", "peer: naive Faust agent"),
    ):
        if key in results:
            rows.append((name, results[key]["rate"], results[key].get("cpu_share", math.nan)))
    if "engine" in results:
        rows.append(("engine alone, in memory, one event per call", results["engine"]["rate"], 1.0))
        rows.append(("engine alone, in memory, batched", results["engine"]["batched"]["rate"], 1.0))
    print(f"\n{'system':<48}{'events/s':>10}{'÷ ceiling':>11}{'worker ÷':>10}{'CPU':>6}")
    for name, rate, cpu in rows:
        print(f"{name:<48}{rate:>10,.0f}{rate / best_ceiling:>11.3f}{worker_rate / rate:>10.2f}{cpu:>6.2f}")
    print("ceiling runs: " + ", ".join(f"{c['rate']:,.0f}" for c in results["ceiling"]))
    waits = results["worker_memory"].get("waits", {})
    print(
        "worker waits (s, from its /metrics): "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in waits.items())
        + f"; drain {results['worker_memory']['seconds']:.2f} s"
    )
    close = results.get("close", {"runs": []})
    for entry in close["runs"]:
        print(
            f"close: {entry['members']:,} members in {entry['seconds']:.1f} s "
            f"({entry['us_per_member']:.0f} µs each, {entry['records']:,} records) → 1M ≈ "
            f"{entry['us_per_member']:.0f} s; RSS/member encoded "
            f"{entry['rss_bytes_per_member_encoded']:.0f} B, "
            f"decoded {entry['rss_bytes_per_member_decoded']:.0f} B"
        )
    if close["runs"]:
        print(f"ledger bytes: {close['ledger_bytes']} over {close['template_members']:,} template members")
    rec = results.get("recovery")
    if rec:
        print(
            f"recovery: {rec['members_changelog_records']:,} changelog records in {rec['seconds']:.1f} s "
            f"(fresh start {results['worker_memory']['start_to_recovery_complete']:.1f} s)"
        )
    if "latency" in results:
        print(f"latency: {json.dumps(results['latency'])}")
    if results["ceiling"]:
        print(f"median ceiling {statistics.median(c['rate'] for c in results['ceiling']):,.0f}")


if __name__ == "__main__":
    main()
