"""Both Python clients ssi-stream uses talk to the real broker: kafka-python and aiokafka."""

from __future__ import annotations

import asyncio
import uuid

import orjson
from kafka import KafkaConsumer, KafkaProducer

from ssi_stream.ops.topics import TopicSpec, ensure_topics, partition_counts


def _topic(prefix: str) -> str:
    return f"test.{prefix}.{uuid.uuid4().hex[:8]}"


def test_ensure_topics_creates_once_with_the_requested_partitions(kafka_bootstrap: str) -> None:
    name = _topic("ensure")
    assert ensure_topics(kafka_bootstrap, [TopicSpec(name, 3)]) == [name]
    assert ensure_topics(kafka_bootstrap, [TopicSpec(name, 3)]) == []
    assert partition_counts(kafka_bootstrap, [name]) == {name: 3}


def test_kafka_python_round_trip_keeps_key_order_per_partition(kafka_bootstrap: str) -> None:
    name = _topic("kp")
    ensure_topics(kafka_bootstrap, [TopicSpec(name, 2)])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for index in range(50):
        key = f"m{index % 5}".encode()
        producer.send(name, key=key, value=orjson.dumps({"seq": index}))
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        name, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    seen: dict[bytes, list[int]] = {}
    for record in consumer:
        seen.setdefault(record.key, []).append(orjson.loads(record.value)["seq"])
        if sum(map(len, seen.values())) == 50:
            break
    consumer.close()
    assert sum(map(len, seen.values())) == 50
    assert all(values == sorted(values) for values in seen.values())


def test_aiokafka_round_trip_with_a_transactional_producer(kafka_bootstrap: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    name = _topic("aio")
    ensure_topics(kafka_bootstrap, [TopicSpec(name, 2)])

    async def run() -> list[bytes]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"tx-{name}")
        await producer.start()
        try:
            async with producer.transaction():
                for index in range(20):
                    await producer.send(name, key=b"k", value=str(index).encode())
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            name,
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await consumer.start()
        values: list[bytes] = []
        try:
            async with asyncio.timeout(20):
                while len(values) < 20:
                    batch = await consumer.getmany(timeout_ms=1000)
                    values.extend(record.value for records in batch.values() for record in records)
        finally:
            await consumer.stop()
        return values

    assert asyncio.run(run()) == [str(index).encode() for index in range(20)]


def test_simulate_to_kafka_sends_the_simulated_log_keyed_by_member(kafka_bootstrap: str, tmp_path) -> None:
    import os
    import subprocess
    import sys

    from ssi_stream.simulation import SimulationConfig, iter_encoded
    from ssi_stream.timeline.partitioner import partition_for

    topic = _topic("simulate")
    env = {**os.environ, "SSI_BROKER": kafka_bootstrap, "SSI_EVENTS_TOPIC": topic, "SSI_PARTITIONS": "3"}
    for name in ("EFFECTS", "DLQ", "SCORES", "ALERTS"):
        env[f"SSI_{name}_TOPIC"] = f"{topic}.{name.lower()}"
    command = [
        sys.executable,
        "-m",
        "ssi_stream.cli",
        "simulate",
        "--kafka",
        "--members",
        "40",
        "--days",
        "3",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    expected = list(iter_encoded(SimulationConfig(members=40, days=3)))
    assert f"simulate: {len(expected)} events" in result.stderr
    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    received = [(r.partition, r.key.decode(), r.value) for r in consumer]
    consumer.close()
    assert sorted(value for _, _, value in received) == sorted(value for _, value in expected)
    assert all(partition == partition_for(key, 3) for partition, key, _ in received)


def test_the_frame_producer_delivers_in_order_per_partition_and_refuses_sends_once_stopped(
    kafka_bootstrap: str,
) -> None:
    from aiokafka import AIOKafkaConsumer

    from ssi_stream.ops.kafka_security import PLAINTEXT
    from ssi_stream.stream.frame_producer import FrameProducer

    name = _topic("frames")
    ensure_topics(kafka_bootstrap, [TopicSpec(name, 2)])

    async def run() -> dict[int, list[bytes]]:
        frames = FrameProducer(
            kafka_bootstrap,
            PLAINTEXT,
            client_id="test-frames",
            max_batch_size=16_384,
            request_timeout_ms=30_000,
        )
        await frames.flush()  # nothing sent yet: no connection, nothing to wait for
        futures = [
            await frames.send(name, f"{index}".encode() * 2_000, index % 2, [("n", b"%d" % index)])
            for index in range(40)
        ]
        await frames.flush()
        assert all(future.done() and future.exception() is None for future in futures)
        offsets = [future.result().offset for future in futures]
        assert offsets[0::2] == list(range(20)) and offsets[1::2] == list(range(20))
        await frames.stop()
        try:
            await frames.send(name, b"late", 0)
        except RuntimeError as exc:
            assert "stopped" in str(exc)
        else:
            raise AssertionError("a send after stop() went through")
        consumer = AIOKafkaConsumer(name, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
        await consumer.start()
        read: dict[int, list[bytes]] = {0: [], 1: []}
        try:
            async with asyncio.timeout(20):
                while sum(map(len, read.values())) < 40:
                    batch = await consumer.getmany(timeout_ms=1000)
                    for tp, records in batch.items():
                        read[tp.partition] += [dict(record.headers)["n"] for record in records]
        finally:
            await consumer.stop()
        return read

    read = asyncio.run(run())
    assert read == {p: [b"%d" % index for index in range(p, 40, 2)] for p in (0, 1)}
