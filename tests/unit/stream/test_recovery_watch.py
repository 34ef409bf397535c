"""The recovery watch: a changelog partition a table recovery waits for in vain is sought again."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from ssi_stream.stream.recovery_watch import RecoveryWatch


@dataclass
class FakeRecovery:
    """Faust's Recovery as the watch reads it: offsets applied and highwaters, by partition."""

    in_recovery: bool = True
    active_offsets: Counter = field(default_factory=Counter)
    highwaters: dict = field(default_factory=dict)

    def active_remaining(self) -> Counter:
        # Faust reads the offsets from a Counter: 0 for a partition it holds none for
        return Counter({tp: hw - self.active_offsets.get(tp, 0) for tp, hw in self.highwaters.items()})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _watch(
    recovery: FakeRecovery, clock: Clock, seeks: list, reseeked: list, generation: list[int] | None = None
) -> RecoveryWatch:
    async def seek(offsets: dict) -> None:
        seeks.append(offsets)

    generation = generation or [1]
    return RecoveryWatch(
        lambda: recovery,
        seek,
        lambda: generation[0],
        stall_seconds=15,
        on_reseek=reseeked.append,
        clock=clock,
    )


def test_a_partition_without_progress_for_the_stall_time_is_sought_to_the_next_offset_needed() -> None:
    recovery = FakeRecovery(active_offsets=Counter({"a": -1, "b": 4}), highwaters={"a": 1, "b": 9})
    clock, seeks, reseeked = Clock(), [], []
    watch = _watch(recovery, clock, seeks, reseeked)
    asyncio.run(watch.check())  # first look: noted, nothing due
    clock.now += 14.9
    recovery.active_offsets["b"] = 6  # b moves on
    asyncio.run(watch.check())
    assert seeks == []
    clock.now += 0.2  # a: 15.1 s without progress; b moved 0.2 s ago
    asyncio.run(watch.check())
    assert seeks == [{"a": 0}]  # -1 (nothing applied): from the start
    assert reseeked == [1]
    clock.now += 10  # the seek is given the stall time again
    asyncio.run(watch.check())
    assert seeks == [{"a": 0}]
    clock.now += 6  # b stuck at 6 for 16.2 s, a for 16 s since its seek
    asyncio.run(watch.check())
    assert seeks[-1] == {"a": 0, "b": 7}
    assert reseeked == [1, 2]


def test_nothing_is_sought_outside_a_recovery_or_once_a_partition_is_read_to_its_end() -> None:
    recovery = FakeRecovery(active_offsets=Counter({"a": 1, "b": 2}), highwaters={"a": 1, "b": 5})
    clock, seeks, reseeked = Clock(), [], []
    watch = _watch(recovery, clock, seeks, reseeked)
    asyncio.run(watch.check())
    recovery.in_recovery = False
    clock.now += 60
    asyncio.run(watch.check())  # b would be due, but the recovery ended: and what was seen is forgotten
    recovery.in_recovery = True
    asyncio.run(watch.check())  # a new recovery: b is seen for the first time
    assert seeks == []
    clock.now += 20
    asyncio.run(watch.check())
    assert seeks == [{"b": 3}]  # a is at its highwater: never sought


def test_a_failed_seek_is_logged_and_not_counted() -> None:
    recovery = FakeRecovery(active_offsets=Counter({"a": 3}), highwaters={"a": 8})
    clock, reseeked, attempts = Clock(), [], []

    async def seek(offsets: dict) -> None:
        attempts.append(offsets)
        raise RuntimeError("not assigned any more")

    watch = RecoveryWatch(
        lambda: recovery, seek, lambda: 1, stall_seconds=15, on_reseek=reseeked.append, clock=clock
    )
    asyncio.run(watch.check())
    clock.now += 15
    asyncio.run(watch.check())  # does not raise: the timer keeps running
    assert attempts == [{"a": 4}]
    assert reseeked == []


def test_a_new_generation_starts_the_count_again_and_a_partition_without_an_offset_is_left_alone() -> None:
    recovery = FakeRecovery(active_offsets={"a": 2}, highwaters={"a": 9, "b": 4})  # b: no offset yet
    clock, seeks, reseeked, generation = Clock(), [], [], [1]
    watch = _watch(recovery, clock, seeks, reseeked, generation)
    asyncio.run(watch.check())
    clock.now += 10
    generation[0] = 2  # a rebalance: the recovery starts again, the 10 s count for nothing
    asyncio.run(watch.check())
    clock.now += 10
    asyncio.run(watch.check())
    assert seeks == []
    clock.now += 5
    asyncio.run(watch.check())
    assert seeks == [{"a": 3}]
