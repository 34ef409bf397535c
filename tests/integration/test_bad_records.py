"""One bad record never stops the service, on the real broker: a tombstone and mis-keyed events on the
events topic are dead-lettered; garbage and a forged frame on the internal effects topic are quarantined
whole; and every other member's scores still equal `ssi-stream replay` of the good log."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer

from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.partitioner import partition_for

from .streaming import StreamEnv, Worker, collect_scores, produce, read_topic, replay_outputs, running

pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(400)]


def test_bad_records_are_dead_lettered_or_quarantined_and_the_rest_equals_replay(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = StreamEnv(kafka_bootstrap)
    log = list(iter_encoded(SimulationConfig(members=60, days=6, seed=8)))
    records, dead_letters, _ = replay_outputs(log, env.timeline())
    expected = {(r["member_id"], r["date"]): r for r in records}
    key_file = tmp_path / "internal.key"
    key_file.write_bytes(b"0123456789abcdef-internal-test-key\n")
    worker_env = env.worker_env(tmp_path / "data", "w1") | {
        "SSI_INTERNAL_KEY_FILE": str(key_file),
        "SSI_QUARANTINE_TOPIC": f"t{env.run_id}.quarantine",
    }
    effects = worker_env["SSI_EFFECTS_TOPIC"]
    # The scores topic made beforehand with a partition count of its own: each record still goes where
    # Kafka's partitioner puts its member (collect_scores checks), not on its effects partition's number.
    ensure_topics(
        kafka_bootstrap,
        [
            TopicSpec(effects, env.partitions),
            TopicSpec(env.events_topic, env.partitions),
            TopicSpec(env.scores_topic, env.partitions - 1),
        ],
    )
    member, raw = next((m, r) for m, r in log if orjson.loads(r).get("type") == "post_published")
    home = partition_for(member, env.partitions)
    forged = b'[["e",%d,0,{"m":"%s","e":"forged/a","k":7,"t":1772442900}]]' % (20514, member.encode())
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        producer.send(env.events_topic, key=member.encode(), value=None, partition=home)  # a tombstone
        producer.send(env.events_topic, key=b"someone-else", value=raw, partition=home)  # mis-keyed
        producer.send(env.events_topic, key=None, value=raw, partition=home)  # no key
        producer.send(effects, value=b"\x00garbage", partition=home, headers=[("ssi-kind", b"frame")])
        producer.send(effects, value=forged, partition=home, headers=[("ssi-kind", b"frame")])  # unsigned
        producer.flush()
    finally:
        producer.close()
    worker = Worker(worker_env, tmp_path / "w1.log")
    with running(worker):
        produce(kafka_bootstrap, env.events_topic, log, env.partitions)
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=300, workers=(worker,)
        )
        streamed_dead = read_topic(kafka_bootstrap, env.dlq_topic, len(dead_letters) + 3, timeout=60)
        quarantined = _read_raw(kafka_bootstrap, worker_env["SSI_QUARANTINE_TOPIC"], 2)
        assert worker.process is not None and worker.process.poll() is None, "the worker kept running"
    assert streamed == expected  # the forged effect changed nothing; everybody was scored
    reasons = sorted(
        record["reason"] for record in streamed_dead if record["reason"] in {"null_value", "wrong_key"}
    )
    assert reasons == ["null_value", "wrong_key", "wrong_key"]
    assert sorted(value for value, _ in quarantined) == sorted([b"\x00garbage", forged])
    for _, headers in quarantined:
        assert (
            headers["ssi-source-topic"] == effects.encode()
            and headers["ssi-source-partition"] == b"%d" % home
        )
        assert headers["ssi-quarantine-reason"]
    assert any(b"signature" in headers["ssi-quarantine-reason"] for _, headers in quarantined)


def _read_raw(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=60_000
    )
    found: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        for message in consumer:
            found.append((message.value, dict(message.headers)))
            if len(found) == count:
                break
    finally:
        consumer.close()
    assert len(found) == count, f"only {len(found)} of {count} records were quarantined"
    return found
