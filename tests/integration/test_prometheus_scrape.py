"""A real Prometheus scrapes a running worker's /metrics and sees the values move while events flow."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from kafka import KafkaProducer

from ssi_stream.ops.kafka_broker import free_port
from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.simulation import SimulationConfig, iter_encoded

from .streaming import StreamEnv, Worker, replay_records, running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
JOB = "ssi-worker"
T = TypeVar("T")
CHUNKS = 20  # the log is produced in this many chunks, one a second, so counters move between queries


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def wait_for(what: str, check: Callable[[], T | None], timeout: float, on_fail: Callable[[], str]) -> T:
    """Poll `check` until it returns a truthy value; fail with `what` and `on_fail()` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except OSError:  # not listening yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{on_fail()}")
        time.sleep(0.5)


class Prometheus:
    """A Prometheus server on 127.0.0.1 scraping one target every second."""

    def __init__(self, workdir: Path, target: str) -> None:
        if not PROMETHEUS.exists():
            pytest.fail(f"{PROMETHEUS} is missing: install Prometheus (`make system-tools`)")
        self.port = free_port()
        self.log_path = workdir / "prometheus.log"
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: {JOB}\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        self.command = [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Prometheus:
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        wait_for("Prometheus to be ready", lambda: self._ready(), 30, self.log_tail)
        return self

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, (
            "Prometheus exited\n" + self.log_tail()
        )
        return http_get(f"http://127.0.0.1:{self.port}/-/ready")[0] == 200

    def query(self, promql: str) -> float | None:
        """The instant value of a single-series query, or None when it has no result yet."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        answer = json.loads(http_get(url)[2])
        assert answer["status"] == "success", answer
        result = answer["data"]["result"]
        assert len(result) <= 1, f"{promql} has several series: {result}"
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def produce_slowly(bootstrap: str, topic: str, keyed: list[tuple[str, bytes]], partitions: int) -> None:
    """Send the log in `CHUNKS` chunks, one a second: events keep flowing while Prometheus is queried."""
    ensure_topics(bootstrap, [TopicSpec(topic, partitions)])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    size = -(-len(keyed) // CHUNKS)
    try:
        for start in range(0, len(keyed), size):
            for key, value in keyed[start : start + size]:
                producer.send(topic, key=key.encode(), value=value)
            producer.flush()
            time.sleep(1.0)
    finally:
        producer.close()


def test_prometheus_scrapes_a_worker_and_sees_its_counters_move(kafka_bootstrap: str, tmp_path: Path) -> None:
    config = SimulationConfig(members=150, days=10, seed=5, duplicate_rate=0.01, invalid_rate=0.01)
    log = list(iter_encoded(config))
    env = StreamEnv(kafka_bootstrap, idle_close_seconds=5)
    worker_env = env.worker_env(tmp_path / "data", "w1")
    web = f"127.0.0.1:{worker_env['SSI_WEB_PORT']}"
    worker = Worker(worker_env, tmp_path / "w1.log")
    (tmp_path / "prometheus").mkdir()
    prometheus = Prometheus(tmp_path / "prometheus", web)

    def tails() -> str:
        return f"--- worker ---\n{worker.log_tail()}\n--- prometheus ---\n{prometheus.log_tail()}"

    expected = replay_records(log, env.timeline())
    consumed = f'sum(ssi_events_consumed_total{{job="{JOB}"}})'
    closed_records = f'sum(ssi_daily_close_records_total{{job="{JOB}"}})'
    with running(worker):
        wait_for("the worker's /healthz", lambda: http_get(f"http://{web}/healthz")[0] == 200, 60, tails)
        status, content_type, body = http_get(f"http://{web}/metrics")
        assert (status, content_type.split(";")[0]) == (200, "text/plain")
        lint = subprocess.run([str(PROMTOOL), "check", "metrics"], input=body, capture_output=True)
        assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()

        prometheus.start()
        try:
            with ThreadPoolExecutor(1) as pool:
                sending = pool.submit(produce_slowly, kafka_bootstrap, env.events_topic, log, env.partitions)
                wait_for("up == 1", lambda: prometheus.query(f'up{{job="{JOB}"}}') == 1, 30, tails)
                first = wait_for("events consumed > 0", lambda: prometheus.query(consumed), 60, tails)
                wait_for(
                    f"events consumed to grow past {first}",
                    lambda: (prometheus.query(consumed) or 0) > first,
                    30,
                    tails,
                )
                if sending.done():
                    sending.result()  # a producer failure, raised here
                    raise AssertionError("the log was all produced before the counter moved twice")
                sending.result()
            wait_for(
                f"all {len(log)} events to be counted",
                lambda: prometheus.query(consumed) == len(log),
                90,
                lambda: f"{prometheus.query(consumed)} counted\n{tails()}",
            )
            wait_for(
                f"all {len(expected)} daily records once every day closed",
                lambda: prometheus.query(closed_records) == len(expected),
                60,
                lambda: f"{prometheus.query(closed_records)} records\n{tails()}",
            )
            wait_for("no consumer lag", lambda: prometheus.query("max(ssi_consumer_lag)") == 0, 30, tails)
            found = {
                "score observations": prometheus.query("ssi_score_count"),
                "dead letters": prometheus.query("ssi_dead_letters_total"),
                "rejected events": prometheus.query('sum(ssi_events_consumed_total{outcome="rejected"})'),
                "lag series": prometheus.query("count(ssi_consumer_lag)"),
                "members": prometheus.query("ssi_members"),
                "build info": prometheus.query(f'ssi_build_info{{job="{JOB}"}}'),
            }
            assert found == {
                "score observations": len(expected),
                "dead letters": found["rejected events"],
                "rejected events": found["dead letters"],
                "lag series": 2 * env.partitions,  # events and effects: one worker holds every partition
                "members": len({record["member_id"] for record in expected}),
                "build info": 1,
            }
            assert found["dead letters"] > 0
            last_close = prometheus.query("ssi_last_daily_close_timestamp_seconds")
            assert last_close is not None and last_close > time.time() - 300
        finally:
            prometheus_exit = prometheus.stop()
    assert prometheus_exit == 0, "Prometheus did not stop cleanly\n" + prometheus.log_tail()
