"""Table writes without Faust's per-write path: the store at once (or at the send, for values encoded
then), the changelog records in order, sent by the worker before each flush.

A Faust table write (`table[key] = value`) hands its changelog record to `Topic.send_soon`: into
Faust's producer buffer, which one background task drains a record at a time through
`Topic.publish_message`. A busy worker writes a ledger per member per batch and two per close, and
waited most of every flush for that buffer (BENCHMARKS.md, "Session 6"). `TableWriter` does what the
write does — the value into the table's store (in the partition's context, for RocksDB), the same
record (raw key, raw value, the same changelog partition) to the changelog, the offset it got kept as
the store's persisted offset — all of them when the worker delivers (`send`), before it waits for the
producer (`ScoringTopology._flush`), as record batches: one per changelog partition (or more, each up
to the producer's batch size), so a close's thousands of ledgers cost no per-record send (a send per
record was a tenth of a busy worker's time, BENCHMARKS.md "Session 7"). Reads of the store see a
write at once (a `put_later` one from its send); a restore reads the same changelog.

A value can also be encoded when it is sent (`put_later`, the member ledgers): a key put again before
then is encoded once, with what its object holds at the send, in the place of its first put. A ledger
is put before a day's close (absorbed since its last write), then closed and put again before the
step's send; each put used to encode it (11 % of a busy worker's time, BENCHMARKS.md "Session 14").
This relies on the engine's rule that a ledger it changes after a put is put again before its next
barrier, and on the driver sending at every barrier (`tests/unit/stream/test_table_store_crashes.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from faust.types import TP

from ssi_stream.stream.event_context import reset, set_partition

#: Sends records (topic, partition, [(key, value or None for a tombstone)], in order) and returns a
#: (future, count) per record batch it made, in order; each future resolves to the batch's metadata
#: (`offset`: the offset of its first record).
SendRecords = Callable[[str, int, list[tuple[bytes, bytes | None]]], Awaitable[list[tuple[Any, int]]]]


#: A send encodes this many `put_later` values between two returns to the event loop (about 10 ms).
ENCODE_CHUNK = 256

#: A pending record whose value is encoded at the send (`TableWriter.put_later`).
_LATER: Any = object()


class TableWriter:
    """Writes to Faust tables whose changelog records wait, in order, for `send`."""

    def __init__(self) -> None:
        self._pending: list[list[Any]] = []  # [table, partition, key, value (bytes, None, or _LATER)]
        #: (table id, partition, key) -> its pending record, the object put last and its encoder
        self._later: dict[tuple[int, int, bytes], tuple[list[Any], Any, Callable[[Any], bytes]]] = {}
        #: The `put_later` records a send in progress is encoding, until each is encoded (the send
        #: returns to the event loop every `ENCODE_CHUNK`: what they hold is still read from here).
        self._encoding: dict[tuple[int, int, bytes], tuple[list[Any], Any, Callable[[Any], bytes]]] = {}
        #: One `send` at a time: the worker's two readers share the writer, and a send waits between
        #: batches (aiokafka queues one batch per partition at a time).
        self._sending = asyncio.Lock()
        self._skipped = False  # a `send_unless_busy` found a send in progress

    def put(self, table: Any, partition: int, key: bytes, value: bytes) -> None:
        """`table[key] = value` on changelog partition `partition`."""
        self._encode_now(table, partition, key)
        _store(table, partition, key, value)
        self._pending.append([table, partition, key, value])

    def put_later(
        self, table: Any, partition: int, key: bytes, held: Any, encode: Callable[[Any], bytes]
    ) -> None:
        """`table[key] = encode(held)`, encoded at the next `send` (with what `held` holds then); until
        then `later` answers for the key, not the table. Put again before that, it is encoded once."""
        slot = (id(table), partition, key)
        waiting = self._later.get(slot)
        if waiting is None:
            record = [table, partition, key, _LATER]
            self._pending.append(record)
        else:
            record = waiting[0]
        self._later[slot] = (record, held, encode)

    def later(self, table: Any, partition: int, key: bytes) -> Any | None:
        """The object put for `key` with `put_later` and not sent yet, or None."""
        slot = (id(table), partition, key)
        waiting = self._later.get(slot) or self._encoding.get(slot)
        return None if waiting is None else waiting[1]

    def later_keys(self, table: Any, partition: int) -> list[bytes]:
        """The keys of `table`'s `partition` put with `put_later` and not in its store yet."""
        slots = self._later.keys() | self._encoding.keys()
        return [key for (held, part, key) in slots if held == id(table) and part == partition]

    def pop(self, table: Any, partition: int, key: bytes) -> bytes | None:
        """`table.pop(key, None)` on changelog partition `partition` (a tombstone if it was there)."""
        self._encode_now(table, partition, key)
        value = table.data.get(key)
        if value is None:
            return None
        del table.data[key]
        self._pending.append([table, partition, key, None])
        return value

    @property
    def pending(self) -> int:
        """Changelog records written and not sent yet."""
        return len(self._pending)

    async def send(self, send_records: SendRecords) -> None:
        """Send every pending changelog record, in the order written per changelog partition (the caller
        then flushes). Returns once every record written before the call is queued, also those a send
        still in progress (the other reader's) took: so a flush after it covers them, and a record never
        overtakes an earlier one of its partition."""
        async with self._sending:
            await self._send_pending(send_records)
            while self._skipped:  # the other reader's `send_unless_busy` came meanwhile: its records too
                self._skipped = False
                await self._send_pending(send_records)

    async def send_unless_busy(self, send_records: SendRecords) -> bool:
        """`send`, unless a send is in progress (the other reader's): then nothing waits, and the send
        in progress sends what is pending too before it returns (the flush after it covers them). True
        if it sent. For a reader that does not flush after its send."""
        if self._sending.locked():
            self._skipped = True  # the send in progress sends them before it returns
            return False
        await self.send(send_records)
        return True

    def _encode_now(self, table: Any, partition: int, key: bytes) -> None:
        """Encode a value put for `key` with `put_later` now, in its place: a write or delete follows."""
        slot = (id(table), partition, key)
        for held in (self._encoding, self._later):  # the older first
            waiting = held.get(slot)
            if waiting is not None:
                _encode(*waiting)  # if it raises, it still waits
                del held[slot]

    async def _send_pending(self, send_records: SendRecords) -> None:
        pending, self._pending = self._pending, []
        self._encoding, self._later = self._later, {}
        try:
            await self._encode_all()  # each once, with what it holds now
        except BaseException:  # every record is still pending (those encoded with their value); a send
            self._restore(pending)  # cancelled later, in `send_records`, loses what it took (as before)
            raise
        by_partition: dict[tuple[int, int], tuple[Any, int, list[tuple[bytes, bytes | None]]]] = {}
        for table, partition, key, value in pending:  # grouped by table object: its topic name once
            held = by_partition.get((id(table), partition))
            if held is None:
                held = by_partition[id(table), partition] = (table, partition, [])
            held[2].append((key, value))
        for table, partition, records in by_partition.values():
            topic = table.changelog_topic.get_topic_name()
            for future, count in await send_records(topic, partition, records):
                future.add_done_callback(_persisted(table.data, topic, partition, count))

    async def _encode_all(self) -> None:
        """Encode what `_send_pending` took, returning to the event loop every `ENCODE_CHUNK` values (a
        close's or an interval's ledgers in one go held the other reader for up to ~250 ms: BENCHMARKS.md
        "Session 17"). Meanwhile
        the other reader may write: a key put again is a record of the next send (encoded then), and a
        key written or deleted is encoded here first (`_encode_now`), so the store keeps the newer."""
        encoding, count = self._encoding, 0
        for slot in list(encoding):
            waiting = encoding.get(slot)
            if waiting is None:  # encoded meanwhile by `_encode_now`
                continue
            _encode(*waiting)  # if it raises, it still waits
            del encoding[slot]
            count += 1
            if count % ENCODE_CHUNK == 0:
                await asyncio.sleep(0)

    def _restore(self, pending: list[list[Any]]) -> None:
        """After a failed encode: the records taken back in front of those written since, each value
        not encoded yet waiting again (or dropped, where its key was put again since: that newer record
        encodes the same object at the next send)."""
        encoding, self._encoding = self._encoding, {}
        dropped = set()
        for slot, waiting in encoding.items():
            if slot in self._later:
                dropped.add(id(waiting[0]))
            else:
                self._later[slot] = waiting
        self._pending[:0] = [record for record in pending if id(record) not in dropped]


def _encode(record: list[Any], held: Any, encode: Callable[[Any], bytes]) -> None:
    """Give a pending `put_later` record its value, `encode(held)`, and the table's store with it."""
    table, partition, key, _ = record
    record[3] = encode(held)
    _store(table, partition, key, record[3])


def _store(table: Any, partition: int, key: bytes, value: bytes) -> None:
    """`value` into the table's store, in the changelog partition's context (RocksDB needs it)."""
    token = set_partition(table.changelog_topic.get_topic_name(), partition)
    try:
        table.data[key] = value
    finally:
        reset(token)


def _persisted(store: Any, topic: str, partition: int, count: int) -> Callable[[Any], None]:
    """What Faust's table does once a changelog record is written: the store keeps its offset (RocksDB
    then restores only what came after it), here the batch's last."""

    def done(future: Any) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # the worker's flush reports it
        metadata = future.result()
        store.set_persisted_offset(TP(topic, partition), metadata.offset + count - 1)

    return done


async def send_in_batches(
    producer: Any, topic: str, partition: int, records: list[tuple[bytes, bytes | None]]
) -> list[tuple[Any, int]]:
    """Send `records` to `topic`'s `partition`, in order, as aiokafka record batches (`create_batch`,
    `send_batch`), each as full as the producer's batch size allows (a record larger than that goes
    alone): no per-record send, future or metadata check. Returns (future, records) per batch."""
    sent: list[tuple[Any, int]] = []
    batch, count = producer.create_batch(), 0
    for key, value in records:
        if batch.append(timestamp=None, key=key, value=value, headers=[]) is None:  # full
            sent.append((await producer.send_batch(batch, topic, partition=partition), count))
            batch, count = producer.create_batch(), 0
            batch.append(timestamp=None, key=key, value=value, headers=[])  # a first record always fits
        count += 1
    if count:
        sent.append((await producer.send_batch(batch, topic, partition=partition), count))
    return sent
