"""Simulated time: milliseconds since `start` midnight UTC, daily rhythm, and RFC 3339 rendering."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import accumulate

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

#: Relative login activity by local hour: quiet nights, a morning peak, lunch, an evening bump.
HOUR_WEIGHTS: tuple[float, ...] = (
    0.15, 0.08, 0.05, 0.04, 0.05, 0.15, 0.5, 1.2, 2.2, 2.6, 2.3, 2.0,
    2.0, 2.2, 2.0, 1.8, 1.6, 1.5, 1.3, 1.4, 1.5, 1.3, 0.8, 0.4,
)  # fmt: skip
HOUR_CUM: tuple[float, ...] = tuple(accumulate(HOUR_WEIGHTS))


class Timeline:
    """Day calendar of a run and fast rendering of simulated instants as RFC 3339 strings."""

    __slots__ = ("_minutes", "_prefixes", "_weekdays", "days", "start")

    def __init__(self, start: date, days: int) -> None:
        self.start = start
        self.days = days
        dates = [start + timedelta(days=d) for d in range(-1, days + 2)]
        self._prefixes = [f"{d.isoformat()}T" for d in dates]
        self._weekdays = [d.weekday() for d in dates]
        self._minutes: dict[int, tuple[str, str]] = {}  # rendered minutes, by (minute, offset)

    def is_weekend(self, day: int) -> bool:
        """Whether day index `day` (0 = `start`) is a Saturday or Sunday."""
        return self._weekdays[day + 1] >= 5

    def timestamp(self, t: int, offset_minutes: int = 0) -> str:
        """Render `t` (ms since start) as RFC 3339 in the given UTC offset ("Z" when 0)."""
        minute, ms = divmod(t, MINUTE_MS)
        key = minute << 12 | (offset_minutes + 2048)
        cached = self._minutes.get(key)
        if cached is None:
            if len(self._minutes) > 100_000:
                self._minutes.clear()
            cached = self._minutes[key] = self._minute_parts(minute, offset_minutes)
        head, suffix = cached
        s, ms = divmod(ms, 1000)
        return f"{head}{s:02d}.{ms:03d}{suffix}"

    def _minute_parts(self, minute: int, offset_minutes: int) -> tuple[str, str]:
        """("YYYY-MM-DDTHH:MM:", offset suffix) of a minute since start, shown in the given offset."""
        day, m = divmod(minute + offset_minutes, 24 * 60)
        h, m = divmod(m, 60)
        if offset_minutes:
            oh, om = divmod(abs(offset_minutes), 60)
            suffix = f"{'+' if offset_minutes > 0 else '-'}{oh:02d}:{om:02d}"
        else:
            suffix = "Z"
        return f"{self._prefixes[day + 1]}{h:02d}:{m:02d}:", suffix
