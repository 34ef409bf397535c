"""The knobs that decide days, lateness and deduplication; stream and replay must use the same values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DedupPolicy:
    """How long and how many effect ids each member remembers (see docs/events.md for the guarantee)."""

    horizon_seconds: int = 7 * 86_400
    max_entries: int = 256


@dataclass(frozen=True, slots=True)
class TimelineSettings:
    """Partitions of the events topic (replay simulates them), grace before a day closes, dedup."""

    partitions: int = 8
    grace_seconds: int = 3600
    dedup: DedupPolicy = field(default_factory=DedupPolicy)
