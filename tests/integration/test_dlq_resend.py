"""Dead letters on the real broker, end to end: a worker reading Schema Registry framing (`check`, id 7)
scores a framed event and dead-letters an unknown schema id, a repeated member name and a mis-keyed event,
each as it came (original value, key and headers) with Kafka Connect's error headers; a version 1 record
produced straight to the DLQ stands for what an older worker wrote. After the "fix", `ssi-stream dlq
resend` (a dry run first, which sends nothing) sends the selected ones back, keyed by member id, and the
worker scores them."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ssi_stream.ops.topics import TopicSpec, ensure_topics
from tests.unit.events.contract_world import DEAD_LETTER, load_schema, validator_for

from .streaming import StreamEnv, Worker, collect_scores, running

pytestmark = [pytest.mark.timeout(150)]

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
FIRST_DAY, SECOND_DAY = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
TRACE = ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


def event(member: str, day: datetime, number: int) -> bytes:
    at = (day + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return orjson.dumps(
        {
            "event_id": f"e-{member}-{number}",
            "type": "group_joined",
            "member_id": member,
            "occurred_at": at,
            "group_id": "g-1",
        }
    )


def framed(schema_id: int, body: bytes) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def test_dead_letters_keep_the_record_as_it_came_and_are_resent_and_scored_after_the_fix(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = StreamEnv(kafka_bootstrap, partitions=2, idle_close_seconds=3)
    worker_env = env.worker_env(tmp_path / "data", "w1") | {
        "SSI_SCHEMA_REGISTRY_FRAMING": "check",
        "SSI_SCHEMA_REGISTRY_IDS": "7",
    }
    topics = [env.events_topic, env.dlq_topic, worker_env["SSI_EFFECTS_TOPIC"], env.scores_topic]
    ensure_topics(kafka_bootstrap, [TopicSpec(name, env.partitions) for name in topics])
    miskeyed = event("m-miskeyed", SECOND_DAY, 1)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        producer.send(env.events_topic, key=b"m-framed", value=framed(7, event("m-framed", FIRST_DAY, 1)))
        producer.send(env.events_topic, key=b"m-unknown", value=framed(8, event("m-unknown", FIRST_DAY, 1)))
        duplicated = event("m-dup", FIRST_DAY, 1)[:-1] + b',"member_id":"m-dup"}'
        producer.send(env.events_topic, key=b"m-dup", value=duplicated)
        sent = producer.send(env.events_topic, key=b"someone-else", value=miskeyed, headers=[TRACE]).get(30)
        producer.flush()
    finally:
        producer.close()

    worker = Worker(worker_env, tmp_path / "w1.log")
    with running(worker):
        scored = collect_scores(kafka_bootstrap, env.scores_topic, 1, timeout=60, workers=(worker,))
        assert set(scored) == {("m-framed", FIRST_DAY.date().isoformat())}  # framing id 7 taken off
        dead = read_all(kafka_bootstrap, env.dlq_topic, 3)
        records = {orjson.loads(message.value)["reason"]: message for message in dead}
        assert set(records) == {"unknown_schema_id", "duplicate_key", "wrong_key"}
        wrong = records["wrong_key"]
        record = orjson.loads(wrong.value)
        validator_for(DEAD_LETTER).validate(record)
        assert wrong.key == b"someone-else" and record["payload"].encode() == miskeyed
        headers = dict(wrong.headers)
        assert wrong.headers[0] == TRACE  # the original headers first, then Connect's
        assert headers["__connect.errors.topic"] == env.events_topic.encode()
        assert headers["__connect.errors.partition"] == str(sent.partition).encode()
        assert headers["__connect.errors.offset"] == str(sent.offset).encode()
        assert headers["__connect.errors.exception.message"].startswith(b"wrong_key: the record's key")
        assert headers["ssi-dlq-reason"] == b"wrong_key"

        # What an older worker wrote: a version 1 record, the original key and headers on the message.
        old = copy.deepcopy(load_schema("records/dead_letter.json")["examples"][0])
        old_event = event("m-old", SECOND_DAY, 1)
        old |= {"reason": "future_timestamp", "payload": old_event.decode(), "payload_size": len(old_event)}
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        try:
            producer.send(env.dlq_topic, key=b"m-old", value=orjson.dumps(old), headers=[TRACE]).get(30)
        finally:
            producer.close()

        selection = ["--reason", "wrong_key", "--reason", "future_timestamp", "--key-by-member-id"]
        events_end = end_offsets(kafka_bootstrap, env.events_topic)
        dry = resend(worker_env, *selection, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        listed = dry.stdout.splitlines()
        assert len(listed) == 2 and all("key 'm-" in line for line in listed), listed
        assert "4 read from" in dry.stderr and "2 would be sent" in dry.stderr
        assert end_offsets(kafka_bootstrap, env.events_topic) == events_end  # the dry run sent nothing

        done = resend(worker_env, *selection)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().endswith(f"2 selected, 2 sent to {env.events_topic}"), done.stderr
        second = SECOND_DAY.date().isoformat()
        wait_for_scores(
            kafka_bootstrap, env.scores_topic, {("m-miskeyed", second), ("m-old", second)}, worker
        )
        everything = read_all(kafka_bootstrap, env.events_topic, 6)
        resent = [message for message in everything if message.offset >= events_end[message.partition]]
        assert sorted((message.key, message.headers) for message in resent) == [
            (b"m-miskeyed", [TRACE]),
            (b"m-old", [TRACE]),
        ]


def wait_for_scores(bootstrap: str, topic: str, wanted: set[tuple[str, str]], worker: Worker) -> None:
    """Read score records until one of each (member, date) in `wanted` arrived (60 s at most)."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + 60
    try:
        while not wanted <= seen:
            assert time.monotonic() < deadline, f"no score for {sorted(wanted - seen)}\n{worker.log_tail()}"
            for messages in consumer.poll(timeout_ms=500).values():
                seen |= {
                    (record["member_id"], record["date"])
                    for record in map(orjson.loads, (m.value for m in messages))
                }
    finally:
        consumer.close()


def resend(worker_env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """`ssi-stream dlq resend ARGUMENTS` with the worker's settings (broker, topics)."""
    return subprocess.run(
        [sys.executable, "-m", "ssi_stream.cli", "dlq", "resend", *arguments],
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_all(bootstrap: str, topic: str, count: int) -> list:
    """The first `count` messages of `topic`, all partitions, in (partition, offset) order."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=30_000
    )
    found = []
    try:
        for message in consumer:
            found.append(message)
            if len(found) == count:
                break
    finally:
        consumer.close()
    assert len(found) == count, f"only {len(found)} of {count} messages on {topic}"
    return sorted(found, key=lambda message: (message.partition, message.offset))


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()
