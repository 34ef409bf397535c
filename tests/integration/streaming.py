"""Helpers for tests that run real workers on the real broker: produce a log, run workers, collect scores."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ssi_stream.ops.kafka_broker import free_port
from ssi_stream.ops.kafka_security import PLAINTEXT, KafkaSecurity, kafka_consumer
from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.replay import replay_log
from ssi_stream.scoring.model import load_model
from ssi_stream.stream.producer import produce_events
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.trend.alerts import AlertPolicy


@dataclass(frozen=True)
class StreamEnv:
    """A private set of topics and an app id, so tests never see each other's data."""

    bootstrap: str
    partitions: int = 4
    grace_seconds: int = 3600
    idle_close_seconds: int = 15
    store: str = "memory://"
    #: Alert thresholds the test population crosses in a few weeks (the defaults, 70 and 10, rarely).
    alert_threshold: int = 40
    alert_weekly_drop_points: int = 3
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def events_topic(self) -> str:
        return f"t{self.run_id}.events"

    @property
    def scores_topic(self) -> str:
        return f"t{self.run_id}.scores"

    @property
    def dlq_topic(self) -> str:
        return f"t{self.run_id}.dlq"

    @property
    def alerts_topic(self) -> str:
        return f"t{self.run_id}.alerts"

    def worker_env(self, data_dir: Path, worker_id: str) -> dict[str, str]:
        return {
            **os.environ,
            "SSI_BROKER": self.bootstrap,
            "SSI_APP_ID": f"ssi-test-{self.run_id}",
            "SSI_EVENTS_TOPIC": self.events_topic,
            "SSI_EFFECTS_TOPIC": f"t{self.run_id}.effects",
            "SSI_DLQ_TOPIC": self.dlq_topic,
            "SSI_SCORES_TOPIC": self.scores_topic,
            "SSI_ALERTS_TOPIC": self.alerts_topic,
            "SSI_PARTITIONS": str(self.partitions),
            "SSI_GRACE_SECONDS": str(self.grace_seconds),
            "SSI_IDLE_CLOSE_SECONDS": str(self.idle_close_seconds),
            "SSI_STORE": self.store,
            "SSI_ALERT_THRESHOLD": str(self.alert_threshold),
            "SSI_ALERT_WEEKLY_DROP_POINTS": str(self.alert_weekly_drop_points),
            "SSI_SESSION_TIMEOUT_SECONDS": "10",
            "SSI_DATA_DIR": str(data_dir),
            "SSI_WORKER_ID": worker_id,
            "SSI_WEB_PORT": str(free_port()),
        }

    def timeline(self) -> TimelineSettings:
        alerts = AlertPolicy(float(self.alert_threshold), float(self.alert_weekly_drop_points))
        return TimelineSettings(partitions=self.partitions, grace_seconds=self.grace_seconds, alerts=alerts)


def produce(
    bootstrap: str,
    topic: str,
    keyed: list[tuple[str, bytes]],
    partitions: int,
    *,
    security: KafkaSecurity = PLAINTEXT,
) -> None:
    """Send every (member_id, payload) in order, keyed by member so each member stays on one partition."""
    ensure_topics(bootstrap, [TopicSpec(topic, partitions)], security=security)
    assert produce_events(bootstrap, topic, keyed, security=security) == len(keyed)


def replay_records(keyed: list[tuple[str, bytes]], timeline: TimelineSettings) -> list[dict]:
    """What `ssi-stream replay` writes for the same log."""
    return replay_outputs(keyed, timeline)[0]


def replay_outputs(
    keyed: list[tuple[str, bytes]], timeline: TimelineSettings
) -> tuple[list[dict], list[dict], list[dict]]:
    """The score, dead-letter and alert records `ssi-stream replay` writes for the same log."""
    log = io.BytesIO(b"".join(value + b"\n" for _, value in keyed))
    out, dlq, alerts = io.BytesIO(), io.BytesIO(), io.BytesIO()
    replay_log(
        log,
        out,
        model=load_model(),
        timeline=timeline,
        now=datetime.now(UTC),
        dead_letters=dlq,
        alerts=alerts,
    )
    return tuple([orjson.loads(line) for line in f.getvalue().splitlines()] for f in (out, dlq, alerts))  # type: ignore[return-value]


def read_topic(
    bootstrap: str,
    topic: str,
    count: int,
    *,
    timeout: float,
    security: KafkaSecurity = PLAINTEXT,
    keyed_by_member: bool = False,
) -> list[dict]:
    """The first `count` JSON records of `topic` (fails if fewer arrive within `timeout` seconds); with
    `keyed_by_member`, each must be keyed and placed by its `member_id` (`assert_placed_by_member`)."""
    consumer = kafka_consumer(
        bootstrap, security, topic, auto_offset_reset="earliest", enable_auto_commit=False
    )
    records: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(records)} of {count} records arrived on {topic}")
            for batch in consumer.poll(timeout_ms=500).values():
                for record in batch:
                    records.append(orjson.loads(record.value))
                    if keyed_by_member:
                        assert_placed_by_member(consumer, record, records[-1])
    finally:
        consumer.close()
    return records


def assert_placed_by_member(consumer: Any, record: Any, value: dict) -> None:
    """`record` (of a kafka-python consumer) is keyed by its member id and on the partition Kafka's default
    partitioner gives that key among its topic's partitions: a consumer reads a member's records in order."""
    member_id = value["member_id"]
    assert record.key == member_id.encode(), f"{record.topic}: key {record.key!r} for member {member_id!r}"
    count = len(consumer.partitions_for_topic(record.topic))
    assert record.partition == partition_for(member_id, count), (
        f"{record.topic}[{record.partition}] holds a record of {member_id!r}, whose partition of {count} "
        f"is {partition_for(member_id, count)}"
    )


LAG_LINE = re.compile(r'^ssi_consumer_lag\{partition="(\d+)",topic="([^"]+)"\} (\S+)$', re.MULTILINE)


def consumer_lags(port: str) -> dict[tuple[str, int], float]:
    """A worker's ssi_consumer_lag series, by (topic, partition); OSError while it does not serve."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {(topic, int(partition)): float(value) for partition, topic, value in LAG_LINE.findall(text)}


def wait_until_caught_up(worker: Worker, partitions: int, timeout: float = 300) -> None:
    """Until the worker reports every partition of both topics read to its end, three scrapes in a row."""
    port = worker.env["SSI_WEB_PORT"]
    deadline, quiet, lags = time.monotonic() + timeout, 0, {}
    while quiet < 3:
        assert time.monotonic() < deadline, f"the worker never caught up: {lags}\n{worker.log_tail()}"
        time.sleep(1.0)
        with contextlib.suppress(OSError):  # not serving yet
            lags = consumer_lags(port)
        done = len(lags) == 2 * partitions and not any(lags.values())
        quiet = quiet + 1 if done else 0


#: A row or rule of the tables Faust logs (assignments, highwaters, offsets).
TABLE_ROW = re.compile(r"^\s*[|+\u3003]")


class Worker:
    """`ssi-stream worker` in a child process."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        log.write(f"==== started at {time.strftime('%H:%M:%S')} ====\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ssi_stream.cli", "worker", "--loglevel", "INFO"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode

    def log_tail(self, lines: int = 60) -> str:
        """The last `lines` lines of the log, without the rows of Faust's tables (topics, offsets), which
        would fill them after a rebalance."""
        with contextlib.suppress(FileNotFoundError):
            text = self.log_path.read_text(errors="replace").splitlines()
            return "\n".join([line for line in text if not TABLE_ROW.match(line)][-lines:])
        return ""


@contextlib.contextmanager
def running(*workers: Worker) -> Iterator[tuple[Worker, ...]]:
    for worker in workers:
        worker.start()
    try:
        yield workers
    finally:
        codes = [worker.stop() for worker in workers]
    # Reached only when the body succeeded: a worker must also shut down cleanly on SIGTERM.
    assert codes == [0] * len(workers), f"exit codes on SIGTERM: {codes}\n{_tails(workers)}"


def collect_scores(
    bootstrap: str,
    topic: str,
    expected: int,
    *,
    timeout: float,
    workers: tuple[Worker, ...] = (),
    on_progress: Callable[[int], None] = lambda count: None,
    security: KafkaSecurity = PLAINTEXT,
) -> dict[tuple[str, str], dict]:
    """Read score records until `expected` distinct (member, date) pairs arrived; redeliveries must agree.

    `on_progress` is called with the count so far after every poll (a test kills workers from it).
    """
    consumer = kafka_consumer(
        bootstrap, security, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    deadline = time.monotonic() + timeout
    while topic not in (consumer.topics() or set()):
        if time.monotonic() > deadline:
            raise AssertionError(f"score topic {topic} never appeared\n" + _tails(workers))
        time.sleep(0.5)
    consumer.subscribe([topic])
    scores: dict[tuple[str, str], dict] = {}
    try:
        while len(scores) < expected:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"only {len(scores)} of {expected} score records arrived; per date: "
                    f"{_per_date(scores)}\n" + _tails(workers)
                )
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    value = orjson.loads(record.value)
                    assert_placed_by_member(consumer, record, value)
                    key = (value["member_id"], value["date"])
                    if key in scores:
                        assert scores[key] == value, f"a redelivered score differs for {key}"
                    scores[key] = value
            on_progress(len(scores))
    finally:
        consumer.close()
    return scores


def _per_date(scores: dict[tuple[str, str], dict]) -> dict[str, int]:
    return dict(sorted(Counter(date for _, date in scores).items()))


def _tails(workers: tuple[Worker, ...]) -> str:
    return "\n".join(f"--- {w.log_path.name} ---\n{w.log_tail()}" for w in workers)
