"""What to simulate: population size, period, seed, persona mix and delivery faults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from ssi_stream.simulation.personas import DEFAULT_MIX, PERSONAS


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    """Parameters of one simulated run; equal configs produce byte-identical output."""

    members: int = 500
    days: int = 28
    #: First simulated day (UTC midnight).
    start: date = date(2026, 3, 2)
    seed: int = 0
    #: Persona weights by persona name (normalised; missing personas get weight 0).
    mix: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MIX)
    #: Multiplies every per-active-day action rate (not login probabilities).
    events_per_member_day_scale: float = 1.0
    #: Events may be emitted up to this many seconds out of `occurred_at` order.
    jitter_seconds: float = 0.0
    #: Share of valid events re-emitted later with the same `event_id`.
    duplicate_rate: float = 0.0
    #: Broken payloads (raw bytes) emitted per valid event.
    invalid_rate: float = 0.0
    #: Share of members whose first event is preceded by a full `profile_updated`.
    profile_on_first_appearance: float = 0.9
    #: Cap on each member's connections (and follows, groups), bounding memory for large populations.
    max_connections: int = 1500
    #: Also emit CRM outcome events (meetings, calls, opportunities, deals) that follow from behaviour;
    #: the activity events are the same either way (`simulation.outcomes`).
    outcomes: bool = False

    def __post_init__(self) -> None:
        if not 2 <= self.members <= 100_000_000:
            raise ValueError(f"members must be between 2 and 100,000,000, got {self.members}")
        if self.days < 1:
            raise ValueError(f"days must be at least 1, got {self.days}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be in [0, 2**63), got {self.seed}")
        unknown = sorted(set(self.mix) - set(PERSONAS))
        if unknown:
            raise ValueError(f"unknown personas in mix: {unknown}; known: {sorted(PERSONAS)}")
        if any(w < 0 for w in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise ValueError("mix weights must be non-negative with a positive sum")
        for name in ("duplicate_rate", "invalid_rate", "profile_on_first_appearance"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.jitter_seconds < 0 or self.events_per_member_day_scale < 0:
            raise ValueError("jitter_seconds and events_per_member_day_scale must be >= 0")
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {self.max_connections}")
        object.__setattr__(self, "mix", MappingProxyType(dict(self.mix)))
