"""RecentIds recognises redeliveries within its window, stays bounded, and serialises compactly."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.ledger.recent_ids import RecentIds, id_hash

DAY = 86_400
T0 = 1_770_000_000  # 2026-02-02


def test_a_redelivery_is_a_duplicate_and_a_new_id_is_not() -> None:
    recent = RecentIds()
    assert recent.seen_or_add("e-1", T0) is False
    assert recent.seen_or_add("e-2", T0 + 5) is False
    assert recent.seen_or_add("e-1", T0) is True
    assert recent.seen_or_add("e-1", T0 + 999) is True  # the id decides, not the time
    assert len(recent) == 2 and "e-2" in recent and "e-3" not in recent


def test_forget_before_drops_exactly_the_older_ids() -> None:
    recent = RecentIds()
    recent.seen_or_add("old", T0)
    recent.seen_or_add("edge", T0 + DAY)
    recent.seen_or_add("new", T0 + 2 * DAY)
    recent.forget_before(T0 + DAY)
    assert "old" not in recent and "edge" in recent and "new" in recent
    assert recent.seen_or_add("old", T0) is False  # forgotten: counted again, and held again


def test_holding_does_not_depend_on_arrival_order() -> None:
    """Replay and the stream interleave partitions differently; the set must not care."""
    ids = [(f"e-{index}", T0 + (index * 7919) % (3 * DAY)) for index in range(300)]
    forward, backward = RecentIds(), RecentIds()
    for key, at in ids:
        forward.seen_or_add(key, at)
    for key, at in reversed(ids):
        backward.seen_or_add(key, at)
    forward.forget_before(T0 + DAY)
    backward.forget_before(T0 + DAY)
    assert forward == backward


def test_a_late_event_is_held_in_time_order() -> None:
    recent = RecentIds()
    recent.seen_or_add("b", T0 + 3 * DAY)
    recent.seen_or_add("a", T0 + DAY)  # arrives late
    assert recent.seen_or_add("a", T0 + DAY) is True
    assert recent.newest == T0 + 3 * DAY


def test_the_cap_drops_the_oldest_ids() -> None:
    recent = RecentIds(max_entries=3)
    for index in range(5):
        recent.seen_or_add(f"e-{index}", T0 + index)
    assert len(recent) == 3
    assert [f"e-{i}" in recent for i in range(5)] == [False, False, True, True, True]
    assert recent.seen_or_add("older-than-all", T0) is False and "older-than-all" not in recent


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.tuples(st.integers(0, 40), st.integers(0, 30 * DAY)), st.integers(0, 30 * DAY)),
        max_size=600,
    )
)
def test_memory_is_bounded_and_every_held_id_is_recognised(steps: list[tuple[int, int] | int]) -> None:
    """A model check: deliveries (id, time) and forgets (time); size never exceeds the cap."""
    recent = RecentIds(max_entries=16)
    held: dict[str, int] = {}  # a model: id -> event time, with the same rules
    for step in steps:
        if isinstance(step, int):
            recent.forget_before(T0 + step)
            held = {k: t for k, t in held.items() if t >= T0 + step}
            continue
        number, offset = step
        key, at = f"e-{number}", T0 + offset
        duplicate = recent.seen_or_add(key, at)
        assert duplicate == (key in held), (key, at)
        if not duplicate and (len(held) < 16 or at >= min(held.values())):
            held[key] = at
            kept = sorted(held.items(), key=lambda item: item[1])  # stable: equal times keep arrival order
            held = dict(kept[-16:])
        assert len(recent) == len(held) <= 16
        assert len(recent.to_bytes()) == 5 + 12 * len(recent)


def test_bytes_round_trip_and_are_about_twelve_bytes_per_id() -> None:
    recent = RecentIds(max_entries=256)
    rng = random.Random(7)
    for index in range(300):
        recent.seen_or_add(f"evt-{index}", T0 + rng.randrange(DAY))
    data = recent.to_bytes()
    assert len(recent) == 256 and len(data) == 5 + 12 * 256
    again = RecentIds.from_bytes(data, max_entries=256)
    assert again == recent and again.to_bytes() == data
    assert all(again.seen_or_add(f"evt-{i}", T0) == recent.seen_or_add(f"evt-{i}", T0) for i in range(300))


def test_the_same_calls_give_the_same_bytes() -> None:
    def run() -> bytes:
        recent = RecentIds(max_entries=50)
        for index in range(200):
            recent.seen_or_add(f"id-{index * 7919 % 311}", T0 + index * 997 % 5000)
        return recent.to_bytes()

    assert run() == run()


def test_hashes_are_stable_across_processes() -> None:
    assert id_hash("evt-7f3a-0001").hex() == "dc97132165bca9a2"  # blake2b(digest_size=8); never hash()


def test_reading_with_a_smaller_cap_drops_the_oldest() -> None:
    recent = RecentIds()
    for index in range(10):
        recent.seen_or_add(f"e-{index}", T0 + index)
    smaller = RecentIds.from_bytes(recent.to_bytes(), max_entries=4)
    assert len(smaller) == 4 and "e-9" in smaller and "e-5" not in smaller


def test_corrupt_bytes_raise_a_clear_error() -> None:
    with pytest.raises(ValueError, match="header"):
        RecentIds.from_bytes(b"\x01")
    with pytest.raises(ValueError, match="expected version 1"):
        RecentIds.from_bytes(RecentIds().to_bytes() + b"x")
    with pytest.raises(ValueError, match="outside"):
        RecentIds().seen_or_add("e", -1)


def test_a_hash_found_across_slot_boundaries_is_not_a_match() -> None:
    recent = RecentIds()
    recent.seen_or_add("a", T0)
    recent.seen_or_add("b", T0)
    straddling = (id_hash("a") + id_hash("b"))[4:12]
    assert recent._find(straddling) == -1  # the byte search only accepts 8-byte aligned matches
