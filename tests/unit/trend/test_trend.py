"""History keeps 26 weeks in two bytes a day; alerts fire once per crossing and match their schema."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ssi_stream.trend.alerts import AlertPolicy, AlertState, evaluate_alerts
from ssi_stream.trend.history import HISTORY_DAYS, ScoreHistory

ALERT_SCHEMA = json.loads((Path(__file__).parents[3] / "schemas/v1/records/alert.json").read_text())


@given(
    st.dictionaries(st.integers(20_000, 20_400), st.integers(0, 10_000).map(lambda c: c / 100), max_size=60)
)
def test_history_keeps_exactly_the_last_26_weeks(scores: dict[int, float]) -> None:
    history = ScoreHistory()
    for day in sorted(scores):
        history.record(day, scores[day])
    copy = ScoreHistory.from_compact_bytes(history.to_compact_bytes())
    if not scores:
        assert copy.daily() == []
        return
    last = max(scores)
    expected = [(day, scores.get(day)) for day in range(last - HISTORY_DAYS + 1, last + 1)]
    assert copy.daily() == expected
    assert len(history.to_compact_bytes()) <= 6 + 2 * HISTORY_DAYS  # two bytes a day at most
    assert copy.weekly(3) == [
        (last - 14, scores.get(last - 14)),
        (last - 7, scores.get(last - 7)),
        (last, scores[last]),
    ]


@given(
    st.dictionaries(st.integers(20_000, 20_400), st.integers(0, 10_000).map(lambda c: c / 100), max_size=60)
)
def test_the_compact_form_keeps_the_same_history_in_two_bytes_a_day_since_its_oldest(
    scores: dict[int, float],
) -> None:
    history = ScoreHistory()
    for day in sorted(scores):
        history.record(day, scores[day])
    compact = history.to_compact_bytes()
    copy = ScoreHistory.from_compact_bytes(compact)
    assert copy.daily() == history.daily() and copy.last_day == history.last_day
    if not scores:
        assert compact == b""
        return
    kept = [day for day in scores if day > max(scores) - HISTORY_DAYS]
    assert len(compact) == 6 + 2 * (max(scores) - min(kept) + 1)


def run(scores: list[float], policy: AlertPolicy | None = None) -> list[tuple[int, str]]:
    policy = policy or AlertPolicy()
    state, raised = AlertState(), []
    history = ScoreHistory()
    for day, ssi in enumerate(scores, start=20_000):
        history.record(day, ssi)
        state, alerts = evaluate_alerts(
            state,
            member_id="m1",
            date="2026-03-02",
            ssi=ssi,
            week_ago=history.get(day - 7),
            policy=policy,
            model_version="test",
        )
        for alert in alerts:
            Draft202012Validator(ALERT_SCHEMA).validate(alert)
        raised += [(day - 20_000, alert["kind"]) for alert in alerts]
    return raised


def test_one_alert_per_crossing_and_a_recovery_when_climbing_back() -> None:
    assert run([75, 72, 69, 65, 60, 68, 71, 74]) == [(2, "below_threshold"), (6, "recovered")]


def test_a_first_score_below_the_threshold_raises_nothing() -> None:
    assert run([20, 21, 22]) == []


def test_a_weekly_drop_fires_once_and_re_arms() -> None:
    scores = [50.0] * 7 + [38.0] * 7 + [38.0] * 7 + [20.0]
    assert run(scores) == [(7, "weekly_drop"), (21, "weekly_drop")]
