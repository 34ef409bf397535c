"""The day close and rank protocol between target partitions, driven through the engine's target sides:
every target ranks every day it closes, even when targets start closing on different days (a source
idle before its first event) or after an upgrade from gates that did not rank."""

from __future__ import annotations

from collections import deque

import orjson

from ssi_stream.engine import MemoryTargetStore, Step, TargetSide
from ssi_stream.engine.messages import TargetMessage
from ssi_stream.ranking.exchange import DayShare, stand_in
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.close_gate import CloseGate, Receipt
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.timeline.source_clock import SourceMark

MODEL = load_model()


class Target:
    """One effects partition: the engine's real target side, its inbox, and the days it ranked."""

    def __init__(
        self, number: int, targets: list[Target], gate: CloseGate | None = None, sources: int = 2
    ) -> None:
        self.number, self.targets = number, targets
        store = MemoryTargetStore()
        if gate is not None:
            store.put_gate(gate.to_bytes())
        self.sources = sources
        self.store = store
        self.side: TargetSide | None = None
        self.inbox: deque[TargetMessage] = deque()
        self.ranked: list[int] = []

    @property
    def gate(self) -> CloseGate:
        return self.engine().gate

    def engine(self) -> TargetSide:
        if self.side is None:
            self.side = TargetSide(
                self.number, MODEL, TimelineSettings(partitions=len(self.targets)), self.store
            )
            if self.store.gate() is None:
                self.side.gate = CloseGate(expected_sources=self.sources)
        return self.side

    def deliver(self, step: Step) -> None:
        for destination, message in step.to_targets:
            self.targets[destination].inbox.append(message)

    def handle(self, message: TargetMessage) -> None:
        side = self.engine()
        before = side.gate.ranked_through
        for step in side.take([message]):
            self.deliver(step)
            after = side.gate.ranked_through
            if after != before and after is not None:
                self.ranked.append(after)
                before = after
        self.deliver(side.drain())
        after = side.gate.ranked_through
        if after != before and after is not None:
            self.ranked.append(after)


def run(targets: list[Target]) -> None:
    for _ in range(10_000):
        busy = [t for t in targets if t.inbox]
        if not busy:
            return
        for target in busy:
            target.handle(target.inbox.popleft())
    raise AssertionError("the protocol did not settle")


def test_targets_that_start_on_different_days_all_rank_every_day_they_close() -> None:
    idle = SourceMark(1, None, None, True, -1, None)  # source 1: idle, nothing placed yet
    s0 = SourceMark(0, 100, 101, False, 10, 100)
    woke = SourceMark(1, 98, 99, False, 0, 99)  # source 1 wakes up with an event of day 99
    s0_later, s1_later = SourceMark(0, 102, 103, False, 20, 100), SourceMark(1, 102, 103, False, 5, 99)
    targets: list[Target] = []
    a, b = Target(0, targets), Target(1, targets)
    targets += [a, b]
    a.inbox += [idle, s0]  # a closes day 100 first: the idle source holds nothing open
    run(targets)
    assert a.gate.closed_through == 100 and b.gate.closed_through is None
    a.inbox += [woke, s0_later, s1_later]
    b.inbox += [idle, woke, s0, s0_later, s1_later]  # b's first day is 99
    run(targets)
    assert b.ranked == [99, 100, 101, 102]  # b ranked 99 with a's stand-in for it
    assert a.ranked == [100, 101, 102]
    assert not a.gate.shares.received and not b.gate.shares.received  # nothing held for ever
    assert {entry[0] for entry in a.gate.dropping + b.gate.dropping} <= {99, 100, 101, 102}


def test_after_an_upgrade_a_target_a_day_ahead_does_not_keep_the_others_waiting() -> None:
    def legacy(closed_through: int) -> CloseGate:
        gate = CloseGate(expected_sources=2)
        gate.observe(SourceMark(0, closed_through, closed_through + 1, False, 5, 90))
        gate.observe(SourceMark(1, closed_through, closed_through + 1, False, 5, 90))
        stored = orjson.loads(gate.to_bytes())
        stored["closed_through"] = closed_through
        for key in ("ranked_through", "first_closed", "shares", "dropping"):
            del stored[key]  # what a worker before ranking stored
        return CloseGate.from_bytes(orjson.dumps(stored))

    targets: list[Target] = []
    ahead, behind = Target(0, targets, legacy(95)), Target(1, targets, legacy(94))
    targets += [ahead, behind]
    marks = [SourceMark(0, 97, 98, False, 9, 90), SourceMark(1, 97, 98, False, 9, 90)]
    ahead.inbox += marks
    behind.inbox += marks
    run(targets)
    assert behind.ranked == [95, 96, 97]  # 95 with the stand-in of the target that closed it before
    assert ahead.ranked == [96, 97]


def test_a_share_of_a_ranked_day_or_held_already_is_skipped() -> None:
    gate = CloseGate(expected_sources=1)
    share = DayShare(0, 7, 0, 1, {}, {})
    gate.observe(SourceMark(0, 7, 8, False, 1, 7))
    assert gate.next_step(1) == ("close", 7)
    gate.closed(7)
    assert gate.receive(share) is Receipt.STORE and gate.receive(share) is Receipt.SKIP
    assert gate.next_step(1) == ("rank", 7)
    gate.ranked(7)
    assert gate.receive(share) is Receipt.SKIP and gate.dropping == [(7, 0, 0)]
    assert gate.receive(stand_in(0, 3)) is Receipt.SKIP  # a stand-in is never answered
    assert gate.receive(DayShare(0, 3, 0, 1, {}, {})) is Receipt.ANSWER
    again = CloseGate.from_bytes(gate.to_bytes())
    assert (again.first_closed, again.ranked_through, again.dropping) == (7, 7, [(7, 0, 0)])


def test_three_targets_starting_on_three_days_rank_everything_and_hold_nothing() -> None:
    # source 2 idle before its first event; sources 0 and 1 start on day 100; source 2 then places day 98
    idle = SourceMark(2, None, None, True, -1, None)
    early = [SourceMark(0, 100, 101, False, 10, 100), SourceMark(1, 100, 101, False, 10, 100), idle]
    woke = SourceMark(2, 97, 98, False, 0, 98)
    later = [SourceMark(s, 102, 103, False, 20, None) for s in range(3)]
    targets: list[Target] = []
    a, b, c = (Target(n, targets, sources=3) for n in range(3))
    targets += [a, b, c]
    a.inbox += early  # a starts on day 100, b on day 99 (it saw the wake-up between), c on day 98
    run(targets)
    b.inbox += [*early[:2], woke, idle]
    b.gate.observe(SourceMark(2, 98, 99, False, 1, 99))  # b: source 2 first reported a day-99 event
    c.inbox += [woke, *early]
    for target in targets:
        target.inbox += later
    run(targets)
    assert a.ranked == [100, 101, 102]
    assert b.ranked[-3:] == [100, 101, 102] and c.ranked[-3:] == [100, 101, 102]
    assert c.ranked[0] < b.ranked[0] <= 100  # each ranked its early days with the others' stand-ins
    assert all(not t.gate.shares.received for t in targets)
