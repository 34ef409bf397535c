"""Standing from histograms equals a brute-force ranking, merges exactly, and states its tie rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssi_stream.ranking.exchange import DayBoard, MemberDay, day_shares
from ssi_stream.ranking.standing import ScoreHistogram, network_standing, score_bin

scores = st.integers(0, 10_000).map(lambda cents: cents / 100)


def brute_force(score: float, population: list[float]) -> tuple[int, int, float]:
    position = 1 + sum(1 for other in population if round(other * 100) > round(score * 100))
    return position, len(population), math.ceil(10_000 * position / len(population)) / 100


@given(st.lists(scores, min_size=1, max_size=300), st.data())
def test_standing_equals_a_brute_force_ranking(population: list[float], data: st.DataObject) -> None:
    histogram = ScoreHistogram()
    for score in population:
        histogram.add(score)
    member = data.draw(st.sampled_from(population))
    standing = histogram.standing(member)
    assert (standing.position, standing.population, standing.top_percent) == brute_force(member, population)


@given(st.lists(st.lists(scores, max_size=80), min_size=1, max_size=6))
def test_histograms_from_partitions_merge_exactly(parts: list[list[float]]) -> None:
    merged, whole = ScoreHistogram(), ScoreHistogram()
    for part in parts:
        piece = ScoreHistogram()
        for score in part:
            piece.add(score)
            whole.add(score)
        merged.merge(ScoreHistogram.from_pairs(piece.to_pairs()))  # as it crosses the wire
    assert merged.counts == whole.counts


def test_ties_share_the_best_position_and_the_best_of_a_thousand_is_top_a_tenth_percent() -> None:
    histogram = ScoreHistogram()
    for score in [90.0, 80.5, 80.5, 10.0] + [5.0] * 996:
        histogram.add(score)
    assert histogram.standing(90.0).top_percent == 0.1
    tied = histogram.standing(80.5)
    assert (tied.position, tied.population) == (2, 1000)
    assert histogram.standing(5.0).position == 5


def test_members_without_an_industry_are_not_ranked_and_a_network_of_zero_has_no_standing() -> None:
    board = DayBoard()
    for share in day_shares(0, 1, [MemberDay("a", 50.0, "Banking", ()), MemberDay("b", 60.0, None, ())], 1)[
        0
    ]:
        board.add(share)
    assert list(board.industries) == ["Banking"] and board.ranks("b", 60.0, None).industry is None
    assert network_standing(score_bin(40.0), []) is None
    standing = network_standing(score_bin(40.0), [score_bin(50.0), score_bin(30.0)])
    assert standing is not None and (standing.position, standing.population) == (2, 3)


def test_a_score_not_counted_is_refused() -> None:
    histogram = ScoreHistogram()
    histogram.add(10.0)
    with pytest.raises(ValueError, match="not in this histogram"):
        histogram.standing(11.0)
    with pytest.raises(ValueError, match="out of range"):
        ScoreHistogram.from_pairs([[10_001, 1]])
