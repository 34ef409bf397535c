"""The worker's cache of decoded member ledgers (`stream.tables.LedgerCache`): the most recently used,
bounded, and only ever the object last written to or read from the table."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from ssi_stream.ledger.member_ledger import UnreadableLedger, encode_ledger, new_ledger
from ssi_stream.stream.table_writes import TableWriter
from ssi_stream.stream.tables import LedgerCache, TableTargetStore
from ssi_stream.timeline.policy import DedupPolicy

POLICY = DedupPolicy()


class Table(dict):
    """What the store reads of a Faust table: `get`, and `data` for the writer."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.data = self
        self.changelog_topic = SimpleNamespace(get_topic_name=lambda: name)


def store(cache: LedgerCache) -> tuple[TableTargetStore, Table]:
    members = Table("app-members-changelog")
    return TableTargetStore(
        0, 1, members, Table("app-close-gates-changelog"), POLICY, TableWriter(), cache
    ), members


def ledger(day: int) -> Any:
    made = new_ledger(POLICY)
    made.state.first_day = day
    return made


def test_it_keeps_the_most_recently_used_and_drops_the_oldest() -> None:
    cache = LedgerCache(2)
    a, b, c = ledger(1), ledger(2), ledger(3)
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now the most recent
    cache.put("c", c)
    assert len(cache) == 2 and cache.get("b") is None
    assert cache.get("a") is a and cache.get("c") is c
    cache.clear()
    assert len(cache) == 0 and cache.get("a") is None


def test_a_capacity_of_zero_keeps_nothing() -> None:
    cache = LedgerCache(0)
    cache.put("a", ledger(1))
    assert len(cache) == 0 and cache.get("a") is None


def send(target: TableTargetStore) -> list[tuple[bytes, bytes | None]]:
    """Send the writer's pending changelog records; the (key, value)s sent."""
    sent: list[tuple[bytes, bytes | None]] = []

    async def send_records(topic: str, partition: int, records: list) -> list:
        sent.extend(records)
        return []

    asyncio.run(target.writer.send(send_records))
    return sent


def test_a_written_ledger_is_read_back_without_decoding_and_the_table_gets_its_bytes_at_the_send() -> None:
    target, members = store(LedgerCache(10))
    written = ledger(7)
    target.put_ledger("m-1", written)
    assert b"m-1" not in members and list(target.member_ids()) == ["m-1"]  # encoded when sent
    written.state.first_day = 8  # changed after the put: the send encodes what it holds then
    assert send(target) == [(b"m-1", encode_ledger(written))]
    assert members[b"m-1"] == encode_ledger(written)  # the table and its changelog get every write
    members[b"m-1"] = b"\xffnot a ledger"  # were it decoded, this would not read
    assert target.ledger("m-1") is written


def test_a_ledger_put_and_not_sent_is_read_back_even_once_the_cache_forgot_it() -> None:
    for capacity in (0, 10):
        target, members = store(LedgerCache(capacity))
        members[b"m-1"] = encode_ledger(ledger(3))  # an older stored value
        written = ledger(7)
        target.put_ledger("m-1", written)
        target.cache.clear()  # a rebalance forgets the cache
        assert target.ledger("m-1") is written  # not the table's older value
        send(target)
        assert target.ledger("m-1").state.first_day == 7


def test_a_ledger_read_from_the_table_is_decoded_once() -> None:
    target, members = store(LedgerCache(10))
    members[b"m-1"] = encode_ledger(ledger(9))
    first = target.ledger("m-1")
    assert first is not None and first.state.first_day == 9
    members[b"m-1"] = b"\xffnot a ledger"
    assert target.ledger("m-1") is first
    assert target.cache.take_counts() == (1, 1) and target.cache.take_counts() == (0, 0)  # the metric's


def test_without_a_cache_every_read_decodes_and_an_unreadable_ledger_is_never_cached() -> None:
    uncached, members = store(LedgerCache(0))
    uncached.put_ledger("m-1", ledger(7))
    send(uncached)
    members[b"m-1"] = b"\xffnot a ledger"
    with pytest.raises(UnreadableLedger):
        uncached.ledger("m-1")
    cached, members = store(LedgerCache(10))
    members[b"m-2"] = b"\xffnot a ledger"
    for _ in range(2):  # reported each time, never remembered as readable
        with pytest.raises(UnreadableLedger):
            cached.ledger("m-2")
    assert cached.ledger("m-3") is None  # not in the table: nothing cached either
    assert len(cached.cache) == 0
