"""Table writes without Faust's per-write path: the store at once, the changelog records in order, sent
by the worker before each flush.

A Faust table write (`table[key] = value`) hands its changelog record to `Topic.send_soon`: into
Faust's producer buffer, which one background task drains a record at a time through
`Topic.publish_message`. A busy worker writes a ledger per member per batch and two per close, and
waited most of every flush for that buffer (BENCHMARKS.md, "Session 6"). `TableWriter` does what the
write does — the value into the table's store (in the partition's context, for RocksDB), the same
record (raw key, raw value, the same changelog partition) to the changelog, the offset it got kept as
the store's persisted offset — with one producer send per record, all of them when the worker
delivers (`send`), before it waits for the producer (`ScoringTopology._flush`). Reads see a write at
once (the store has it); a restore reads the same changelog.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faust.types import TP

from ssi_stream.stream.event_context import partition_context

#: Sends a record (topic, key, value or None for a tombstone, partition) and returns its future.
Send = Callable[[str, bytes, bytes | None, int], Awaitable[Any]]


class TableWriter:
    """Writes to Faust tables whose changelog records wait, in order, for `send`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Any, int, bytes, bytes | None]] = []

    def put(self, table: Any, partition: int, key: bytes, value: bytes) -> None:
        """`table[key] = value` on changelog partition `partition`."""
        with partition_context(table.changelog_topic.get_topic_name(), partition):
            table.data[key] = value
        self._pending.append((table, partition, key, value))

    def pop(self, table: Any, partition: int, key: bytes) -> bytes | None:
        """`table.pop(key, None)` on changelog partition `partition` (a tombstone if it was there)."""
        value = table.data.get(key)
        if value is None:
            return None
        del table.data[key]
        self._pending.append((table, partition, key, None))
        return value

    @property
    def pending(self) -> int:
        """Changelog records written and not sent yet."""
        return len(self._pending)

    async def send(self, send: Send) -> None:
        """Send every pending changelog record, in the order written (the caller then flushes)."""
        pending, self._pending = self._pending, []
        for table, partition, key, value in pending:
            future = await send(table.changelog_topic.get_topic_name(), key, value, partition)
            future.add_done_callback(_persisted(table.data, partition))


def _persisted(store: Any, partition: int) -> Callable[[Any], None]:
    """What Faust's table does once a changelog record is written: the store keeps its offset (RocksDB
    then restores only what came after it)."""

    def done(future: Any) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # the worker's flush reports it
        metadata = future.result()
        store.set_persisted_offset(TP(metadata.topic, partition), metadata.offset)

    return done
