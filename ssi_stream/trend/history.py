"""The last 26 weeks of a member's daily SSI, two bytes a day: the data behind the weekly trend chart."""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any

from ssi_stream.timeline.days import iso_date

MAX_WEEKS = 26
HISTORY_DAYS = MAX_WEEKS * 7
_EMPTY = 0xFFFF  # no score that day
_SWAP = sys.byteorder == "big"
_COMPACT_HEAD = struct.Struct("<iH")
_EMPTY_RING = array("H", [_EMPTY]) * HISTORY_DAYS


class ScoreHistory:
    """A ring of daily SSI values (hundredths of a point) ending at `last_day`."""

    __slots__ = ("_compact", "last_day", "values")

    def __init__(self) -> None:
        self.last_day: int | None = None
        self.values = array("H", _EMPTY_RING)  # a copy
        self._compact: bytes | None = None  # `to_compact_bytes()` while `record` has not been called since

    def record(self, day: int, ssi: float) -> None:
        """Keep `ssi` for `day` (days arrive in increasing order; older ones fall off the ring)."""
        self._compact = None
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

    def to_compact_bytes(self) -> bytes:
        """Only the days from the oldest kept score to the last: a young history costs a few bytes.

        Layout: last day (int32), day count n (uint16), then n values (uint16, oldest first); empty: b"".
        """
        compact = self._compact
        if compact is None:
            compact = self._compact = self._compacted()
        return compact

    def _compacted(self) -> bytes:
        if self.last_day is None:
            return b""
        start = (self.last_day + 1) % HISTORY_DAYS  # the ring slot of the oldest day in the window
        ordered = self.values[start:] + self.values[:start]
        if _SWAP:  # pragma: no cover - big-endian hosts
            ordered.byteswap()
        raw = ordered.tobytes()
        # Empty days are 0xFFFF; a score's two bytes never both are, so this finds the oldest score.
        first = (len(raw) - len(raw.lstrip(b"\xff"))) // 2
        return _COMPACT_HEAD.pack(self.last_day, HISTORY_DAYS - first) + raw[2 * first :]

    @classmethod
    def from_compact_bytes(cls, raw: bytes) -> ScoreHistory:
        if not raw:
            return cls()
        history = cls.__new__(cls)
        last_day, count = _COMPACT_HEAD.unpack_from(raw)
        kept = array("H")
        kept.frombytes(raw[_COMPACT_HEAD.size :])
        if _SWAP:  # pragma: no cover
            kept.byteswap()
        if len(kept) != count or not 0 < count <= HISTORY_DAYS:
            raise ValueError(f"score history: {len(kept)} values for a count of {count}")
        ordered = _EMPTY_RING[: HISTORY_DAYS - count] + kept
        start = (last_day + 1) % HISTORY_DAYS
        history.values = ordered[HISTORY_DAYS - start :] + ordered[: HISTORY_DAYS - start]
        history.last_day = last_day
        history._compact = None
        return history


def history_document(member_id: str, history: ScoreHistory, weeks: int) -> dict[str, Any]:
    """The JSON of `GET /members/{id}/history?weeks=N`: the daily SSI of the last `weeks` weeks and one
    point per week (the last day of each 7-day window ending at the last closed day), oldest first."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be 1-{MAX_WEEKS}, got {weeks}")
    return {
        "member_id": member_id,
        "weeks": weeks,
        "daily": [{"date": iso_date(day), "ssi": ssi} for day, ssi in history.daily(7 * weeks)],
        "weekly": [{"date": iso_date(day), "ssi": ssi} for day, ssi in history.weekly(weeks)],
    }
