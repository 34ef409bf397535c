"""Simulated instants render as RFC 3339 strings that parse back to the same instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ssi_stream.simulation.population import UTC_OFFSETS_MINUTES
from ssi_stream.simulation.timeline import DAY_MS, Timeline

TIMELINE = Timeline(date(2026, 3, 2), 30)


@given(st.integers(0, 30 * DAY_MS - 1), st.sampled_from(UTC_OFFSETS_MINUTES))
def test_timestamp_round_trips_to_the_same_instant_in_any_offset(t: int, offset: int) -> None:
    text = TIMELINE.timestamp(t, offset)
    assert datetime.fromisoformat(text) == datetime(2026, 3, 2, tzinfo=UTC) + timedelta(milliseconds=t)
    assert text.endswith("Z") == (offset == 0) and len(text) == (24 if offset == 0 else 29)


def test_weekends_are_saturday_and_sunday() -> None:
    assert [TIMELINE.is_weekend(d) for d in range(7)] == [False] * 5 + [True] * 2  # 2026-03-02 is a Monday
