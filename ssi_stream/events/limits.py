"""What the decoder accepts: resource and time limits, and the framing rule; configurable, with defaults
sized for real events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ssi_stream.events.framing import SchemaRegistryFraming


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds on what `decode` accepts.

    `max_depth` counts the event object itself as 1: a valid event nests at most 2 deep
    (`completed_sections`), so 8 leaves room for producers' own extra fields. `max_future_skew` is how far
    ahead of the caller's `now` an `occurred_at` may be (clock drift between producers and workers).
    `framing` says what to do with a value framed by a Schema Registry serializer (`events.framing`).
    """

    max_bytes: int = 64 * 1024
    max_depth: int = 8
    max_future_skew: timedelta = timedelta(days=1)
    framing: SchemaRegistryFraming = field(default_factory=SchemaRegistryFraming)

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {self.max_bytes}")
        if self.max_depth < 2:
            raise ValueError(f"max_depth must be >= 2 (a valid event nests 2 deep), got {self.max_depth}")
        if self.max_future_skew < timedelta(0):
            raise ValueError(f"max_future_skew must be >= 0, got {self.max_future_skew}")


DEFAULT_LIMITS = DecodeLimits()
