"""deploy/compose/produce_events.py, the compose simulator's producer: keys by member, and, on the real
broker, `ssi-stream simulate | produce_events.py` delivers every line to the events topic."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from kafka import KafkaConsumer

from ssi_stream.ops.topics import TopicSpec, ensure_topics
from tests.deploy.catalog import DEPLOY

SCRIPT = DEPLOY / "compose" / "produce_events.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("produce_events", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.flushed = False

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.sent.append((topic, key, value))

    def flush(self) -> None:
        self.flushed = True


def test_key_is_the_member_id_or_none_for_a_line_without_one() -> None:
    member_key = load_script().member_key
    assert member_key(b'{"member_id": "m-1", "type": "post_published"}') == b"m-1"
    assert member_key(b'{"member_id": 7}') is None
    assert member_key(b'["member_id"]') is None
    assert member_key(b"{not json") is None


def test_every_non_blank_line_is_sent_unchanged_and_flushed() -> None:
    producer = RecordingProducer()
    lines = [b'{"member_id": "a"}\n', b"\n", b"broken\r\n"]
    assert load_script().produce(lines, producer, "events", rate=0) == 2
    assert producer.sent == [("events", b"a", b'{"member_id": "a"}'), ("events", None, b"broken")]
    assert producer.flushed


def test_simulate_piped_into_the_producer_fills_the_events_topic(kafka_bootstrap: str) -> None:
    topic = f"deploy-produce-{os.getpid()}"
    ensure_topics(kafka_bootstrap, [TopicSpec(topic, partitions=2, replication_factor=1)])
    ssi = Path(sys.executable).with_name("ssi-stream")
    environment = {**os.environ, "SSI_BROKER": kafka_bootstrap, "SSI_EVENTS_TOPIC": topic}
    pipeline = f"{ssi} simulate --members 20 --days 3 | {sys.executable} {SCRIPT} --rate 0"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", pipeline],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    sent = int(result.stderr.split("produce_events: ")[1].split()[0])
    assert sent > 0

    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    try:
        records = list(consumer)
    finally:
        consumer.close()
    assert len(records) == sent
    assert all(record.key is not None and record.key.startswith(b"m") for record in records)
