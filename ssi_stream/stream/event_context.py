"""Run table writes as if inside one event's stream iteration.

A Faust table sends each write to the changelog partition of the event being processed, which it
finds in a context variable that stream iteration sets. A batch from `take_events` is processed
outside that iteration, so before writing a partition's state we name the event it comes from.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from faust.streams import _current_event
from faust.types import EventT


@contextmanager
def event_context(event: EventT) -> Iterator[None]:
    """Within the block, Faust's `current_event()` is `event` (so table writes go to its partition)."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class _PartitionMessage:
    __slots__ = ("partition", "topic")

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition


class _PartitionEvent:
    """What a Faust table write reads of the current event: its message's topic and partition."""

    __slots__ = ("__weakref__", "message")

    def __init__(self, topic: str, partition: int) -> None:
        self.message = _PartitionMessage(topic, partition)


@contextmanager
def partition_context(topic: str, partition: int) -> Iterator[None]:
    """Within the block, table writes go to changelog `partition`, as if processing a message of
    `topic`'s `partition` (for input read outside Faust's streams: `stream.ingest`)."""
    event = _PartitionEvent(topic, partition)
    with event_context(event):  # type: ignore[arg-type]
        yield
