"""Exact standing among a population of scores, from fixed-resolution histograms.

Scores carry two decimals, so a histogram with one bin per 0.01 point (10,001 bins from 0 to 100) is
exact, and histograms from different partitions or workers merge by adding counts. Semantics (also in
`schemas/v2/records/score.json` and docs/ranking.md):

- `position` is 1 + the number of members with a strictly higher score: ties share the best position
  ("1224" ranking), so two members with the same score always have the same standing;
- `population` counts every member scored that day in the group, the member included;
- `top_percent` is 100 × position / population, rounded up to two decimals: "top 3%" means at most 3% of
  the group scored at least as high. The best member of 1,000 is in the top 0.1%.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping

import msgspec

BINS_PER_POINT = 100
MAX_BIN = 100 * BINS_PER_POINT


def score_bin(score: float) -> int:
    """The bin of a two-decimal score (0.00–100.00)."""
    return min(MAX_BIN, max(0, round(score * BINS_PER_POINT)))


class Standing(msgspec.Struct, frozen=True, gc=False):
    """A member's place in a group on one day (a msgspec Struct: two per ranked member-day, built fast)."""

    position: int
    population: int
    top_percent: float

    @classmethod
    def of(cls, position: int, population: int) -> Standing:
        """The standing of `position` among `population` (top_percent rounded up to two decimals)."""
        return cls(position, population, math.ceil(10_000 * position / population) / 100)

    def as_record(self) -> dict[str, float | int]:
        return {"top_percent": self.top_percent, "position": self.position, "population": self.population}


class ScoreHistogram:
    """How many members scored each 0.01-point bin (sparse)."""

    __slots__ = ("_sorted", "counts")

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts or {})
        self._sorted: tuple[list[int], list[int]] | None = None

    def add(self, score: float, count: int = 1) -> None:
        bin_ = score_bin(score)
        self.counts[bin_] = self.counts.get(bin_, 0) + count
        self._sorted = None

    def merge(self, other: ScoreHistogram) -> None:
        for bin_, count in other.counts.items():
            self.counts[bin_] = self.counts.get(bin_, 0) + count
        self._sorted = None

    @property
    def population(self) -> int:
        return sum(self.counts.values())

    def standing(self, score: float) -> Standing:
        """Standing of `score`, which must be one of the scores counted."""
        bins, higher_than = self._prepared()
        bin_ = score_bin(score)
        index = bisect_right(bins, bin_)  # bins ascending: everything from `index` on is strictly higher
        population, above = higher_than[0], higher_than[index]
        if self.counts.get(bin_, 0) == 0:
            raise ValueError(f"score {score} is not in this histogram")
        return Standing.of(above + 1, population)

    def to_pairs(self) -> list[list[int]]:
        """Compact, ordered form for the wire: [[bin, count], ...]."""
        return [[bin_, self.counts[bin_]] for bin_ in sorted(self.counts)]

    @classmethod
    def from_pairs(cls, pairs: Iterable[Iterable[int]]) -> ScoreHistogram:
        histogram = cls()
        for bin_, count in pairs:
            if not (0 <= bin_ <= MAX_BIN and count > 0):
                raise ValueError(f"histogram pair out of range: [{bin_}, {count}]")
            histogram.counts[bin_] = histogram.counts.get(bin_, 0) + count
        return histogram

    def _prepared(self) -> tuple[list[int], list[int]]:
        """Bins ascending, and for each index the number of members in bins from there on."""
        if self._sorted is None:
            bins = sorted(self.counts)
            suffix = [0] * (len(bins) + 1)
            for index in range(len(bins) - 1, -1, -1):
                suffix[index] = suffix[index + 1] + self.counts[bins[index]]
            self._sorted = (bins, suffix)
        return self._sorted


def network_standing(score_bin_: int, connection_bins: list[int]) -> Standing | None:
    """Standing among the member and their connections scored that day (all as `score_bin`s); None
    when no connection was scored that day (a network of zero included)."""
    if not connection_bins:
        return None
    position = 1 + sum(1 for other in connection_bins if other > score_bin_)
    return Standing.of(position, 1 + len(connection_bins))
