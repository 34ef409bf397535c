"""Ranks from the day shares equal a brute-force ranking, however members are spread over partitions and
however the shares are split into parts; the share index says exactly when a day is complete."""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.ranking.exchange import (
    MAX_SHARE_BYTES,
    DayBoard,
    DayShare,
    MemberDay,
    ShareConflict,
    ShareIndex,
    day_shares,
)
from ssi_stream.stream.wire import decode_share, encode_share
from ssi_stream.timeline.partitioner import partition_for

INDUSTRIES = ("Banking", "Software", "Retail", None)


def brute_force(score: float, group: list[float]) -> tuple[int, int, float]:
    """(position, population, top_percent) of `score` in `group`, straight from the definition."""
    position = 1 + sum(1 for other in group if other > score)
    return position, len(group), math.ceil(10_000 * position / len(group)) / 100


@st.composite
def populations(draw: st.DrawFn) -> tuple[list[MemberDay], int, int]:
    size = draw(st.integers(1, 60))
    ids = [f"m{i:03d}" for i in range(size)]
    scores = draw(st.lists(st.integers(0, 10_000), min_size=size, max_size=size))  # hundredths
    industries = draw(st.lists(st.sampled_from(INDUSTRIES), min_size=size, max_size=size))
    edges = draw(st.sets(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), max_size=150))
    links: dict[str, set[str]] = {member: set() for member in ids}
    for a, b in edges:
        if a != b:
            links[ids[a]].add(ids[b])
            links[ids[b]].add(ids[a])
    members = [
        MemberDay(member, scores[i] / 100, industries[i], sorted(links[member]))
        for i, member in enumerate(ids)
    ]
    return members, draw(st.integers(1, 6)), draw(st.integers(16, 400))  # a few entries per part


@settings(max_examples=120, deadline=None)
@given(populations())
def test_every_member_s_ranks_equal_a_brute_force_ranking(case: tuple[list[MemberDay], int, int]) -> None:
    members, partitions, max_bytes = case
    day = 20_500
    by_partition: dict[int, list[MemberDay]] = {p: [] for p in range(partitions)}
    for member in members:
        by_partition[partition_for(member.member_id, partitions)].append(member)
    # every partition shares with every target, through the wire encoding, parts in any order
    inbox: dict[int, list[DayShare]] = {target: [] for target in range(partitions)}
    for source, held in by_partition.items():
        for target, parts in day_shares(source, day, held, partitions, max_bytes).items():
            inbox[target] += [decode_share(encode_share(part)) for part in reversed(parts)]
    scores = {m.member_id: m.ssi for m in members}
    for target, shares in inbox.items():
        index, board = ShareIndex(), DayBoard()
        for share in shares:
            assert not index.complete(day, partitions)
            assert index.note(share)
            board.add(share)
        assert index.complete(day, partitions)
        for member in by_partition[target]:
            ranks = board.ranks(member.member_id, member.ssi, member.industry)
            if member.industry is None:
                assert ranks.industry is None
            else:
                group = [m.ssi for m in members if m.industry == member.industry]
                industry = ranks.industry
                assert industry is not None
                assert (industry.position, industry.population, industry.top_percent) == brute_force(
                    member.ssi, group
                )
            if not member.connections:
                assert ranks.network is None
            else:
                group = [member.ssi] + [scores[c] for c in member.connections]
                network = ranks.network
                assert network is not None
                assert (network.position, network.population, network.top_percent) == brute_force(
                    member.ssi, group
                )


def test_ties_share_the_best_position_and_the_best_of_a_thousand_is_in_the_top_tenth_of_a_percent() -> None:
    members = [MemberDay(f"m{i}", 50.0 if i < 3 else i / 100, "Banking", ()) for i in range(1000)]
    board = DayBoard()
    for share in day_shares(0, 1, members, 1)[0]:
        board.add(share)
    tied = {board.ranks(f"m{i}", 50.0, "Banking").industry for i in range(3)}
    assert [(s.position, s.population) for s in tied if s] == [(1, 1000)]
    assert board.ranks("m999", 9.99, "Banking").industry.position == 4  # type: ignore[union-attr]
    assert board.ranks("m3", 0.03, "Banking").industry.position == 1000  # type: ignore[union-attr]
    best = [MemberDay("top", 99.0, "Banking", ()), *members[1:]]  # 1,000 members
    board = DayBoard()
    for share in day_shares(0, 1, best, 1)[0]:
        board.add(share)
    assert board.ranks("top", 99.0, "Banking").industry.top_percent == 0.1  # type: ignore[union-attr]


def test_a_redelivered_part_is_not_counted_twice_and_a_changed_part_count_is_refused() -> None:
    index = ShareIndex()
    share = DayShare(2, 7, 0, 2, {}, {})
    assert index.note(share) and not index.note(share)
    assert not index.complete(7, 3)
    with pytest.raises(ShareConflict, match="parts"):
        index.note(DayShare(2, 7, 1, 3, {}, {}))
    again = ShareIndex.from_json(index.to_json())
    assert again == index
    assert again.forget_through(7) == [(7, 2, 0)] and again.received == {}


_VALID = {"source": 0, "day": 1, "part": 0, "parts": 1, "industries": {}, "network": {}, "closed": True}


@pytest.mark.parametrize(
    "change",
    [
        {"part": 1},
        {"industries": {"x": [[10001, 1]]}},
        {"industries": {"x": [[10, 0]]}},
        {"network": [["m1", 2]]},
        {"network": {"m1": [10_001]}},
        {"network": {"": [5]}},
        {"source": -1},
        {"closed": None},
    ],
)
def test_a_malformed_share_is_refused_with_a_reason(change: dict) -> None:
    assert decode_share(orjson.dumps(_VALID)).closed
    with pytest.raises(ValueError, match="day share"):
        decode_share(orjson.dumps({**_VALID, **change}))
    with pytest.raises(ValueError, match="day share"):
        decode_share(b"[]")


def test_no_part_outgrows_the_record_limit_even_with_the_longest_ids() -> None:
    ids = [f"{i:064d}" for i in range(3_000)]  # 64 characters, the contract's longest
    members = [
        MemberDay(member, (i % 10_001) / 100, f"industry {i % 700:03d} " + "x" * 80, ids[i + 1 : i + 31])
        for i, member in enumerate(ids)
    ]
    parts = day_shares(0, 1, members, 1)[0]
    sizes = [len(encode_share(part)) for part in parts]
    assert len(parts) > 1 and max(sizes) <= MAX_SHARE_BYTES < 1_000_000
    board = DayBoard()
    for part in parts:
        board.add(part)
    assert sum(len(scores) for scores in board.network.values()) == sum(len(m.connections) for m in members)
