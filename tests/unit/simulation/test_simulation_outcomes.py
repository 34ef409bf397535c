"""Simulated CRM outcomes follow from behaviour, not from the score, and leave the activity untouched."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson
import pytest

from ssi_stream.events.decode import decode
from ssi_stream.events.rejection import Rejected
from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.simulation import Population, SimulationConfig, generate

CONFIG = SimulationConfig(members=400, days=60, seed=9, outcomes=True)


def _is_outcome(event: dict[str, Any]) -> bool:
    return event["type"] in OUTCOME_TYPES


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(generate(CONFIG))  # type: ignore[arg-type]


def test_outcomes_add_events_without_changing_one_activity_event(events: list[dict[str, Any]]) -> None:
    without = list(generate(dataclasses.replace(CONFIG, outcomes=False)))
    assert [event for event in events if not _is_outcome(event)] == without
    assert len(events) > len(without)


def test_every_outcome_is_a_valid_event_of_each_type_in_time_order(events: list[dict[str, Any]]) -> None:
    now = datetime.combine(CONFIG.start, time(), tzinfo=UTC) + timedelta(days=CONFIG.days)
    outcomes = [event for event in events if _is_outcome(event)]
    for event in outcomes:
        decoded = decode(orjson.dumps(event), now=now)
        assert not isinstance(decoded, Rejected), (event, decoded)
        assert event["event_id"].startswith(f"s{CONFIG.seed}-o")
    assert set(Counter(event["type"] for event in outcomes)) == set(OUTCOME_TYPES)
    instants = [decode(orjson.dumps(event), now=now).occurred_at for event in events]  # type: ignore[union-attr]
    assert instants == sorted(instants)
    assert len({event["event_id"] for event in events}) == len(events)


def test_every_outcome_meets_the_contract(events: list[dict[str, Any]], violation: Any) -> None:
    outcomes = [event for event in events if _is_outcome(event)]
    assert Counter(violation(event) for event in outcomes) == Counter({None: len(outcomes)})
    assert all(
        event["contact_member_id"] != event["member_id"] for event in outcomes if "contact_member_id" in event
    )


def test_a_deal_closes_an_opportunity_its_owner_opened_before(events: list[dict[str, Any]]) -> None:
    opened: dict[str, str] = {}
    closed = 0
    for event in events:
        if event["type"] == "opportunity_created":
            opened[event["opportunity_id"]] = event["member_id"]
        elif event["type"] in ("deal_won", "deal_lost"):
            assert opened.get(event["opportunity_id"]) == event["member_id"], event
            closed += 1
    assert closed >= 3 and len(opened) > closed


def test_outcomes_follow_answered_behaviour_not_volume(events: list[dict[str, Any]]) -> None:
    """Genuine sellers, whose invitations are personal and whose messages get answered, open far more
    opportunities per member than spammers, who send far more of everything."""
    population = Population(CONFIG)
    members = Counter(population.persona(i).name for i in range(CONFIG.members))
    activity: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        persona = population.persona(population.index_of(event["member_id"])).name
        activity[event["type"] if _is_outcome(event) else "activity"][persona] += 1

    def per_member(kind: str, persona: str) -> float:
        return activity[kind][persona] / members[persona]

    assert per_member("activity", "spammer") > 2 * per_member("activity", "genuine_seller")
    assert per_member("opportunity_created", "genuine_seller") > 5 * per_member(
        "opportunity_created", "spammer"
    )
    assert per_member("meeting_booked", "genuine_seller") > 5 * per_member("meeting_booked", "spammer")
    assert per_member("meeting_booked", "lurker") == 0.0, "lurkers start nothing, so they close nothing"


def test_the_same_config_gives_the_same_outcomes(events: list[dict[str, Any]]) -> None:
    again = dataclasses.replace(CONFIG, members=CONFIG.members)
    assert list(generate(again)) == events
    other = [event for event in generate(dataclasses.replace(CONFIG, seed=10)) if _is_outcome(event)]
    assert other != [event for event in events if _is_outcome(event)]
