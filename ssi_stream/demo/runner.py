"""`ssi-stream demo`: a local broker, a worker and simulated members, with score updates shown live.

Everything it starts it stops again on Ctrl-C (or after `--duration`): the simulator thread, the
worker process and, if the demo started it, the local broker. Each run uses its own topics and
consumer group (`ssi-demo.<run>.*`), so a second run starts from a clean slate.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from ssi_stream.demo.view import DemoBoard, render
from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import LocalBroker, free_port
from ssi_stream.ops.kafka_security import KafkaSecurity, admin_client, kafka_consumer, load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.ops.topics import ensure_topics
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.ingest import ingest_group
from ssi_stream.stream.producer import produce_events
from ssi_stream.stream.topology import topic_specs

DEMO_PREFIX = "ssi-demo."
#: The demo's events/s is averaged over this many seconds.
RATE_WINDOW_SECONDS = 5.0
#: How long the demo's closing API check asks again while the API answers 503 (ranks on their way, a
#: worker busy restoring).
API_PATIENCE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    members: int = 2000
    days: int = 60
    rate: float = 2000.0
    seed: int = 1
    duration: float | None = None
    start: date = date(2026, 3, 2)
    #: The language of the board's next steps (`catalog.LOCALES`).
    locale: str = "en"


class SimulatedTraffic(threading.Thread):
    """Produces the simulator's events to the events topic at about `rate` events per second."""

    def __init__(self, bootstrap: str, topic: str, options: DemoOptions, security: KafkaSecurity) -> None:
        super().__init__(name="demo-simulator", daemon=True)
        self.bootstrap, self.topic, self.options = bootstrap, topic, options
        self.security = security
        self.sent = 0
        self._halt = threading.Event()

    def run(self) -> None:
        config = SimulationConfig(
            members=self.options.members,
            days=self.options.days,
            seed=self.options.seed,
            start=self.options.start,
        )

        def count(sent: int) -> None:
            self.sent = sent

        produce_events(
            self.bootstrap,
            self.topic,
            iter_encoded(config),
            rate=self.options.rate,
            stop=self._halt,
            on_progress=count,
            security=self.security,
        )

    def stop(self) -> None:
        self._halt.set()


def run_demo(settings: Settings, options: DemoOptions, out: object = sys.stdout) -> int:
    """Run the demo until Ctrl-C or `options.duration`; return the exit code."""
    broker = LocalBroker(ssi_home())
    security = load_security(settings)  # the worker it starts reads the same SSI_KAFKA_* variables
    started_broker = False
    if settings.broker:
        bootstrap = settings.broker
    else:
        started_broker = not broker.status().running
        print("Starting the local Kafka broker (installing Kafka with mvn the first time)...", flush=True)
        bootstrap = resolve_bootstrap(settings)
    run = time.strftime("%Y%m%d%H%M%S")
    demo = _demo_settings(settings, bootstrap, run)
    _forget_previous_runs(bootstrap, security, keep=run)
    ensure_topics(bootstrap, topic_specs(demo), security=security)
    worker = _start_worker(demo)
    traffic = SimulatedTraffic(bootstrap, demo.events_topic, options, security)
    consumer = kafka_consumer(bootstrap, security, demo.scores_topic, auto_offset_reset="earliest")
    admin = admin_client(bootstrap, security)
    board = DemoBoard()
    base = f"http://{demo.web_host}:{demo.web_port}"
    urls = [
        f"metrics: {base}/metrics   (topics {DEMO_PREFIX}{run}.*)",
        f"API:     {base}/members/<member_id>/score   {base}/members/<member_id>/history?weeks=4",
    ]
    interactive = hasattr(out, "isatty") and out.isatty()  # type: ignore[attr-defined]
    if not interactive:  # piped: the URLs first, then a plain progress line a second
        out.write("\n".join(urls) + "\n")  # type: ignore[attr-defined]
        out.flush()  # type: ignore[attr-defined]
    began = time.monotonic()
    ready_at: float | None = None  # when the worker's /readyz first answered 200
    first_records_at: float | None = None
    marks: deque[tuple[float, int]] = deque([(began, 0)])  # (time, events sent) of the last seconds
    traffic.start()
    try:
        while options.duration is None or time.monotonic() - began < options.duration:
            if worker.poll() is not None:
                print(f"ssi-stream demo: the worker exited with code {worker.returncode}", file=sys.stderr)
                return 1
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    board.add(orjson.loads(record.value))
            now = time.monotonic()
            if ready_at is None and _ready(f"{base}/readyz"):
                ready_at = now
                if not interactive:
                    out.write(f"demo: the worker is ready, {now - began:.1f} s after the start\n")  # type: ignore[attr-defined]
            if first_records_at is None and board.records and ready_at is not None:
                first_records_at = now
                if not interactive:
                    out.write(  # type: ignore[attr-defined]
                        f"demo: first score records {now - ready_at:.1f} s after the worker was ready\n"
                    )
            events_per_second = _rate(marks, now, traffic.sent)
            screen = render(
                board,
                events_sent=traffic.sent,
                events_per_second=events_per_second,
                lag=(lag := _lag(admin, consumer, demo)),
                urls=urls,
                locale=options.locale,
            )
            if interactive:
                out.write("\x1b[2J\x1b[H" + screen + "\n")  # type: ignore[attr-defined]
            else:
                top = max(board.latest.values(), key=lambda r: r["ssi"], default=None)
                best = f"; top {top['member_id']} {top['ssi']:.2f}" if top else ""
                out.write(  # type: ignore[attr-defined]
                    f"demo: {traffic.sent} events sent, {'?' if lag is None else lag} waiting, "
                    f"{board.records} score records for {len(board.latest)} members, "
                    f"latest day {board.newest_date or '-'}{best}\n"
                )
            out.flush()  # type: ignore[attr-defined]
        if not interactive:
            out.write(screen + "\n")  # type: ignore[attr-defined]
        for line in _api_check(base, board):
            out.write(line + "\n")  # type: ignore[attr-defined]
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        traffic.stop()
        traffic.join(timeout=10)
        consumer.close()
        admin.close()
        _stop_worker(worker)
        if started_broker:
            broker.down()
        print("demo stopped: simulator, worker" + (" and broker" if started_broker else "") + " are down")


def _demo_settings(settings: Settings, bootstrap: str, run: str) -> Settings:
    from dataclasses import replace

    prefix = f"{DEMO_PREFIX}{run}"
    return replace(
        settings,
        broker=bootstrap,
        app_id=f"ssi-demo-{run}",
        events_topic=f"{prefix}.events",
        effects_topic="",  # <app id>-effects, next to the app's changelogs
        dlq_topic=f"{prefix}.dlq",
        scores_topic=f"{prefix}.scores",
        alerts_topic=f"{prefix}.alerts",
        data_dir=str(ssi_home() / "demo" / run),
        worker_id="demo-worker",
        web_port=free_port(),
        idle_close_seconds=10,
    )


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, **{f"SSI_{name.upper()}": str(getattr(settings, name)) for name in _PASSED}}
    log_dir = Path(settings.data_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / "worker.log", "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        [sys.executable, "-m", "ssi_stream.cli", "worker", "--loglevel", "WARNING"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


_PASSED = (
    "broker",
    "app_id",
    "events_topic",
    "effects_topic",
    "dlq_topic",
    "scores_topic",
    "alerts_topic",
    "data_dir",
    "worker_id",
    "web_port",
    "idle_close_seconds",
    "partitions",
    "grace_seconds",
)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=30)


def _rate(marks: deque[tuple[float, int]], now: float, sent: int) -> float:
    """Events per second over the last `RATE_WINDOW_SECONDS` (sends are acknowledged in bursts)."""
    marks.append((now, sent))
    while len(marks) > 2 and now - marks[1][0] >= RATE_WINDOW_SECONDS:
        marks.popleft()
    then, sent_then = marks[0]
    return (sent - sent_then) / max(now - then, 1e-9)


def _api_check(base: str, board: DemoBoard) -> list[str]:
    """Ask the worker's query API about the top member and its industry, as a user would: one line each,
    with the status and the figures it answered (a working example against the demo's own data)."""
    top = max(board.latest.values(), key=lambda r: r["ssi"], default=None)
    if top is None:
        return []
    lines = []
    industry = top.get("industry")
    paths = [f"/members/{urllib.parse.quote(top['member_id'])}/score"]
    if industry:
        paths.append(f"/industries/{urllib.parse.quote(industry)}/distribution")
    for path in paths:
        status, document = _get_answered(base + path)
        if status != 200:
            summary = str(document.get("error", "")) if document else ""
        elif "ssi" in document:
            rank = document.get("industry_rank") or {}
            top_percent = f", top {rank['top_percent']}% of {industry}" if rank else ""
            summary = f"ssi {document['ssi']} on {document['date']}{top_percent}"
        else:
            summary = f"{document.get('population')} members on {document.get('date')}"
        lines.append(f"API: GET {path} -> {status} ({summary})")
    return lines


def _get_answered(url: str, patience: float = API_PATIENCE_SECONDS) -> tuple[int, dict]:
    """A GET asked again after each 503's Retry-After (the API's contract, docs/openapi.yaml), for up to
    `patience` seconds, as a client would; the last answer."""
    deadline = time.monotonic() + patience
    status, document, retry_after = _get(url)
    while status == 503 and time.monotonic() < deadline:
        time.sleep(min(retry_after, max(0.0, deadline - time.monotonic())))
        status, document, retry_after = _get(url)
    return status, document


def _get(url: str, timeout: float = 15) -> tuple[int, dict, float]:
    """Status, JSON body and Retry-After seconds (1 if none) of a GET (status 0 if nobody answered)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, orjson.loads(answer.read()), 1.0
    except urllib.error.HTTPError as error:
        retry_after = _seconds(error.headers.get("Retry-After"))
        with contextlib.suppress(ValueError):
            return error.code, orjson.loads(error.read()), retry_after
        return error.code, {}, retry_after
    except (OSError, ValueError):
        return 0, {}, 1.0


def _seconds(text: str | None) -> float:
    try:
        return min(max(float(text or 1), 0.1), 10.0)
    except ValueError:
        return 1.0


def _ready(url: str) -> bool:
    """Whether the worker's readiness probe answers 200."""
    return _get(url, timeout=2)[0] == 200


def _lag(admin: KafkaAdminClient, consumer: KafkaConsumer, settings: Settings) -> int | None:
    """Events not yet processed by the worker (its ingest commits them to `<app>-ingest`)."""
    group = ingest_group(settings.app_id)
    with contextlib.suppress(Exception):
        committed = admin.list_group_offsets(group)[group]
        partitions = [TopicPartition(settings.events_topic, p) for p in range(settings.partitions)]
        ends = consumer.end_offsets(partitions)
        return sum(max(0, ends[tp] - (committed[tp].offset if tp in committed else 0)) for tp in partitions)
    return None


def _forget_previous_runs(bootstrap: str, security: KafkaSecurity, *, keep: str) -> None:
    """Delete the topics of earlier demo runs, so the local broker does not fill up."""
    admin = admin_client(bootstrap, security)
    try:
        old = [name for name in admin.list_topics() if name.startswith(DEMO_PREFIX) and keep not in name]
        old += [name for name in admin.list_topics() if name.startswith("ssi-demo-") and keep not in name]
        if old:
            with contextlib.suppress(Exception):
                admin.delete_topics(old)
    finally:
        admin.close()
