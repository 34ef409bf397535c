"""How much each member did themselves: own activity events per UTC day, from the event log.

The report's measure of volume: the events a member published as the actor (every type but the
outcomes), whatever their quality, in the `VOLUME_DAYS` up to a day. Lines that are not events (broken
payloads, a wrong timestamp) are skipped; a redelivered event counts again, which at a real topic's
duplicate rates moves no figure.
"""

from __future__ import annotations

from array import array
from datetime import UTC, datetime

import numpy as np

from ssi_stream.events.types import EVENT_TYPES, OUTCOME_TYPES
from ssi_stream.timeline.days import SECONDS_PER_DAY

_ACTIVITY_TYPES = frozenset(EVENT_TYPES) - frozenset(OUTCOME_TYPES)


class ActivityCounter:
    """Feed it event dicts; it answers how many own activity events members had in a span of days."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._keys = array("q")  # member << 32 | day, one per event
        self._utc_days: dict[str, int] = {}  # "YYYY-MM-DD" -> day, for timestamps in UTC ("...Z")
        self._sorted: np.ndarray | None = None

    def add(self, event: object) -> None:
        """One parsed line of the log (anything: what is not an activity event is skipped)."""
        if type(event) is not dict or event.get("type") not in _ACTIVITY_TYPES:
            return
        member_id, occurred_at = event.get("member_id"), event.get("occurred_at")
        if type(member_id) is not str or type(occurred_at) is not str:
            return
        utc = occurred_at.endswith("Z") and occurred_at[10:11] == "T"  # its day is its first 10 characters
        day = self._utc_days.get(occurred_at[:10]) if utc else None
        if day is None:
            day = _utc_day(occurred_at)
            if day is None:
                return
            if utc:
                self._utc_days[occurred_at[:10]] = day
        member = self._ids.get(member_id)
        if member is None:
            member = self._ids[member_id] = len(self._ids)
        self._keys.append(member << 32 | day)
        self._sorted = None

    @property
    def events(self) -> int:
        return len(self._keys)

    def counts(self, member_ids: list[str] | tuple[str, ...], first_day: int, last_day: int) -> np.ndarray:
        """Each member's own activity events on days `first_day`..`last_day` (0 for one never seen)."""
        if self._sorted is None:
            self._sorted = np.sort(np.frombuffer(self._keys, np.int64))
        index = np.array([self._ids.get(member_id, -1) for member_id in member_ids], np.int64)
        known = index >= 0
        low = np.searchsorted(self._sorted, index << 32 | first_day, side="left")
        high = np.searchsorted(self._sorted, index << 32 | last_day, side="right")
        return np.where(known, high - low, 0)


def _utc_day(occurred_at: str) -> int | None:
    """The UTC day of a timestamp with an offset; None for one that is not."""
    try:
        moment = datetime.fromisoformat(occurred_at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.astimezone(UTC).timestamp()) // SECONDS_PER_DAY
