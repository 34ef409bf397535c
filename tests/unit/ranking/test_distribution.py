"""An industry's distribution document agrees with its definitions, computed by brute force."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.ranking.distribution import PERCENTILES, TOP_PERCENTS, distribution_document
from ssi_stream.ranking.standing import ScoreHistogram


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=300))
def test_the_document_follows_its_definitions(hundredths: list[int]) -> None:
    scores = [h / 100 for h in hundredths]
    histogram = ScoreHistogram()
    for score in scores:
        histogram.add(score)
    document = distribution_document("Banking", "2026-03-02", histogram)
    population = len(scores)
    assert document["population"] == population
    assert document["min"] == min(scores) and document["max"] == max(scores)
    assert math.isclose(document["mean"], sum(scores) / population, abs_tol=0.006)
    for p in PERCENTILES:
        low = document["percentiles"][f"p{p}"]
        assert sum(s <= low for s in scores) >= p * population / 100  # at least p% at or below
        assert sum(s < low for s in scores) < p * population / 100  # and it is the lowest such score
    for k in TOP_PERCENTS:
        qualifying = [s for s in scores if 100 * (1 + sum(o > s for o in scores)) <= k * population]
        assert document["top_percent_thresholds"][str(k)] == (min(qualifying) if qualifying else None)
    buckets = document["buckets"]
    assert len(buckets) == 20 and sum(b["count"] for b in buckets) == population
    assert buckets[19]["count"] == sum(s >= 95 for s in scores)
    assert buckets[0]["count"] == sum(s < 5 for s in scores)
