"""`ssi-stream report --scores-topic` on the real broker: the score records of a small replayed population,
produced to a topic keyed by member (with a redelivered copy and a tombstone among them), give the same
report as the same records read from a file; a value that is not a score record stops it, naming where it
is, and so does a missing topic."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer

from ssi_stream.cli import main
from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.scoring.model import PILLARS
from tests.unit.report.conftest import CLI_CONFIG, WINDOW, ReportWorld, build_world

pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture(autouse=True)
def _broker_only(monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str) -> None:
    """The test's broker, and every other setting at its default."""
    for name in list(os.environ):
        if name.startswith("SSI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SSI_BROKER", kafka_bootstrap)


def send(bootstrap: str, topic: str, keyed: list[tuple[bytes, bytes | None]], partitions: int) -> None:
    ensure_topics(bootstrap, [TopicSpec(topic, partitions)])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    try:
        for key, value in keyed:
            producer.send(topic, key=key, value=value)
        producer.flush()
    finally:
        producer.close()


def test_a_report_over_the_scores_topic_equals_the_report_over_the_same_records_in_a_file(
    kafka_bootstrap: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world: ReportWorld = build_world(CLI_CONFIG)
    lines = world.record_lines()
    keyed: list[tuple[bytes, bytes | None]] = [
        (orjson.loads(line)["member_id"].encode(), line.rstrip(b"\n")) for line in lines
    ]
    keyed.insert(len(keyed) // 2, keyed[len(keyed) // 3])  # an earlier record sent again (at least once)
    keyed.append((keyed[0][0], None))  # a tombstone: passed over, counted
    topic = f"test.report.{uuid.uuid4().hex[:8]}"
    send(kafka_bootstrap, topic, keyed, partitions=3)
    monkeypatch.setenv("SSI_SCORES_TOPIC", topic)  # --scores-topic without a name reads this one
    scores, events = tmp_path / "scores.jsonl", tmp_path / "events.jsonl"
    scores.write_bytes(world.records)
    events.write_bytes(world.events)
    common = ["--window", str(WINDOW), "--resamples", "200", "--events", str(events)]
    over_topic, over_file = tmp_path / "topic.json", tmp_path / "file.json"

    assert main(["report", "--scores-topic", *common, "--json", str(over_topic)]) == 0
    err = capsys.readouterr().err
    assert f"report: 1 record without a value (a tombstone) on {topic} passed over" in err
    assert f"{len(lines) + 1:,} records of {topic}," in err
    assert f"score records of {CLI_CONFIG.members} members" in err
    assert main(["report", str(scores), *common, "--json", str(over_file)]) == 0
    report = orjson.loads(over_topic.read_bytes())
    assert report == orjson.loads(over_file.read_bytes())
    assert report["members"] == CLI_CONFIG.members and report["volume"] is not None


def test_a_value_that_is_not_a_score_record_or_a_missing_topic_stops_the_report_saying_where(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = f"test.report-bad.{uuid.uuid4().hex[:8]}"
    pillars = dict.fromkeys(PILLARS, 2.5)
    record = {"member_id": "m1", "date": "2026-03-02", "ssi": 10.0, "pillars": pillars, "signals": {}}
    send(kafka_bootstrap, topic, [(b"m1", orjson.dumps(record)), (b"m1", b"not json")], partitions=1)
    assert main(["report", "--scores-topic", topic, "--json", "-"]) == 1
    assert f"{topic}: the record at partition 0, offset 1 is not JSON" in capsys.readouterr().err

    event = {"event_id": "e1", "type": "post_published", "member_id": "m1"}
    events_topic = f"test.report-events.{uuid.uuid4().hex[:8]}"
    send(kafka_bootstrap, events_topic, [(b"m1", orjson.dumps(event))], partitions=1)
    assert main(["report", "--scores-topic", events_topic, "--json", "-"]) == 1
    assert "offset 0 is an event, not a score record" in capsys.readouterr().err

    missing = f"test.report-missing.{uuid.uuid4().hex[:8]}"
    assert main(["report", "--scores-topic", missing, "--json", "-"]) == 1
    assert f"the topic {missing} does not exist at {kafka_bootstrap}" in capsys.readouterr().err
