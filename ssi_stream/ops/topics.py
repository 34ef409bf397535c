"""Topic administration with kafka-python: create what is missing, describe what exists."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from kafka import TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from ssi_stream.ops.kafka_security import PLAINTEXT, KafkaSecurity, admin_client, kafka_consumer, kafka_errors


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic ssi-stream needs: its name, partitions and topic-level configs."""

    name: str
    partitions: int
    replication_factor: int = 1
    config: tuple[tuple[str, str], ...] = ()


def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    timeout: float = 30.0,
    security: KafkaSecurity = PLAINTEXT,
) -> list[str]:
    """Create each topic that does not exist yet; return the names created."""
    admin = admin_client(bootstrap, security, request_timeout_ms=int(timeout * 1000))
    try:
        with kafka_errors(bootstrap, security, "creating topics"):
            existing = set(admin.list_topics())
            wanted = [spec for spec in specs if spec.name not in existing]
            created: list[str] = []
            for spec in wanted:
                topic = NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replication_factor,
                    topic_configs=dict(spec.config),
                )
                with contextlib.suppress(TopicAlreadyExistsError):  # another worker won the race
                    admin.create_topics([topic], timeout_ms=int(timeout * 1000))
                    created.append(spec.name)
        return created
    finally:
        admin.close()


def partition_counts(
    bootstrap: str, names: Iterable[str], *, security: KafkaSecurity = PLAINTEXT
) -> dict[str, int]:
    """Partition count of each named topic that exists."""
    admin = admin_client(bootstrap, security)
    try:
        with kafka_errors(bootstrap, security, "describing topics"):
            described = admin.describe_topics(list(names))
        return {
            topic.get("name", topic.get("topic")): len(topic["partitions"])
            for topic in described
            if not topic.get("error_code")
        }
    finally:
        admin.close()


def topic_names(bootstrap: str, *, security: KafkaSecurity = PLAINTEXT) -> set[str]:
    """The topics this client may see."""
    admin = admin_client(bootstrap, security)
    try:
        with kafka_errors(bootstrap, security, "listing topics"):
            return set(admin.list_topics())
    finally:
        admin.close()


def was_written(bootstrap: str, topic: str, *, security: KafkaSecurity = PLAINTEXT) -> bool:
    """True if a record was ever written to `topic` (an end offset past 0; compaction does not lower it)."""
    consumer = kafka_consumer(bootstrap, security, enable_auto_commit=False)
    try:
        with kafka_errors(bootstrap, security, f"reading the offsets of {topic}"):
            partitions = consumer.partitions_for_topic(topic) or set()
            ends = consumer.end_offsets([TopicPartition(topic, partition) for partition in partitions])
        return any(offset > 0 for offset in ends.values())
    finally:
        consumer.close()
