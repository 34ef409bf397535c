"""Topic administration with kafka-python: create what is missing, describe what exists."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
    """Create each topic that does not exist yet and wait until the broker describes every partition of
    each with a leader (a client that asks for a topic's metadata too early, as Faust's consumer does
    when it subscribes, leaves it out); return the names created."""
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
            if wanted:
                _wait_for_leaders(admin, {spec.name: spec.partitions for spec in wanted}, timeout)
        return created
    finally:
        admin.close()


def _wait_for_leaders(admin: Any, partitions: dict[str, int], timeout: float) -> None:
    """Until each topic is described with its partitions, each with a leader (at most `timeout` s)."""
    deadline = time.monotonic() + timeout
    waiting = dict(partitions)
    while waiting:
        for topic in admin.describe_topics(list(waiting)):
            name = topic.get("name", topic.get("topic"))
            led = [p for p in topic.get("partitions", ()) if p.get("leader_id", p.get("leader", -1)) >= 0]
            if not topic.get("error_code") and len(led) >= waiting.get(name, 0):
                waiting.pop(name, None)
        if waiting and time.monotonic() > deadline:
            raise TimeoutError(
                f"topics without a leader for every partition after {timeout:.0f} s: {sorted(waiting)}"
            )
        if waiting:
            time.sleep(0.1)


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
