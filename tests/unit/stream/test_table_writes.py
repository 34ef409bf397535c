"""Table writes outside Faust's per-write path (`stream.table_writes`): the store at once, in the
partition's context; the changelog records in the order written, sent together; the offsets kept."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.streams import current_event
from faust.types import TP

from ssi_stream.stream.table_writes import ENCODE_CHUNK, TableWriter


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
    """`send_records` as the worker's: the records of one partition in batches of `per_batch`, each
    resolving to its first record's offset (or failing when it holds `fail_on`)."""

    def __init__(self, fail_on: bytes | None = None, per_batch: int = 100) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, int]] = []
        self.batches: list[tuple[str, int, int]] = []  # (topic, partition, records)
        self.fail_on = fail_on
        self.per_batch = per_batch
        self.offsets: dict[tuple[str, int], int] = {}

    async def send_records(
        self, topic: str, partition: int, records: list[tuple[bytes, bytes | None]]
    ) -> list[tuple[asyncio.Future, int]]:
        made = []
        for start in range(0, len(records), self.per_batch):
            chunk = records[start : start + self.per_batch]
            self.sent.extend((topic, key, value, partition) for key, value in chunk)
            self.batches.append((topic, partition, len(chunk)))
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            if any(key == self.fail_on for key, _ in chunk):
                future.set_exception(RuntimeError("not delivered"))
            else:
                first = self.offsets.get((topic, partition), -1) + 1
                self.offsets[topic, partition] = first + len(chunk) - 1
                future.set_result(SimpleNamespace(topic=topic, partition=partition, offset=first))
            made.append((future, len(chunk)))
        return made


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
        await writer.send(producer.send_records)
        await asyncio.sleep(0)  # done callbacks run on the next loop turn

    asyncio.run(run())
    assert producer.sent == [  # in the order written, per changelog partition
        ("app-members-changelog", b"m-1", b"ledger-1", 3),
        ("app-members-changelog", b"m-1", b"ledger-2", 3),
        ("app-close-gates-changelog", b"gate:3", b"gate", 3),
    ]
    assert producer.batches == [("app-members-changelog", 3, 2), ("app-close-gates-changelog", 3, 1)]
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
    asyncio.run(writer.send(producer.send_records))
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
        await writer.send(producer.send_records)
        await asyncio.sleep(0)

    asyncio.run(run())
    assert members.data.persisted == {}


def test_many_writes_go_in_batches_and_the_store_keeps_the_last_offset_of_each() -> None:
    members = table("app-members-changelog")
    writer = TableWriter()
    for number in range(7):
        writer.put(members, 2, f"m-{number}".encode(), b"ledger")
    writer.put(members, 5, b"m-9", b"ledger")
    producer = FakeProducer(per_batch=3)

    async def run() -> None:
        await writer.send(producer.send_records)
        await asyncio.sleep(0)

    asyncio.run(run())
    assert producer.batches == [
        ("app-members-changelog", 2, 3),
        ("app-members-changelog", 2, 3),
        ("app-members-changelog", 2, 1),
        ("app-members-changelog", 5, 1),
    ]
    assert [key for _, key, _, _ in producer.sent] == [f"m-{n}".encode() for n in range(7)] + [b"m-9"]
    assert members.data.persisted == {
        TP("app-members-changelog", 2): 6,
        TP("app-members-changelog", 5): 0,
    }


def test_send_in_batches_fills_aiokafka_batches_and_sends_a_record_larger_than_one_alone() -> None:
    from aiokafka.producer.message_accumulator import BatchBuilder

    from ssi_stream.stream.table_writes import send_in_batches

    class Producer:
        def __init__(self) -> None:
            self.batches: list[tuple[str, int, int]] = []

        def create_batch(self) -> BatchBuilder:
            return BatchBuilder(1024, 0)  # no compression

        async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> str:
            self.batches.append((topic, partition, batch.record_count()))
            return f"future-{len(self.batches)}"

    records: list[tuple[bytes, bytes | None]] = [(f"k{n}".encode(), bytes(300)) for n in range(7)]
    records.insert(3, (b"big", bytes(5000)))  # larger than a batch: it goes alone
    records.append((b"gone", None))  # a tombstone
    producer = Producer()
    sent = asyncio.run(send_in_batches(producer, "t", 4, records))
    counts = [count for _, count in sent]
    assert sum(counts) == len(records) and [n for _, _, n in producer.batches] == counts
    assert counts[1] == 1 and all(1 <= n <= 3 for n in counts)  # 300-byte values: at most 3 in 1 KiB
    assert [future for future, _ in sent] == [f"future-{n}" for n in range(1, len(sent) + 1)]
    assert all(topic == "t" and partition == 4 for topic, partition, _ in producer.batches)


def test_a_send_waits_for_one_in_progress_so_no_record_overtakes_an_earlier_one_of_its_partition() -> None:
    """The two readers share the writer, and a send yields between batches (aiokafka queues one batch
    per partition at a time): a second send must not go first, nor return before the first's records
    are queued (its flush would not cover them)."""
    members, gates = table("app-members-changelog"), table("app-close-gates-changelog")
    writer = TableWriter()
    sent: list[bytes] = []

    async def slow_send(topic: str, partition: int, records: list) -> list:
        made = []
        for key, _ in records:
            await asyncio.sleep(0.001)  # a batch waiting for the one before it
            sent.append(key)
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            future.set_result(SimpleNamespace(topic=topic, partition=partition, offset=len(sent) - 1))
            made.append((future, 1))
        return made

    async def run() -> list[bytes]:
        for number in range(3):
            writer.put(members, 0, f"ledger-{number}".encode(), b"l")
        writer.put(gates, 0, b"gate-1", b"g1")
        first = asyncio.create_task(writer.send(slow_send))  # the absorber's close
        await asyncio.sleep(0.0015)  # it is between batches now
        writer.put(gates, 0, b"gate-2", b"g2")  # the next step's gate, written meanwhile
        await writer.send(slow_send)  # the other reader's flush
        queued_when_second_returned = list(sent)
        await first
        return queued_when_second_returned

    queued = asyncio.run(run())
    assert sent == [b"ledger-0", b"ledger-1", b"ledger-2", b"gate-1", b"gate-2"]
    assert queued == sent  # the second send returned only once everything before it was queued


def test_a_value_put_later_is_encoded_once_at_the_send_with_what_it_holds_then_in_its_first_place() -> None:
    members, gates = table("app-members-changelog"), table("app-close-gates-changelog")
    writer = TableWriter()
    encoded: list[str] = []

    def encode(held: dict) -> bytes:
        encoded.append(held["name"])
        return f"{held['name']}:{held['count']}".encode()

    one, two = {"name": "m-1", "count": 1}, {"name": "m-2", "count": 1}
    writer.put_later(members, 3, b"m-1", one, encode)
    writer.put_later(members, 3, b"m-2", two, encode)
    writer.put(gates, 3, b"gate:3", b"gate")
    one["count"] = 2  # changed and put again (a close after the absorbed effects were put)
    writer.put_later(members, 3, b"m-1", one, encode)
    one["count"] = 3  # changed after its last put, before the send
    assert writer.later(members, 3, b"m-1") is one and writer.later(members, 4, b"m-1") is None
    assert sorted(writer.later_keys(members, 3)) == [b"m-1", b"m-2"] and writer.later_keys(gates, 3) == []
    assert b"m-1" not in members.data and encoded == []  # nothing encoded before the send
    assert writer.pending == 3
    producer = FakeProducer()
    asyncio.run(writer.send(producer.send_records))
    assert sorted(encoded) == ["m-1", "m-2"]  # once each
    assert producer.sent == [  # m-1 in the place of its first put, with what it held at the send
        ("app-members-changelog", b"m-1", b"m-1:3", 3),
        ("app-members-changelog", b"m-2", b"m-2:1", 3),
        ("app-close-gates-changelog", b"gate:3", b"gate", 3),
    ]
    assert members.data == {b"m-1": b"m-1:3", b"m-2": b"m-2:1"} and members.data.partitions[b"m-1"] == 3
    assert writer.later(members, 3, b"m-1") is None and writer.later_keys(members, 3) == []
    writer.put_later(members, 3, b"m-1", one, encode)  # a put after the send: a record of its own
    asyncio.run(writer.send(producer.send_records))
    assert encoded.count("m-1") == 2 and producer.sent[-1] == ("app-members-changelog", b"m-1", b"m-1:3", 3)


def test_a_write_or_delete_after_a_put_later_of_the_same_key_keeps_the_order_of_the_writes() -> None:
    members = table("app-members-changelog")
    writer = TableWriter()
    writer.put_later(members, 0, b"k", {"v": 1}, lambda held: b"later-%d" % held["v"])
    writer.put(members, 0, b"k", b"now")  # the later value is encoded first, in its place
    assert writer.later(members, 0, b"k") is None and members.data[b"k"] == b"now"
    writer.put_later(members, 0, b"j", {"v": 2}, lambda held: b"later-%d" % held["v"])
    assert writer.pop(members, 0, b"j") == b"later-2"  # encoded, then deleted: a tombstone follows it
    producer = FakeProducer()
    asyncio.run(writer.send(producer.send_records))
    assert [(key, value) for _, key, value, _ in producer.sent] == [
        (b"k", b"later-1"),
        (b"k", b"now"),
        (b"j", b"later-2"),
        (b"j", None),
    ]
    assert members.data == {b"k": b"now"}


def test_a_value_that_cannot_be_encoded_fails_the_send_and_leaves_every_record_pending() -> None:
    members, gates = table("app-members-changelog"), table("app-close-gates-changelog")
    writer = TableWriter()
    broken = {"ok": False}

    def encode(held: dict) -> bytes:
        if not held["ok"]:
            raise ValueError("cannot encode")
        return b"fine"

    writer.put(gates, 0, b"gate:0", b"gate")
    writer.put_later(members, 0, b"m-1", broken, encode)
    producer = FakeProducer()
    with pytest.raises(ValueError, match="cannot encode"):
        asyncio.run(writer.send(producer.send_records))
    assert producer.sent == [] and writer.pending == 2 and writer.later(members, 0, b"m-1") is broken
    broken["ok"] = True
    asyncio.run(writer.send(producer.send_records))
    assert [(key, value) for _, key, value, _ in producer.sent] == [(b"gate:0", b"gate"), (b"m-1", b"fine")]


def test_a_long_encode_returns_to_the_loop_and_writes_made_meanwhile_keep_their_order() -> None:
    members = table("app-members-changelog")
    writer = TableWriter()
    count = 3 * ENCODE_CHUNK
    held = {b"m-%d" % index: {"v": 1} for index in range(count)}
    for key, value in held.items():
        writer.put_later(members, 0, key, value, lambda value: b"v%d" % value["v"])
    first, last = b"m-0", b"m-%d" % (count - 1)  # encoded in the first chunk, and in the last
    written = b"m-%d" % (count - 2)
    seen: dict[str, Any] = {}

    async def meanwhile() -> None:
        await asyncio.sleep(0)  # the send has returned to the loop twice by now: the last chunk is left
        seen["last, not encoded yet"] = writer.later(members, 0, last)
        held[last]["v"] = 2  # the ledger changes...
        writer.put_later(members, 0, last, held[last], lambda value: b"v%d" % value["v"])  # ...put again
        held[first]["v"] = 3
        writer.put_later(members, 0, first, held[first], lambda value: b"v%d" % value["v"])
        writer.put(members, 0, written, b"written")  # a key still being encoded, then written for good

    async def run() -> FakeProducer:
        producer = FakeProducer(per_batch=10_000)
        await asyncio.gather(writer.send(producer.send_records), meanwhile())
        assert writer.pending == 3  # the keys written meanwhile: the next send's
        await writer.send(producer.send_records)
        return producer

    producer = asyncio.run(run())
    assert seen["last, not encoded yet"] is held[last]  # read from the send in progress
    sent = [(key, value) for _, key, value, _ in producer.sent]
    assert len(sent) == count + 3
    # each with what it held when encoded: the first before the change, the last after it
    assert sent[:count] == [(key, b"v2" if key == last else b"v1") for key in held]
    assert sent[count:] == [(last, b"v2"), (first, b"v3"), (written, b"written")]
    assert members.data[written] == b"written" and members.data[first] == b"v3"


def test_an_encode_failing_after_a_return_to_the_loop_leaves_every_record_pending() -> None:
    members = table("app-members-changelog")
    writer = TableWriter()
    count = 2 * ENCODE_CHUNK
    held = {b"m-%d" % index: {"ok": index != count - 1} for index in range(count)}

    def encode(value: dict) -> bytes:
        if not value["ok"]:
            raise ValueError("cannot encode")
        return b"fine"

    for key, value in held.items():
        writer.put_later(members, 0, key, value, encode)
    broken = b"m-%d" % (count - 1)

    again, early = b"m-%d" % (count - 2), b"m-%d" % (count - 3)

    async def meanwhile() -> None:  # runs at the send's first return to the loop
        writer.put_later(members, 0, again, held[again], encode)  # put again before it is encoded
        writer.put_later(members, 0, early, held[early], encode)  # ... and this one too
        writer.put_later(members, 0, broken, held[broken], encode)  # ... and the one that fails

    async def failing() -> None:
        await asyncio.gather(writer.send(FakeProducer().send_records), meanwhile())

    with pytest.raises(ValueError, match="cannot encode"):
        asyncio.run(failing())
    # the two put again and encoded after the return keep both records (the old ones hold a value); the
    # one that failed keeps its newer record only
    assert writer.pending == count + 2 and writer.later(members, 0, broken) is held[broken]
    held[broken]["ok"] = True
    producer = FakeProducer(per_batch=10_000)
    asyncio.run(writer.send(producer.send_records))
    keys = [key for _, key, _, _ in producer.sent]
    assert sorted(keys) == sorted([*held, again, early]) and keys[-3:] == [again, early, broken]
    assert writer.pending == 0


def test_a_send_unless_busy_during_a_send_leaves_its_records_to_that_send_which_sends_them_too() -> None:
    members, clocks = table("app-members-changelog"), table("app-source-clocks-changelog")
    writer = TableWriter()
    for index in range(2 * ENCODE_CHUNK):
        writer.put_later(members, 0, b"m-%d" % index, {"v": index}, lambda value: b"%d" % value["v"])
    answers: dict[str, Any] = {}

    async def ingest(producer: FakeProducer) -> None:  # runs at the send's first return to the loop
        writer.put(clocks, 0, b"position:0", b"42")
        answers["keys while encoding"] = writer.later_keys(members, 0)
        answers["sent"] = await writer.send_unless_busy(producer.send_records)

    async def run() -> FakeProducer:
        producer = FakeProducer(per_batch=10_000)
        await asyncio.gather(writer.send(producer.send_records), ingest(producer))
        return producer

    producer = asyncio.run(run())
    assert answers["sent"] is False  # it did not wait for the absorber's send...
    assert writer.pending == 0  # ...which sent its position before returning
    assert producer.sent[-1][:3] == ("app-source-clocks-changelog", b"position:0", b"42")
    # the keys not encoded yet (the second chunk) are still "not in the store yet"
    assert sorted(answers["keys while encoding"]) == sorted(
        b"m-%d" % i for i in range(ENCODE_CHUNK, 2 * ENCODE_CHUNK)
    )
    assert asyncio.run(writer.send_unless_busy(FakeProducer().send_records)) is True  # nothing in progress
