"""The daily record: exact shape, rounding, and explanations a member can act on."""

from __future__ import annotations

import orjson
from hypothesis import given, settings

from ssi_stream.scoring import Effect, daily_record, score
from ssi_stream.scoring.model import PILLARS
from tests.support.personas import FIRST_DAY, GENUINE, SPAMMER

from .conftest import DAY, MODEL, RUN_DAYS, build_state, history, run_persona

SIGNAL_KEYS = {"signal", "value", "points", "text"}


def record_for(days: list[list[Effect]]) -> dict:
    state = build_state(days)
    return daily_record("m-1", DAY + len(days) - 1, state, score(state, MODEL), MODEL, late_events=2)


def test_the_record_has_exactly_the_published_shape(persona_runs) -> None:
    run = persona_runs[GENUINE.name]
    record = daily_record("m-42", FIRST_DAY + RUN_DAYS - 1, run.final, run.card, MODEL)
    assert list(record) == [
        "schema_version",
        "member_id",
        "date",
        "ssi",
        "pillars",
        "industry",
        "industry_rank",
        "network_rank",
        "model_version",
        "explanations",
        "late_events",
    ]
    assert (record["schema_version"], record["member_id"], record["date"]) == (1, "m-42", "2025-03-16")
    assert (record["industry"], record["industry_rank"], record["network_rank"]) == ("Software", None, None)
    assert (record["model_version"], record["late_events"]) == (MODEL.version, 0)
    assert list(record["pillars"]) == list(PILLARS) == list(record["explanations"])
    for pillar, explanation in record["explanations"].items():
        assert set(explanation) == {"points", "top_signals", "next_step"}
        assert explanation["points"] == record["pillars"][pillar]
        assert 1 <= len(explanation["top_signals"]) <= 3
        for signal in explanation["top_signals"]:
            assert set(signal) == SIGNAL_KEYS
            assert isinstance(signal["value"], float) and isinstance(signal["points"], float)
            assert signal["text"]
        assert explanation["next_step"].endswith(".")
    assert orjson.loads(orjson.dumps(record)) == record


@given(history())
@settings(max_examples=60, deadline=None)
def test_record_numbers_are_rounded_and_the_ssi_is_the_sum_of_the_rounded_pillars(
    days: list[list[Effect]],
) -> None:
    record = record_for(days)
    pillars = record["pillars"].values()
    assert all(0 <= p <= 25 and round(p, 2) == p for p in pillars)
    assert abs(record["ssi"] - sum(pillars)) <= 0.01 and round(record["ssi"], 2) == record["ssi"]
    assert record["late_events"] == 2
    assert record_for(days) == record


def test_the_spammer_is_told_what_costs_points(persona_runs) -> None:
    run = persona_runs[SPAMMER.name]
    record = daily_record("spam", FIRST_DAY + RUN_DAYS - 1, run.final, run.card, MODEL)
    build = record["explanations"]["build_relationships"]
    assert build["top_signals"][0]["signal"] == "blind_invitations" and build["top_signals"][0]["points"] < 0
    assert " of your last " in build["top_signals"][0]["text"]
    assert build["next_step"].startswith("Stop inviting strangers")
    engage = record["explanations"]["engage_with_insights"]
    assert engage["top_signals"][0]["signal"] == "unanswered_messages"
    assert engage["next_step"].startswith("Send fewer, more personal messages")


def test_a_newcomer_is_pointed_at_their_network(persona_runs) -> None:
    run = persona_runs["newcomer with a complete profile"]
    record = daily_record("new", FIRST_DAY + RUN_DAYS - 1, run.final, run.card, MODEL)
    brand = record["explanations"]["professional_brand"]
    assert brand["top_signals"][0] == {
        "signal": "profile_completeness",
        "value": 10.0,
        "points": 7.0,
        "text": "Your profile has 10 of 10 sections complete",
    }
    assert "personalised invitations" in record["explanations"]["build_relationships"]["next_step"]


def test_a_persona_run_with_the_same_seed_gives_the_same_records() -> None:
    first, second = run_persona(GENUINE, days=21, seed=5), run_persona(GENUINE, days=21, seed=5)
    day = FIRST_DAY + 20
    assert daily_record("g", day, first.final, first.card, MODEL) == daily_record(
        "g", day, second.final, second.card, MODEL
    )
