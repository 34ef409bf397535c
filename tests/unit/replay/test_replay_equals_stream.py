"""Replay = stream, as a law: the records do not depend on how the partitions' events interleave.

A Kafka consumer group guarantees only each partition's own order; a worker may read partition 3 an hour
ahead of partition 5. Replay reads one interleaving (file order), so its records equal the stream's only
if every order-preserving merge of the per-partition sequences gives the same bytes.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import TIMELINE, Line, Replayed, World, score_lines


def _started(world: World, partitions: list[list[Line]]) -> list[int]:
    """Per partition, how many leading lines it takes to reach its first valid event (0 if empty)."""
    starts = []
    for lines in partitions:
        first_valid = next((i for i, (number, _) in enumerate(lines) if world.is_valid(number)), None)
        starts.append(0 if first_valid is None else first_valid + 1)
    return starts


@st.composite
def consumer_orders(draw: st.DrawFn, world: World, partitions: list[list[Line]]) -> list[Line]:
    """An order-preserving merge: every partition's first event, then bursts of any size from any
    partition, then what is left of each partition, one partition after another (far behind the rest).

    Every partition starts before any day can close, as in the stream, where a target holds every day
    open until each source partition has reported (`CloseGate(expected_sources=N)`).
    """
    live = [p for p, lines in enumerate(partitions) if lines]
    taken = [0] * len(partitions)
    merged: list[Line] = []

    def take(partition: int, count: int) -> None:
        merged.extend(partitions[partition][taken[partition] : taken[partition] + count])
        taken[partition] = min(len(partitions[partition]), taken[partition] + count)

    starts = _started(world, partitions)
    for partition in draw(st.permutations(live)):
        take(partition, starts[partition])
    for partition, count in draw(
        st.lists(st.tuples(st.sampled_from(live), st.integers(1, 600)), max_size=40)
    ):
        take(partition, count)
    for partition in draw(st.permutations(live)):
        take(partition, len(partitions[partition]))
    return merged


def _random_merge(partitions: list[list[Line]], rng: random.Random) -> list[Line]:
    """Event by event, the next line of a partition chosen at random: the finest interleaving."""
    cursors = [0] * len(partitions)
    live = [p for p, lines in enumerate(partitions) if lines]
    merged: list[Line] = []
    while live:
        partition = rng.choice(live)
        merged.append(partitions[partition][cursors[partition]])
        cursors[partition] += 1
        if cursors[partition] == len(partitions[partition]):
            live.remove(partition)
    return merged


def test_file_order_through_the_scorer_is_what_replay_writes(world: World, replayed: Replayed) -> None:
    direct = score_lines(world.lines())
    assert direct.output == replayed.output
    assert direct.stats == replayed.stats


def test_the_world_exercises_what_interleaving_could_change(world: World, replayed: Replayed) -> None:
    """Guard for the law below: many records, duplicates to recognise, every partition in use."""
    assert replayed.output.count(b"\n") > 500
    assert replayed.stats.duplicates > 20
    assert replayed.stats.rejected > 5
    assert all(world.partitions(TIMELINE.partitions))


#: No shrinking: each example replays the whole log, and a shrunk merge of 4,000 lines reads no better.
@settings(
    max_examples=25,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_merge_of_the_partitions_gives_byte_identical_records(
    world: World, replayed: Replayed, data: st.DataObject
) -> None:
    partitions = world.partitions(TIMELINE.partitions)
    merged = data.draw(consumer_orders(world, partitions))
    assert sorted(merged) == world.lines()  # a merge: every line once
    other = score_lines(merged)
    assert other.output == replayed.output
    assert (other.stats.duplicates, other.stats.late, other.stats.records) == (
        replayed.stats.duplicates,
        replayed.stats.late,
        replayed.stats.records,
    )


@pytest.mark.parametrize("seed", range(3))
def test_an_event_by_event_random_merge_gives_byte_identical_records(
    world: World, replayed: Replayed, seed: int
) -> None:
    merged = _random_merge(world.partitions(TIMELINE.partitions), random.Random(seed))
    assert merged != world.lines()
    assert score_lines(merged).output == replayed.output


def test_a_partition_read_after_the_others_have_finished_gives_the_same_records(
    world: World, replayed: Replayed
) -> None:
    partitions = world.partitions(TIMELINE.partitions)
    one_after_another = [line for lines in partitions for line in lines]
    assert score_lines(one_after_another).output == replayed.output
