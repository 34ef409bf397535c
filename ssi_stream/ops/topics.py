"""Topic administration with kafka-python: create what is missing, describe what exists."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from ssi_stream.ops.kafka_security import PLAINTEXT, KafkaSecurity, admin_client, kafka_errors


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
