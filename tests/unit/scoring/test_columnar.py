"""Columnar scoring equals `card.score` member by member: the same floats (bit for bit), the same record
SSI, the same top signals and the same next step."""

from __future__ import annotations

import math
import random
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.scoring import Effect, MemberState, ScoreCard, new_state, score
from ssi_stream.scoring import columnar as col
from ssi_stream.scoring.columns import from_states
from ssi_stream.scoring.explain import ACTIONS, KEEP_GOING, MEANINGFUL_GAIN, WHAT_IFS
from ssi_stream.scoring.model import PILLARS
from ssi_stream.scoring.pillars import COMPONENTS, Signals
from ssi_stream.scoring.record import record_ssi, round_for_record
from ssi_stream.scoring.state import N_LEVELS, N_SIGNALS, Level, Signal

from .conftest import MODEL, build_state, history
from .golden_scores import persona_states, random_states

KEEP = "keep_going"


def _next_step_name(pillar: str, card_sentence: str, state: MemberState) -> str:
    """The action whose sentence the card recommends (sentences differ per action)."""
    if card_sentence == KEEP_GOING:
        return KEEP
    sig = Signals.of(state)
    (name,) = [a.name for a in ACTIONS[pillar] if a.sentence(sig, MODEL) == card_sentence]
    return name


def _card_view(state: MemberState, card: ScoreCard) -> dict:
    return {
        "points": [c.points for p in card.pillars for c in p.contributions],
        "pillars": [p.points for p in card.pillars],
        "ssi": record_ssi(p.points for p in card.pillars),
        "top": [[c.signal for c in p.top_signals] for p in card.pillars],
        "next": [_next_step_name(p.pillar, p.next_step, state) for p in card.pillars],
        "sentences": [p.next_step for p in card.pillars],
    }


def _columnar_view(scores: col.ColumnarScores, row: int, columns) -> dict:
    codes = scores.next_step[row].tolist()
    return {
        "points": scores.points[row].tolist(),
        "pillars": scores.pillars[row].tolist(),
        "ssi": float(scores.ssi[row]),
        "top": [
            [COMPONENTS[pillar][i].name for i in scores.top_signals[row, p].tolist()]
            for p, pillar in enumerate(PILLARS)
        ],
        "next": [
            KEEP if code < 0 else ACTIONS[pillar][code].name
            for pillar, code in zip(PILLARS, codes, strict=True)
        ],
        "sentences": [
            col.next_step_text(columns, row, pillar, code, MODEL)
            for pillar, code in zip(PILLARS, codes, strict=True)
        ],
    }


def assert_columnar_equals_cards(states: list[MemberState]) -> col.ColumnarScores:
    columns = from_states(states)
    scores = col.score_columns(columns, MODEL)
    for row, state in enumerate(states):
        expected = _card_view(state, score(state, MODEL))
        got = _columnar_view(scores, row, columns)
        assert got == expected, row  # floats compared with ==: bit for bit
    assert np.array_equal(col.component_points(columns, MODEL), scores.points)
    assert np.array_equal(col.pillar_totals(columns, MODEL), scores.pillars)
    assert np.array_equal(col.top_signals(scores.points), scores.top_signals)
    return scores


@pytest.fixture(scope="module")
def persona_days() -> list[MemberState]:
    return [scored.state for scored in persona_states()]


def test_columnar_equals_cards_on_every_persona_day(persona_days: list[MemberState]) -> None:
    assert_columnar_equals_cards(persona_days)


def test_columnar_equals_cards_on_corner_states() -> None:
    assert_columnar_equals_cards([scored.state for scored in random_states()])


def test_columnar_equals_cards_across_chunks(persona_days: list[MemberState], monkeypatch) -> None:
    monkeypatch.setattr(col, "CHUNK_ROWS", 97)
    assert_columnar_equals_cards(persona_days[:400])


@given(st.lists(history(), min_size=1, max_size=3))
@settings(max_examples=40, deadline=None)
def test_columnar_equals_cards_on_built_states(histories: list[list[list[Effect]]]) -> None:
    assert_columnar_equals_cards([build_state(days) for days in histories])


_values = st.one_of(
    st.just(0.0),
    st.floats(0.0, 2.0, width=32),
    st.floats(0.0, 500.0, width=32),
    st.floats(0.0, 1e6, width=32),
    st.floats(0.0, 2.0**127, width=32),
)


@st.composite
def arbitrary_states(draw: st.DrawFn) -> MemberState:
    state = new_state()
    for signal, value in enumerate(draw(st.lists(_values, min_size=N_SIGNALS, max_size=N_SIGNALS))):
        state.decayed[signal] = value
    levels = st.one_of(st.integers(0, 5), st.integers(0, 500), st.integers(0, 2**31 - 1))
    for level, value in enumerate(draw(st.lists(levels, min_size=N_LEVELS, max_size=N_LEVELS))):
        state.levels[level] = value
    state.profile.sections = draw(st.integers(0, 1023))
    return state


@given(st.lists(arbitrary_states(), min_size=1, max_size=30))
@settings(max_examples=150, deadline=None)
def test_columnar_equals_cards_on_arbitrary_states(states: list[MemberState]) -> None:
    assert_columnar_equals_cards(states)


def _state(
    signals: dict[Signal, float] | None = None, levels: dict[Level, int] | None = None, sections: int = 0
) -> MemberState:
    state = new_state()
    for signal, value in (signals or {}).items():
        state.decayed[signal] = value
    for level, value in (levels or {}).items():
        state.levels[level] = value
    state.profile.sections = sections
    return state


S, L = Signal, Level
#: States where the scalar rules meet a tie, a clamp or a boundary.
EDGE_STATES = {
    "empty: every component 0, top signals in declared order": _state(),
    "equal points: 300 connections, 40 at VP+": _state(
        levels={L.CONNECTIONS: 300, L.DECISION_MAKER_CONNECTIONS: 40}
    ),
    "every pillar far above 25: gains 0, keep going": _state(
        {s: 1e6 for s in Signal} | {S.MESSAGES_INITIATED: 0.0, S.INVITES_SENT: 1e6, S.INVITES_ACCEPTED: 1e6},
        {level: 10**6 for level in Level},
        1023,
    ),
    "deep in penalties: the pillar clamps at 0, gains still count": _state(
        {S.INVITES_SENT: 5000.0, S.MESSAGES_INITIATED: 3000.0}
    ),
    "reply applies only when received > replies sent + 1 (equal here)": _state(
        {S.MESSAGES_RECEIVED: 6.0, S.REPLIES_SENT: 5.0}
    ),
    "reply: one ulp above the threshold": _state(
        {S.MESSAGES_RECEIVED: float(np.nextafter(np.float32(6.0), np.float32(7.0))), S.REPLIES_SENT: 5.0}
    ),
    "accept invitations: equal to the threshold": _state(
        {S.INVITES_RECEIVED: 3.0, S.INVITES_ACCEPTED_BY_ME: 2.0}
    ),
    "stop blind invitations: allowed equals sent": _state({S.INVITES_SENT: 20.0, S.INVITES_ACCEPTED: 3.0}),
    "complete profile does not apply to a complete profile": _state(sections=1023),
}


@pytest.mark.parametrize("name", list(EDGE_STATES))
def test_columnar_equals_cards_on_edge_states(name: str) -> None:
    assert_columnar_equals_cards([EDGE_STATES[name]])


def test_a_pillar_below_the_meaningful_gain_keeps_going_and_gains_are_the_chosen_actions(
    persona_days: list[MemberState],
) -> None:
    scores = assert_columnar_equals_cards(persona_days + list(EDGE_STATES.values()))
    chosen = scores.next_step >= 0
    assert (scores.gain[chosen] > MEANINGFUL_GAIN).all()
    assert (scores.gain[~chosen] == 0.0).all()
    assert chosen.any() and (~chosen).any()


def test_equal_gains_pick_the_first_declared_action(persona_days: list[MemberState], monkeypatch) -> None:
    """Every action declared twice: each gain ties with its twin, and `next_step` keeps the first."""
    from ssi_stream.scoring import explain

    for pillar in PILLARS:
        monkeypatch.setitem(explain.WHAT_IFS, pillar, explain.WHAT_IFS[pillar] * 2)
        monkeypatch.setitem(col._WHAT_IFS, pillar, col._WHAT_IFS[pillar] * 2)
    states = persona_days[::5] + [scored.state for scored in random_states(100)]
    scores = assert_columnar_equals_cards(states)
    assert (scores.next_step < np.array([len(ACTIONS[p]) for p in PILLARS])).all()


def test_every_array_change_equals_the_scalar_change() -> None:
    states = [scored.state for scored in random_states(60)] + list(EDGE_STATES.values())
    columns = from_states(states)
    sig = col._Signals.of(columns, 0, len(states))
    for pillar in PILLARS:
        for what_if, array_what_if in zip(WHAT_IFS[pillar], col._WHAT_IFS[pillar], strict=True):
            after = array_what_if.change(sig, MODEL)
            for row, state in enumerate(states):
                scalar = Signals.of(state)
                what_if.action.change.apply(scalar, MODEL)
                assert [float(column[row]) for column in after.decayed] == scalar.decayed, what_if.action.name
                assert [int(column[row]) for column in after.levels] == scalar.levels, what_if.action.name
                assert int(after.sections[row]) == scalar.sections, what_if.action.name


def test_component_columns_follow_pillars_and_their_declared_order() -> None:
    assert tuple((p, c.name) for p in PILLARS for c in COMPONENTS[p]) == col.COMPONENT_NAMES
    for pillar, columns in zip(PILLARS, col.PILLAR_COLUMNS, strict=True):
        assert [name for _, name in col.COMPONENT_NAMES[columns]] == [c.name for c in COMPONENTS[pillar]]


def test_exp_is_bitwise_math_exp() -> None:
    rng = np.random.default_rng(0)
    x = -np.concatenate((rng.random(200_000) * 5.0, rng.random(200_000) * 200.0, [0.0, 745.0, 800.0]))
    expected = np.array([math.exp(v) for v in x.tolist()])
    assert np.array_equal(col._exp(x).view(np.int64), expected.view(np.int64)), col.EXP_BACKEND


def _round_cases() -> np.ndarray:
    rng = np.random.default_rng(2)
    midpoints = (np.arange(-200, 20_001) + 0.5) / 100.0  # k.xx5: the ties of a decimal rounding
    cases = [rng.uniform(-1.0, 101.0, 100_000), np.arange(0, 100_001) / 1000.0, midpoints]
    cases += [np.nextafter(midpoints, np.inf), np.nextafter(midpoints, -np.inf)]
    cases.append(np.array([0.125, 0.375, 2.675, 1.005, -0.005, -0.0, 0.0, 25.0, 99.995]))
    return np.concatenate(cases)


def test_round2_is_pythons_round_to_two_decimals() -> None:
    values = _round_cases()
    expected = np.array([round(v, 2) for v in values.tolist()])
    assert np.array_equal(col.round2(values).view(np.int64), expected.view(np.int64))
    expected_record = np.array([round_for_record(v) for v in values.tolist()])
    assert np.array_equal(col.record_pillars(values).view(np.int64), expected_record.view(np.int64))


def test_float_sum_is_the_builtin_sum() -> None:
    rng = random.Random(4)
    for terms in (4, 5, 6):
        rows = [
            [
                rng.choice((1.0, -1.0)) * rng.choice((1e-17, 1e-3, 0.1, 3.0, 25.0, 1e16)) * rng.random()
                for _ in range(terms)
            ]
            for _ in range(5_000)
        ]
        rows += [[-0.0] * terms, [0.1] * terms]
        columns = [np.array([row[i] for row in rows]) for i in range(terms)]
        expected = np.array([sum(row) for row in rows])
        assert np.array_equal(col.float_sum(columns).view(np.int64), expected.view(np.int64)), sys.version


def test_next_step_text_of_keep_going() -> None:
    assert (
        col.next_step_text(from_states([new_state()]), 0, PILLARS[0], col.KEEP_GOING_CODE, MODEL)
        == KEEP_GOING
    )
