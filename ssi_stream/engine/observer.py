"""What the engine reports as it goes: the worker's metrics and replay's statistics implement it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ssi_stream.events.rejection import RejectionCode


class EngineObserver(Protocol):
    """Counters the engine feeds; every method is cheap and never fails the engine."""

    def event_rejected(self, code: RejectionCode, payload: bytes) -> None: ...
    def dead_lettered(self) -> None: ...
    def event_placed(self, event_type: str, *, late: bool, lag_seconds: float) -> None: ...
    def event_misrouted(self) -> None: ...
    def effect_absorbed(self, *, counted: bool, late: bool, origin: int | None = None) -> None: ...
    def share_received(self) -> None: ...
    def quarantined(self, problem: str) -> None: ...
    def day_closed(self, day: int, *, records: int, seconds: float) -> None: ...
    def score_emitted(self, record: Mapping[str, Any]) -> None: ...
    def alert_emitted(self, kind: str) -> None: ...
    def capped(self, cap: str) -> None: ...
    def late_redelivery(self) -> None: ...
    def past_dedup_horizon(self) -> None: ...


class NullObserver:
    """An observer that keeps nothing."""

    def event_rejected(self, code: RejectionCode, payload: bytes) -> None:
        pass

    def dead_lettered(self) -> None:
        pass

    def event_placed(self, event_type: str, *, late: bool, lag_seconds: float) -> None:
        pass

    def event_misrouted(self) -> None:
        pass

    def effect_absorbed(self, *, counted: bool, late: bool, origin: int | None = None) -> None:
        pass

    def share_received(self) -> None:
        pass

    def quarantined(self, problem: str) -> None:
        pass

    def day_closed(self, day: int, *, records: int, seconds: float) -> None:
        pass

    def score_emitted(self, record: Mapping[str, Any]) -> None:
        pass

    def alert_emitted(self, kind: str) -> None:
        pass

    def capped(self, cap: str) -> None:
        pass

    def late_redelivery(self) -> None:
        pass

    def past_dedup_horizon(self) -> None:
        pass
