"""A target side that keeps its changed ledgers in memory between batches (`take(store=False)`, then
`store_state()`), as the worker's absorber does, scores exactly what one that stores after every batch
scores: also when a side is lost between two writes and its input since the last one is taken again
from its stored state, as a crashed worker's successor does."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ssi_stream.engine import TargetSide
from ssi_stream.engine.messages import TargetMessage
from ssi_stream.ledger.member_ledger import MemberLedger, decode_ledger, encode_ledger
from ssi_stream.replay import Replay
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings
from tests.unit.engine.bytes_store import BytesTargetStore

MODEL = load_model()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CONFIG = SimulationConfig(members=90, days=9, seed=5, duplicate_rate=0.05)
TIMELINE = TimelineSettings(partitions=3)


class DeferringReplay(Replay):
    """Replay whose targets store their state only now and then, and are sometimes lost: a lost side
    is built again over its store and takes again everything it took since it last stored."""

    def __init__(self, rng: random.Random, *, crashes: bool) -> None:
        super().__init__(MODEL, timeline=TIMELINE, now=NOW)
        self.rng, self.crashes = rng, crashes
        self.stores = [BytesTargetStore(TIMELINE.dedup) for _ in self.targets]
        self.targets = [self._side(number) for number in range(len(self.targets))]
        self.unstored: list[list[TargetMessage]] = [[] for _ in self.targets]  # taken since stored
        self.lost = 0

    def ledgers(self) -> Iterator[tuple[str, MemberLedger]]:
        for store in self.stores:
            for member_id, raw in store.stored.items():
                yield member_id, decode_ledger(raw, TIMELINE.dedup)

    def _side(self, number: int) -> TargetSide:
        return TargetSide(number, MODEL, TIMELINE, self.stores[number], observer=self.stats)

    def _pump(self) -> None:
        inboxes, rng = self._inboxes, self.rng
        while any(inboxes):
            for number, inbox in enumerate(inboxes):
                if not inbox:
                    continue
                batch = [inbox.popleft() for _ in range(min(len(inbox), rng.randint(1, 40)))]
                target = self.targets[number]
                for step in target.take(batch, store=False):
                    self._deliver(step)
                self._deliver(target.drain())
                self.unstored[number] += batch
                if self.crashes and rng.random() < 0.08:  # lost before it stored what it took
                    inboxes[number] = deque([*self.unstored[number], *inbox])
                    self.targets[number] = self._side(number)
                    self.unstored[number] = []
                    self.lost += 1
                elif rng.random() < 0.3:
                    target.store_state()
                    self.unstored[number] = []
            if not any(inboxes):  # the readers are idle: what they absorbed is stored
                for number, target in enumerate(self.targets):
                    target.store_state()
                    self.unstored[number] = []


def _lines() -> list[tuple[int, bytes]]:
    return [(number, value) for number, (_, value) in enumerate(iter_encoded(CONFIG), start=1)]


def _scored(replay: Replay, lines: list[tuple[int, bytes]]) -> tuple[list[dict], dict[str, bytes]]:
    records = []
    for start in range(0, len(lines), 500):
        records += replay.feed(lines[start : start + 500])
    records += replay.finish()
    return records, {member_id: encode_ledger(ledger) for member_id, ledger in replay.ledgers()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_deferred_store_scores_what_storing_every_batch_scores(seed: int) -> None:
    lines = _lines()
    expected = _scored(Replay(MODEL, timeline=TIMELINE, now=NOW), lines)
    assert expected[0] and len(expected[1]) == CONFIG.members
    assert _scored(DeferringReplay(random.Random(seed), crashes=False), lines) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_side_lost_before_it_stored_resumes_from_its_store_and_counts_each_effect_once(seed: int) -> None:
    lines = _lines()
    records, ledgers = _scored(Replay(MODEL, timeline=TIMELINE, now=NOW), lines)
    replay = DeferringReplay(random.Random(seed), crashes=True)
    got_records, got_ledgers = _scored(replay, lines)
    assert replay.lost > 5  # the sides were lost many times, between closes and across them
    assert got_ledgers == ledgers
    assert_the_same_records_once_copies_are_dropped(got_records, records)


def assert_the_same_records_once_copies_are_dropped(got: list[dict], expected: list[dict]) -> None:
    """A day ranked again after a loss emits its records again, each the same: downstream keeps one of
    each, and those are `expected`."""
    copies: dict[tuple[str, str], list[dict]] = {}
    for record in got:
        copies.setdefault(_order(record), []).append(record)
    assert all(all(copy == same[0] for copy in same) for same in copies.values())
    assert sorted((same[0] for same in copies.values()), key=_order) == sorted(expected, key=_order)


def _order(record: dict) -> tuple[str, str]:
    return record["date"], record["member_id"]
