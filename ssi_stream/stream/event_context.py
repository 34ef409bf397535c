"""Table writes as if inside one event's stream iteration.

A Faust table store (RocksDB) finds the partition a write goes to in the event being processed, a
context variable that stream iteration sets. The worker writes its tables outside Faust's streams
(`stream.table_writes`), so before each write it names a stand-in event of the partition.
"""

from __future__ import annotations

import weakref
from contextvars import Token

from faust.streams import _current_event


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


#: One stand-in event per (topic, partition), kept alive here: Faust holds the current event weakly.
_PARTITION_EVENTS: dict[tuple[str, int], tuple[_PartitionEvent, weakref.ref]] = {}


def set_partition(topic: str, partition: int) -> Token:
    """From now on, Faust's `current_event()` is a message of `topic`'s `partition` (so a table write goes
    to that changelog partition's store); give the token back to `reset`."""
    held = _PARTITION_EVENTS.get((topic, partition))
    if held is None:
        event = _PartitionEvent(topic, partition)
        held = _PARTITION_EVENTS[topic, partition] = (event, weakref.ref(event))
    return _current_event.set(held[1])


def reset(token: Token) -> None:
    """Undo `set_partition`."""
    _current_event.reset(token)
