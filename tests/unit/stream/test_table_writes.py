"""Table writes outside Faust's per-write path (`stream.table_writes`): the store at once, in the
partition's context; the changelog records in the order written, sent together; the offsets kept."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.streams import current_event
from faust.types import TP

from ssi_stream.stream.table_writes import TableWriter


class FakeStore(dict):
    """A store that notes the partition of the event context each value was written in."""

    def __init__(self) -> None:
        super().__init__()
        self.partitions: dict[bytes, int] = {}
        self.persisted: dict[TP, int] = {}

    def __setitem__(self, key: bytes, value: bytes) -> None:
        event = current_event()
        assert event is not None, "written outside a partition's context (RocksDB needs one)"
        self.partitions[key] = event.message.partition
        super().__setitem__(key, value)

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        self.persisted[tp] = offset


def table(name: str) -> Any:
    return SimpleNamespace(data=FakeStore(), changelog_topic=SimpleNamespace(get_topic_name=lambda: name))


class FakeProducer:
    def __init__(self, fail_on: bytes | None = None) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, int]] = []
        self.fail_on = fail_on
        self.offsets: dict[tuple[str, int], int] = {}

    async def send(self, topic: str, key: bytes, value: bytes | None, partition: int) -> asyncio.Future:
        self.sent.append((topic, key, value, partition))
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        if key == self.fail_on:
            future.set_exception(RuntimeError("not delivered"))
        else:
            offset = self.offsets[topic, partition] = self.offsets.get((topic, partition), -1) + 1
            future.set_result(SimpleNamespace(topic=topic, partition=partition, offset=offset))
        return future


def test_a_write_is_read_at_once_and_its_record_waits_for_send_in_order() -> None:
    members, gates = table("app-members-changelog"), table("app-close-gates-changelog")
    writer = TableWriter()
    writer.put(members, 3, b"m-1", b"ledger-1")
    writer.put(gates, 3, b"gate:3", b"gate")
    writer.put(members, 3, b"m-1", b"ledger-2")
    assert members.data[b"m-1"] == b"ledger-2" and members.data.partitions[b"m-1"] == 3
    assert writer.pending == 3
    producer = FakeProducer()

    async def run() -> None:
        await writer.send(producer.send)
        await asyncio.sleep(0)  # done callbacks run on the next loop turn

    asyncio.run(run())
    assert producer.sent == [
        ("app-members-changelog", b"m-1", b"ledger-1", 3),
        ("app-close-gates-changelog", b"gate:3", b"gate", 3),
        ("app-members-changelog", b"m-1", b"ledger-2", 3),
    ]
    assert writer.pending == 0
    assert members.data.persisted == {TP("app-members-changelog", 3): 1}
    assert gates.data.persisted == {TP("app-close-gates-changelog", 3): 0}


def test_pop_deletes_and_sends_a_tombstone_only_for_a_key_that_was_there() -> None:
    gates = table("app-close-gates-changelog")
    writer = TableWriter()
    writer.put(gates, 1, b"share:1:20500:0:0", b"share")
    assert writer.pop(gates, 1, b"share:1:20500:0:0") == b"share"
    assert writer.pop(gates, 1, b"share:1:20500:0:0") is None
    assert b"share:1:20500:0:0" not in gates.data
    producer = FakeProducer()
    asyncio.run(writer.send(producer.send))
    assert [(key, value) for _, key, value, _ in producer.sent] == [
        (b"share:1:20500:0:0", b"share"),
        (b"share:1:20500:0:0", None),
    ]


def test_a_record_not_delivered_keeps_no_offset() -> None:
    members = table("app-members-changelog")
    writer = TableWriter()
    writer.put(members, 0, b"m-1", b"ledger")
    producer = FakeProducer(fail_on=b"m-1")

    async def run() -> None:
        await writer.send(producer.send)
        await asyncio.sleep(0)

    asyncio.run(run())
    assert members.data.persisted == {}
