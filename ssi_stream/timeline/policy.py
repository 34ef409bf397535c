"""The knobs that decide days, lateness and deduplication; stream and replay must use the same values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ssi_stream.ranking.connections import LinkLimits
from ssi_stream.trend.alerts import AlertPolicy


@dataclass(frozen=True, slots=True)
class DedupPolicy:
    """How long redelivered effects are recognised (docs/events.md states the guarantee).

    A redelivered effect is recognised by its member's exact ids when it is counted less than
    `horizon_days` days after its own day; ids are forgotten by closed day, never by arrival order, so
    replay and stream decide alike. `max_entries` is a safety cap per member against floods. Counted up
    to `filter_days` after its own day, it is recognised by its partition's redelivery filter
    (`ledger.redelivery_filter`, decided when the day it counts in closes); later, it counts again.
    """

    horizon_days: int = 3
    max_entries: int = 4096
    filter_days: int = 30

    def __post_init__(self) -> None:
        if self.horizon_days < 1 or self.max_entries < 1 or self.filter_days < 0:
            raise ValueError(f"dedup horizon must be ≥ 1 day, max_entries ≥ 1, filter_days ≥ 0, got {self}")

    @property
    def filtered(self) -> bool:
        """Whether the redelivery filter is on (its horizon is past the exact ids')."""
        return self.filter_days > self.horizon_days

    def check_for(self, age: int) -> str | None:
        """How an effect counted `age` days after its own day is checked: "exact", "filter" or None."""
        if age < self.horizon_days:
            return "exact"
        if age < self.filter_days:
            return "filter"
        return None

    @classmethod
    def from_seconds(cls, horizon_seconds: int, filter_seconds: int = 30 * 86_400) -> DedupPolicy:
        """The policy for horizons given in seconds (rounded up to whole days)."""
        return cls(
            horizon_days=max(1, -(-horizon_seconds // 86_400)), filter_days=-(-filter_seconds // 86_400)
        )


@dataclass(frozen=True, slots=True)
class TimelineSettings:
    """Partitions of the events topic (replay simulates them), grace before a day closes, dedup, alerts,
    which records to emit and the connection caps."""

    partitions: int = 8
    grace_seconds: int = 3600
    dedup: DedupPolicy = field(default_factory=DedupPolicy)
    alerts: AlertPolicy = field(default_factory=AlertPolicy)
    #: Which score records to emit: "changes" (the default emission rule) or "daily" (every member, every
    #: day); see `ledger.member_ledger.should_emit`.
    emit: Literal["changes", "daily"] = "changes"
    #: The connection caps (`ranking.connections`), decided in event time.
    links: LinkLimits = field(default_factory=LinkLimits)
