"""What a reader commits for lag tools is the position the worker's state stored, never what it merely
handled: a partition with no stored position is read from that commit after a restart, and the
absorber stores its positions only every SSI_STATE_WRITE_MS."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
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


class Highwaters:
    """Stands in for the aiokafka consumer's `highwater` (what its last fetch responses said)."""

    def __init__(self, ends: dict[int, int]) -> None:
        self.ends = ends

    def highwater(self, tp: Any) -> int | None:
        return self.ends.get(tp.partition)


def test_what_waits_after_a_fetch_is_each_read_partitions_highwater_past_where_the_fetch_leaves_it() -> None:
    reader = PartitionReader("127.0.0.1:9", "t.events", "g", _nothing, {}.get, batch_max=10, batch_ms=5)
    assert reader.waiting_after({}) == 0  # not started: nothing known
    reader._consumer = Highwaters({0: 1_000, 1: 50, 3: 90})  # type: ignore[assignment]
    reader._reading = frozenset({0, 1, 2, 3})
    reader._next = {1: 40, 2: 7}  # 3: nothing handled since assigned, and not in this fetch: not known
    fetch = {0: [SimpleNamespace(offset=400), SimpleNamespace(offset=599)]}
    # 0: 1,000 - 600 after the fetch; 1: 50 - 40 handled before it; 2: no highwater known yet
    assert reader.waiting_after(fetch) == 410  # type: ignore[arg-type]
    reader._consumer.ends[0] = 600  # the fetch took all there was: a live rate
    assert reader.waiting_after(fetch) == 10  # type: ignore[arg-type]
    reader._consumer.ends[1] = 30  # a highwater behind what was handled (an older response): nothing
    assert reader.waiting_after(fetch) == 0  # type: ignore[arg-type]
