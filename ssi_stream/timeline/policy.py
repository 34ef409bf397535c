"""The knobs that decide days, lateness and deduplication; stream and replay must use the same values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ssi_stream.ranking.connections import LinkLimits
from ssi_stream.trend.alerts import AlertPolicy


@dataclass(frozen=True, slots=True)
class DedupPolicy:
    """How long each member remembers the effect ids it absorbed (docs/events.md states the guarantee).

    A redelivered effect is recognised when it is counted less than `horizon_days` days after its own
    day; ids are forgotten by closed day, never by arrival order, so replay and stream decide alike.
    `max_entries` is a safety cap per member against floods.
    """

    horizon_days: int = 3
    max_entries: int = 4096

    def __post_init__(self) -> None:
        if self.horizon_days < 1 or self.max_entries < 1:
            raise ValueError(f"dedup horizon must be ≥ 1 day and max_entries ≥ 1, got {self}")

    @classmethod
    def from_seconds(cls, horizon_seconds: int) -> DedupPolicy:
        """The policy for a horizon given in seconds (rounded up to whole days)."""
        return cls(horizon_days=max(1, -(-horizon_seconds // 86_400)))


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
