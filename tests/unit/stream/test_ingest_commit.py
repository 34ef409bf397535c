"""What a reader commits for lag tools is the position the worker's state stored, never what it merely
handled: a partition with no stored position is read from that commit after a restart, and the
absorber stores its positions only every SSI_STATE_WRITE_MS."""

from __future__ import annotations

import asyncio
from typing import Any

from ssi_stream.stream.ingest import PartitionReader


class RecordingConsumer:
    """Stands in for the aiokafka consumer's `commit` (the only call `_maybe_commit` makes)."""

    def __init__(self) -> None:
        self.commits: list[dict[int, int]] = []

    async def commit(self, offsets: dict[Any, Any]) -> None:
        self.commits.append({tp.partition: meta.offset for tp, meta in offsets.items()})


async def _nothing(fetch: Any) -> None:
    return None


def test_the_commit_is_the_stored_position_and_nothing_for_a_partition_without_one() -> None:
    stored: dict[int, int | None] = {0: 120, 1: None, 2: 7}
    reader = PartitionReader("127.0.0.1:9", "t.effects", "g", _nothing, stored.get, batch_max=10, batch_ms=5)
    consumer = RecordingConsumer()
    reader._consumer = consumer  # type: ignore[assignment]
    reader._reading = frozenset({0, 1, 2})
    reader._next = {0: 500, 1: 300, 2: 9}  # handled further than stored, as between two state writes
    asyncio.run(reader._maybe_commit())
    assert consumer.commits == [{0: 120, 2: 7}]
    stored[1] = 300  # the state is written: now it is committed, and the others are not again
    reader._last_commit = 0.0
    asyncio.run(reader._maybe_commit())
    assert consumer.commits[-1] == {1: 300}
