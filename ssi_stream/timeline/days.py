"""UTC days as whole numbers (days since 1970-01-01), the unit the daily close works in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

SECONDS_PER_DAY = 86_400
_EPOCH = date(1970, 1, 1)


def day_of(epoch_seconds: int | float) -> int:
    """The UTC day that contains `epoch_seconds`."""
    return int(epoch_seconds // SECONDS_PER_DAY)


def day_start(day: int) -> int:
    """Epoch seconds at 00:00:00 UTC of `day`."""
    return day * SECONDS_PER_DAY


def iso_date(day: int) -> str:
    """`day` as YYYY-MM-DD."""
    return (_EPOCH + timedelta(days=day)).isoformat()


def day_from_iso(text: str) -> int:
    return (date.fromisoformat(text) - _EPOCH).days


def epoch_seconds(moment: datetime) -> int:
    """Whole epoch seconds of an aware datetime."""
    return int(moment.astimezone(UTC).timestamp())
