"""Topic administration with kafka-python: create what is missing, describe what exists."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic ssi-stream needs: its name, partitions and topic-level configs."""

    name: str
    partitions: int
    replication_factor: int = 1
    config: tuple[tuple[str, str], ...] = ()


def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec], *, timeout: float = 30.0) -> list[str]:
    """Create each topic that does not exist yet; return the names created."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="ssi-stream-admin", request_timeout_ms=int(timeout * 1000)
    )
    try:
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


def partition_counts(bootstrap: str, names: Iterable[str]) -> dict[str, int]:
    """Partition count of each named topic that exists."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ssi-stream-admin")
    try:
        described = admin.describe_topics(list(names))
        return {
            topic.get("name", topic.get("topic")): len(topic["partitions"])
            for topic in described
            if not topic.get("error_code")
        }
    finally:
        admin.close()
