"""The last 26 weeks of a member's daily SSI, two bytes a day: the data behind the weekly trend chart."""

from __future__ import annotations

import sys
from array import array

HISTORY_DAYS = 26 * 7
_EMPTY = 0xFFFF  # no score that day
_SWAP = sys.byteorder == "big"


class ScoreHistory:
    """A ring of daily SSI values (hundredths of a point) ending at `last_day`."""

    __slots__ = ("last_day", "values")

    def __init__(self) -> None:
        self.last_day: int | None = None
        self.values = array("H", [_EMPTY] * HISTORY_DAYS)

    def record(self, day: int, ssi: float) -> None:
        """Keep `ssi` for `day` (days arrive in increasing order; older ones fall off the ring)."""
        if self.last_day is not None:
            if day <= self.last_day - HISTORY_DAYS:
                return  # older than the window
            for gap in range(self.last_day + 1, min(day, self.last_day + HISTORY_DAYS + 1)):
                self.values[gap % HISTORY_DAYS] = _EMPTY  # days without a score
        self.values[day % HISTORY_DAYS] = round(ssi * 100)
        if self.last_day is None or day > self.last_day:
            self.last_day = day

    def get(self, day: int) -> float | None:
        if self.last_day is None or not self.last_day - HISTORY_DAYS < day <= self.last_day:
            return None
        value = self.values[day % HISTORY_DAYS]
        return None if value == _EMPTY else value / 100

    def daily(self, days: int = HISTORY_DAYS) -> list[tuple[int, float | None]]:
        """(day, ssi) for the last `days` days, oldest first."""
        if self.last_day is None:
            return []
        days = min(days, HISTORY_DAYS)
        return [(day, self.get(day)) for day in range(self.last_day - days + 1, self.last_day + 1)]

    def weekly(self, weeks: int = 26) -> list[tuple[int, float | None]]:
        """(day, ssi) on the last day of each of the last `weeks` 7-day windows, oldest first."""
        if self.last_day is None:
            return []
        weeks = min(weeks, HISTORY_DAYS // 7)
        return [(day, self.get(day)) for day in range(self.last_day - 7 * (weeks - 1), self.last_day + 1, 7)]

    def to_bytes(self) -> bytes:
        values = self.values
        if _SWAP:  # pragma: no cover - big-endian hosts
            values = array("H", values)
            values.byteswap()
        head = (-1 if self.last_day is None else self.last_day).to_bytes(4, "little", signed=True)
        return head + values.tobytes()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ScoreHistory:
        if len(raw) != 4 + 2 * HISTORY_DAYS:
            raise ValueError(f"score history: {len(raw)} bytes, expected {4 + 2 * HISTORY_DAYS}")
        history = cls()
        last_day = int.from_bytes(raw[:4], "little", signed=True)
        history.last_day = None if last_day == -1 else last_day
        history.values = array("H")
        history.values.frombytes(raw[4:])
        if _SWAP:  # pragma: no cover
            history.values.byteswap()
        return history
