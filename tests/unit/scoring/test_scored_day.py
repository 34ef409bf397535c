"""A scored day is the same whichever way it is produced: one card (the API, a rebuilt record) or a whole
partition's columnar close; and the version 2 record says what the card says, in codes and numbers."""

from __future__ import annotations

import orjson
import pytest

from ssi_stream.scoring import load_model, score
from ssi_stream.scoring.columnar import score_columns
from ssi_stream.scoring.columns import from_states
from ssi_stream.scoring.model import PILLARS
from ssi_stream.scoring.pillars import Signals
from ssi_stream.scoring.record import score_record
from ssi_stream.scoring.scored_day import SIGNAL_VALUES, ScoredDay, from_card, from_columns

from .golden_scores import ScoredState, persona_states, random_states

MODEL = load_model()


@pytest.fixture(scope="module")
def states() -> list[ScoredState]:
    return persona_states() + random_states(300)


def test_a_columnar_close_and_a_card_give_the_same_scored_day(states: list[ScoredState]) -> None:
    scores = score_columns(from_states([s.state for s in states]), MODEL)
    for row, scored in enumerate(states):
        card = score(scored.state, MODEL)
        assert from_columns(scores, row, Signals.of(scored.state), MODEL) == from_card(card), scored.member_id


def test_every_signal_value_is_the_one_the_pillar_rules_quote(states: list[ScoredState]) -> None:
    for scored in states:
        sig = Signals.of(scored.state)
        for pillar in score(scored.state, MODEL).pillars:
            for contribution in pillar.contributions:
                assert SIGNAL_VALUES[contribution.signal](sig, MODEL) == contribution.value


def test_the_record_carries_codes_and_numbers_that_match_the_card(states: list[ScoredState]) -> None:
    sizes = []
    for scored in states:
        card = score(scored.state, MODEL)
        day = from_card(card)
        record = score_record(
            scored.member_id, scored.day, day, industry="Software", model_version=MODEL.version
        )
        sizes.append(len(orjson.dumps(record)))
        assert record["schema_version"] == 2
        assert list(record["pillars"]) == list(PILLARS)
        assert record["ssi"] == day.ssi == pytest.approx(sum(record["pillars"].values()), abs=0.011)
        for pillar in card.pillars:
            listed = record["signals"].get(pillar.pillar, [])
            assert [code for code, _, _ in listed] == [c.signal for c in pillar.top_signals if c.points != 0]
            step = record["next_steps"].get(pillar.pillar)
            assert (step[0] if step else None) == pillar.next_code
            assert "text" not in str(record) and "." not in (step[0] if step else "")
        assert "late_events" not in record


def test_a_passive_member_has_no_signals_and_every_next_step_has_a_gain() -> None:
    from ssi_stream.scoring.state import new_state

    day = from_card(score(new_state(), MODEL))
    assert isinstance(day, ScoredDay) and all(not p.top for p in day.pillars)
    assert all(p.next_step is None or p.gain > 0.05 for p in day.pillars)
