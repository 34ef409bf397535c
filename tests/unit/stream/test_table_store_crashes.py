"""The worker's table store (`TableTargetStore` over a `TableWriter`) with its changelog as the only durable
state: ledgers encoded when sent, sent at every step a target side yields, as the absorber does. Sides
lost at random between sends, rebuilt from the changelog alone and fed again what came after their last
stored position, end with the ledgers and records of a replay (docs/streaming.md, "Batches")."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from types import SimpleNamespace
from typing import Any

import pytest

from ssi_stream.engine import TargetSide
from ssi_stream.engine.messages import TargetMessage
from ssi_stream.ledger.member_ledger import decode_ledger
from ssi_stream.replay import Replay
from ssi_stream.stream.table_writes import TableWriter
from ssi_stream.stream.tables import LedgerCache, TableTargetStore
from tests.unit.engine.test_deferred_store import (
    MODEL,
    NOW,
    TIMELINE,
    _lines,
    _scored,
    assert_the_same_records_once_copies_are_dropped,
)


class Table(dict):
    """What the store uses of a Faust table: `get`, `keys` and `data` (itself) for the writer."""

    def __init__(self, name: str, held: dict[bytes, bytes]) -> None:
        super().__init__(held)
        self.data = self
        self.changelog_topic = SimpleNamespace(get_topic_name=lambda: name)


class ChangelogReplay(Replay):
    """Replay whose target sides keep their state in `TableTargetStore`s; what survives a loss is what
    their writers sent to the (here in-memory) changelogs."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(MODEL, timeline=TIMELINE, now=NOW)
        self.rng = rng
        self.changelogs: list[dict[str, dict[bytes, bytes]]] = [
            {"members": {}, "gates": {}} for _ in self.targets
        ]
        self.writers: list[TableWriter] = []
        self.stores: list[TableTargetStore] = []
        for number in range(len(self.targets)):
            self.writers.append(TableWriter())
            self.stores.append(self._store(number))
        self.targets = [self._side(number) for number in range(len(self.targets))]
        self.unstored: list[list[TargetMessage]] = [[] for _ in self.targets]
        self.lost = 0

    def ledgers(self) -> Any:
        for changelog in self.changelogs:
            for key, raw in changelog["members"].items():
                yield key.decode(), decode_ledger(raw, TIMELINE.dedup)

    def _store(self, number: int) -> TableTargetStore:
        held = self.changelogs[number]
        members, gates = Table("members", held["members"]), Table("gates", held["gates"])
        cache = LedgerCache(self.rng.choice([0, 20, 1000]))
        return TableTargetStore(
            number, TIMELINE.partitions, members, gates, TIMELINE.dedup, self.writers[number], cache
        )

    def _side(self, number: int) -> TargetSide:
        return TargetSide(number, MODEL, TIMELINE, self.stores[number], observer=self.stats)

    def _send(self, number: int) -> None:
        changelog = self.changelogs[number]

        async def send_records(topic: str, partition: int, records: list) -> list:
            assert partition == number
            for key, value in records:
                if value is None:
                    changelog[topic].pop(key, None)
                else:
                    changelog[topic][key] = value
            return []

        asyncio.run(self.writers[number].send(send_records))

    def _lose(self, number: int) -> None:
        self.writers[number] = TableWriter()  # what it had not sent is gone with it
        self.stores[number] = self._store(number)
        self.targets[number] = self._side(number)
        inbox = self._inboxes[number]
        self._inboxes[number] = deque([*self.unstored[number], *inbox])
        self.unstored[number] = []
        self.lost += 1

    def _pump(self) -> None:
        inboxes, rng = self._inboxes, self.rng
        while any(inboxes):
            for number in range(len(inboxes)):
                inbox = inboxes[number]
                if not inbox:
                    continue
                batch = [inbox.popleft() for _ in range(min(len(inbox), rng.randint(1, 40)))]
                target = self.targets[number]
                lost = False
                for step in target.take(batch, store=False):
                    self._deliver(step)
                    if rng.random() < 0.03:  # lost in the middle of a close or a rank, before the send
                        lost = True
                        break
                    self._send(number)  # the step's flush sends (and encodes) the table writes
                if lost:
                    self.unstored[number] += batch
                    self._lose(number)
                    continue
                self._deliver(target.drain())
                self.unstored[number] += batch
                if rng.random() < 0.2:
                    self._send(number)  # the other reader's send may come at any time
                if rng.random() < 0.05:
                    self._lose(number)
                elif rng.random() < 0.3:  # the state, sent and flushed; then the position
                    target.store_state()
                    self._send(number)
                    self.unstored[number] = []
            if not any(inboxes):
                for number, target in enumerate(self.targets):
                    target.store_state()
                    self._send(number)
                    self.unstored[number] = []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sides_lost_between_sends_end_with_the_ledgers_and_records_of_replay(seed: int) -> None:
    lines = _lines()
    records, ledgers = _scored(Replay(MODEL, timeline=TIMELINE, now=NOW), lines)
    replay = ChangelogReplay(random.Random(seed))
    got_records, got_ledgers = _scored(replay, lines)
    assert replay.lost > 5
    assert got_ledgers == ledgers
    assert_the_same_records_once_copies_are_dropped(got_records, records)
