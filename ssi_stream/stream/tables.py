"""The engine's stores over Faust tables: every value is the core's own compact encoding, as bytes.

Three changelog-backed tables hold a worker's state: `members` (member id -> ledger bytes), `source-clocks`
(input partition -> clock, and the position each input partition's state has reached) and `close-gates`
(effects partition -> gate, held day-share parts, industry distributions, the redelivery filters and the
effects deferred to their day's close, and the effects position).
A write goes to the table's store at once and to its changelog when the worker next delivers
(`stream.table_writes`); the worker's flush waits for it. A ledger is encoded, and reaches the store,
only when it is sent: until then the engine's reads here get the object written (the query API, which
reads the table itself, sees it from the send on).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import faust
import orjson

from ssi_stream.ledger.member_ledger import MemberLedger, encode_ledger, read_ledger
from ssi_stream.ledger.redelivery_filter import CHUNK_BYTES
from ssi_stream.ranking.exchange import DayShare
from ssi_stream.stream.table_writes import TableWriter
from ssi_stream.stream.wire import decode_share, encode_share
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import DedupPolicy


def clock_key(source: int) -> bytes:
    return f"source:{source}".encode()


def gate_key(target: int) -> bytes:
    return f"gate:{target}".encode()


def share_key(target: int, day: int, source: int, part: int) -> bytes:
    """Where a target keeps a day share part it received, until the day is ranked."""
    return f"share:{target}:{day}:{source}:{part}".encode()


def distribution_key(target: int, industry: str) -> bytes:
    """Where a target keeps an industry's distribution of the last day it ranked with members of it."""
    return f"distribution:{target}:{industry}".encode()


def filter_key(target: int, day: int, chunk: int | None = None) -> bytes:
    """Where a target keeps its redelivery filter of a day: its chunk count, and each chunk."""
    return f"filter:{target}:{day}".encode() if chunk is None else f"filter:{target}:{day}:{chunk}".encode()


def deferred_key(target: int, day: int, chunk: int) -> bytes:
    """Where a target keeps the effects deferred to a day's close, a chunk at a time."""
    return f"deferred:{target}:{day}:{chunk}".encode()


def position_key(partition: int) -> bytes:
    """Where a table keeps the next offset it expects from its input partition (see OffsetGuard)."""
    return f"position:{partition}".encode()


class TableSourceStore:
    """The source side's clocks in the `source-clocks` table.

    A clock of input partition *p* is written to changelog partition *p*: the worker that takes the
    partition over restores that changelog partition only.
    """

    def __init__(self, clocks: faust.Table, writer: TableWriter) -> None:
        self.clocks = clocks
        self.writer = writer

    def clock(self, source: int) -> bytes | None:
        return self.clocks.get(clock_key(source))

    def put_clock(self, source: int, clock: bytes) -> None:
        self.writer.put(self.clocks, source, clock_key(source), clock)

    def position(self, source: int) -> bytes | None:
        """The stored position of input partition `source` (see `OffsetGuard`)."""
        return self.clocks.get(position_key(source))

    def put_position(self, source: int, position: bytes) -> None:
        self.writer.put(self.clocks, source, position_key(source), position)


class LedgerCache:
    """The most recently used member ledgers of a worker, decoded, at most `capacity` of them.

    Decoding a stored ledger costs more than absorbing an effect into it (BENCHMARKS.md, "Session 7"),
    and a member who acts once tends to act again within minutes; the close and the rank of a day read
    every member of a partition twice. A cached ledger is the object last written to the table (the
    engine mutates ledgers in place and writes every one it changed), so the cache only saves decoding:
    the table and its changelog still get every write. Emptied when partitions move (a rebalance).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ledgers: OrderedDict[str, MemberLedger] = OrderedDict()
        #: Reads answered from the cache, and stored ledgers decoded, since `take_counts`.
        self.hits = 0
        self.decoded = 0

    def take_counts(self) -> tuple[int, int]:
        """(hits, decoded) since the last call (for `ssi_ledger_reads_total`)."""
        counts = self.hits, self.decoded
        self.hits = self.decoded = 0
        return counts

    def get(self, member_id: str) -> MemberLedger | None:
        ledger = self._ledgers.get(member_id)
        if ledger is not None:
            self._ledgers.move_to_end(member_id)
        return ledger

    def put(self, member_id: str, ledger: MemberLedger) -> None:
        if self.capacity <= 0:
            return
        self._ledgers[member_id] = ledger
        self._ledgers.move_to_end(member_id)
        if len(self._ledgers) > self.capacity:
            self._ledgers.popitem(last=False)

    def clear(self) -> None:
        self._ledgers.clear()

    def __len__(self) -> int:
        return len(self._ledgers)


class TableTargetStore:
    """One effects partition's state in the `members` and `close-gates` tables."""

    def __init__(
        self,
        target: int,
        partitions: int,
        members: faust.Table,
        gates: faust.Table,
        dedup: DedupPolicy,
        writer: TableWriter,
        cache: LedgerCache | None = None,
    ) -> None:
        self.target = target
        self.partitions = partitions
        self.members = members
        self.gates = gates
        self.dedup = dedup
        self.writer = writer
        self.cache = cache if cache is not None else LedgerCache(0)

    def _put_gate_value(self, key: bytes, value: bytes) -> None:
        self.writer.put(self.gates, self.target, key, value)

    def _pop_gate_value(self, key: bytes) -> bytes | None:
        return self.writer.pop(self.gates, self.target, key)

    def ledger(self, member_id: str) -> MemberLedger | None:
        cache = self.cache
        cached = cache.get(member_id)
        if cached is not None:
            cache.hits += 1
            return cached
        key = member_id.encode()
        unsent = self.writer.later(self.members, self.target, key)
        if unsent is not None:  # put and not sent yet: the table has an older value, or none
            cache.put(member_id, unsent)
            return unsent
        stored = self.members.get(key)
        if stored is None:
            return None
        cache.decoded += 1
        ledger = read_ledger(member_id, stored, self.dedup)  # raises UnreadableLedger: not cached
        cache.put(member_id, ledger)
        return ledger

    def put_ledger(self, member_id: str, ledger: MemberLedger) -> None:
        self.writer.put_later(self.members, self.target, member_id.encode(), ledger, encode_ledger)
        self.cache.put(member_id, ledger)

    def member_ids(self) -> Iterable[str]:
        """The members of this partition held by the table (one scan, when the partition is taken on),
        and those put and not sent yet."""
        target, partitions = self.target, self.partitions
        for key in self.members.keys():  # noqa: SIM118 - a Faust table, not a dict
            member_id = key.decode()
            if partition_for(member_id, partitions) == target:
                yield member_id
        for key in self.writer.later_keys(self.members, target):
            if self.members.get(key) is None:
                yield key.decode()

    def gate(self) -> bytes | None:
        return self.gates.get(gate_key(self.target))

    def put_gate(self, gate: bytes) -> None:
        self._put_gate_value(gate_key(self.target), gate)

    def share(self, day: int, source: int, part: int) -> DayShare:
        return decode_share(self.gates[share_key(self.target, day, source, part)])

    def put_share(self, share: DayShare) -> None:
        self._put_gate_value(share_key(self.target, share.day, share.source, share.part), encode_share(share))

    def drop_share(self, day: int, source: int, part: int) -> None:
        self._pop_gate_value(share_key(self.target, day, source, part))

    def put_distribution(self, industry: str, document: dict[str, Any]) -> None:
        self._put_gate_value(distribution_key(self.target, industry), orjson.dumps(document))

    def filter_chunks(self, day: int) -> list[bytes] | None:
        count = self.gates.get(filter_key(self.target, day))
        if count is None:
            return None
        chunks = [self.gates.get(filter_key(self.target, day, index)) for index in range(int(count))]
        # a chunk a crash lost before it was written is empty: the close done again writes it
        return [bytes(CHUNK_BYTES) if chunk is None else chunk for chunk in chunks]

    def put_filter_chunk(self, day: int, index: int, chunks: int, chunk: bytes) -> None:
        count = str(chunks).encode()
        if self.gates.get(filter_key(self.target, day)) != count:
            self._put_gate_value(filter_key(self.target, day), count)
        self._put_gate_value(filter_key(self.target, day, index), chunk)

    def drop_filter(self, day: int) -> None:
        count = self._pop_gate_value(filter_key(self.target, day))
        for index in range(int(count or 0)):
            self._pop_gate_value(filter_key(self.target, day, index))

    def deferred(self, day: int) -> list[bytes]:
        chunks = []
        while (chunk := self.gates.get(deferred_key(self.target, day, len(chunks)))) is not None:
            chunks.append(chunk)
        return chunks

    def put_deferred(self, day: int, index: int, chunk: bytes) -> None:
        self._put_gate_value(deferred_key(self.target, day, index), chunk)

    def drop_deferred(self, day: int) -> None:
        index = 0
        while self._pop_gate_value(deferred_key(self.target, day, index)) is not None:
            index += 1
