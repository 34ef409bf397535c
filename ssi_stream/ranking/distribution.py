"""An industry's SSI distribution on a ranked day: the document `GET /industries/{name}/distribution` serves.

Computed from the day's exact histogram (`standing.ScoreHistogram`), so every partition that ranked the
day holds the same document. Definitions:

- `percentiles.pNN`: the lowest SSI that at least NN% of the industry scored at or below (nearest rank);
- `top_percent_thresholds.K`: the lowest SSI scored that day whose standing is "top K%" or better (null
  when none is: a small industry);
- `buckets`: members per 5-point band, [from, to) and the last one [95, 100].
"""

from __future__ import annotations

import math
from typing import Any

from ssi_stream.ranking.standing import BINS_PER_POINT, ScoreHistogram

PERCENTILES = (10, 25, 50, 75, 90, 99)
TOP_PERCENTS = (1, 3, 10, 25)
BUCKET_POINTS = 5


def distribution_document(industry: str, date: str, histogram: ScoreHistogram) -> dict[str, Any]:
    """The distribution of one industry's SSI on `date` (the histogram must not be empty)."""
    bins = sorted(histogram.counts)
    counts = [histogram.counts[b] for b in bins]
    population = sum(counts)
    if population == 0:
        raise ValueError(f"industry {industry!r} has no scores on {date}")
    total = sum(b * c for b, c in zip(bins, counts, strict=True))
    cumulative, running = [], 0
    for count in counts:
        running += count
        cumulative.append(running)  # members at or below each bin
    percentiles = {}
    for p in PERCENTILES:
        needed = math.ceil(p * population / 100)
        percentiles[f"p{p}"] = _points(next(b for b, c in zip(bins, cumulative, strict=True) if c >= needed))
    thresholds: dict[str, float | None] = {}
    for k in TOP_PERCENTS:
        # members strictly above bin i = population - cumulative[i]; top_percent = 100 * (above + 1) / pop
        eligible = [
            b for b, c in zip(bins, cumulative, strict=True) if 100 * (population - c + 1) <= k * population
        ]
        thresholds[str(k)] = _points(eligible[0]) if eligible else None
    buckets = [0] * (100 // BUCKET_POINTS)
    for b, count in zip(bins, counts, strict=True):
        buckets[min(len(buckets) - 1, b // (BUCKET_POINTS * BINS_PER_POINT))] += count
    return {
        "industry": industry,
        "date": date,
        "population": population,
        "mean": round(total / population / BINS_PER_POINT, 2),
        "min": _points(bins[0]),
        "max": _points(bins[-1]),
        "percentiles": percentiles,
        "top_percent_thresholds": thresholds,
        "buckets": [
            {"from": i * BUCKET_POINTS, "to": (i + 1) * BUCKET_POINTS, "count": count}
            for i, count in enumerate(buckets)
        ],
    }


def _points(bin_: int) -> float:
    return bin_ / BINS_PER_POINT
