"""The columnar close gives, bit for bit, the float32 state `close_day` gives each member."""

from __future__ import annotations

import copy
import math
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.scoring import Effect, MemberState, effects_of
from ssi_stream.scoring.columns import (
    StateColumns,
    decay_rows,
    decay_to,
    fold_counts,
    fold_sections,
    from_states,
    load_state,
    store_state,
    to_state,
)
from ssi_stream.scoring.model import StateSettings
from ssi_stream.scoring.state import N_LEVELS, N_SIGNALS, N_SLOTS, _daily_decay, absorb, close_day, new_state
from tests.support.personas import FIRST_DAY, PERSONAS, persona_events

from .conftest import DAY, MODEL, history
from .golden_scores import random_states


def _copy(state: MemberState) -> MemberState:
    return copy.deepcopy(state)  # not the codec: it keeps sections only with their stamp


def _closed_fields(state: MemberState) -> tuple:
    """What the close changes in a StateColumns row, exactly (float32 bits included)."""
    p = state.profile
    return (state.decayed.tobytes(), state.levels.tobytes(), p.sections, p.sections_stamp, state.last_closed)


def _assert_rows_equal(columns: StateColumns, states: list[MemberState]) -> None:
    for row, state in enumerate(states):
        assert _closed_fields(to_state(columns, row)) == _closed_fields(state), row


def _decay_scalar(state: MemberState, days: int) -> MemberState:
    """`close_day` of a state with no open day is `_decay` alone (0 days: unchanged)."""
    after = _copy(state)
    if days:
        close_day(after, after.last_closed + days, MODEL)
    return after


@pytest.fixture(scope="module")
def closed_states() -> list[MemberState]:
    states = [scored.state for scored in random_states(120)]
    for state in states:
        state.last_closed = DAY
    rng = random.Random(3)
    for persona in PERSONAS:
        states.append(_drive(persona, rng.randrange(5, 60)))
    return states


def _drive(persona, days: int, seed: int = 0) -> MemberState:
    rng, state = random.Random(f"{persona.name}:{seed}"), new_state()
    for index in range(days):
        for event in persona_events(persona, "me", index, rng):
            for effect in effects_of(event):
                if effect.member_id == "me":
                    absorb(state, effect, FIRST_DAY + index, MODEL)
        close_day(state, FIRST_DAY + index, MODEL)
    return state


def test_rows_round_trip_states(closed_states: list[MemberState]) -> None:
    columns = from_states(closed_states)
    _assert_rows_equal(columns, closed_states)
    stored = StateColumns.empty(len(closed_states))
    for row, state in enumerate(closed_states):
        store_state(stored, row, state)
    _assert_rows_equal(stored, closed_states)
    assert [to_state(stored, row).first_day for row in range(len(stored))] == [
        s.first_day for s in closed_states
    ]
    target = new_state()
    load_state(stored, 0, target)
    assert _closed_fields(target) == _closed_fields(closed_states[0])
    empty = to_state(StateColumns.empty(1), 0)
    assert (empty.first_day, empty.last_closed) == (None, None)


@pytest.mark.parametrize("days", [1, 2, 3, 7, 45, 400])
def test_decay_by_whole_days_is_bitwise_the_scalar_decay(closed_states: list[MemberState], days: int) -> None:
    columns = from_states(closed_states)
    decay_rows(columns, None, days, MODEL)
    expected = [_decay_scalar(state, days) for state in closed_states]
    for row, state in enumerate(expected):
        assert columns.decayed[row].tobytes() == state.decayed.tobytes(), row


def test_decay_with_days_per_row_and_a_subset_of_rows(closed_states: list[MemberState]) -> None:
    rng = np.random.default_rng(1)
    columns = from_states(closed_states)
    rows = rng.permutation(len(closed_states))[: len(closed_states) // 2]
    days = rng.choice([0, 1, 1, 1, 2, 5, 90], len(rows))
    decay_rows(columns, rows, days, MODEL)
    expected = list(closed_states)
    for row, elapsed in zip(rows.tolist(), days.tolist(), strict=True):
        expected[row] = _decay_scalar(closed_states[row], elapsed)
    for row, state in enumerate(expected):
        assert columns.decayed[row].tobytes() == state.decayed.tobytes(), row


def test_decay_compares_the_float64_product_with_forget_below_before_rounding() -> None:
    """Each case puts forget_below between the float64 product and its float32 rounding, so comparing
    after the rounding would keep what `_decay` forgets, or forget what it keeps."""
    factors, rng = _daily_decay(MODEL), np.random.default_rng(7)
    for case in range(64):
        signal = case % N_SIGNALS
        value = float(np.float32(rng.uniform(0.01, 0.9)))
        product = value * factors[signal]
        rounded = float(np.float32(product))
        forget_below = math.nextafter(product, math.inf) if rounded > product else product
        assert (product >= forget_below) != (rounded >= forget_below) or rounded == product
        model = replace(MODEL, state=StateSettings(forget_below=forget_below))
        state = new_state()
        state.decayed[signal], state.last_closed = value, DAY
        columns = from_states([state])
        decay_rows(columns, None, 1, model)
        close_day(state, DAY + 1, model)
        assert columns.decayed[0].tobytes() == state.decayed.tobytes(), case


def test_decay_of_unusual_values_is_the_scalar_decay() -> None:
    """NaN and negatives are forgotten, infinity stays, zeros keep their sign (`_decay` skips them)."""
    state = new_state()
    state.last_closed = DAY
    unusual = (math.nan, -0.0, 0.0, -1.0, math.inf, 1e-45, 1e-38, 0.00105, 3.4e38)
    for signal, value in enumerate(unusual):
        state.decayed[signal] = value
    columns = from_states([state])
    decay_rows(columns, None, 3, MODEL)
    assert columns.decayed[0].tobytes() == _decay_scalar(state, 3).decayed.tobytes()


def test_decay_to_counts_days_since_the_last_close_and_skips_never_closed_rows(
    closed_states: list[MemberState],
) -> None:
    states = [*map(_copy, closed_states[:20]), new_state()]
    rng = random.Random(5)
    for state in states[:20]:
        state.last_closed = DAY - rng.choice((1, 1, 2, 9))
    columns = from_states(states)
    decay_to(columns, None, DAY, MODEL)
    expected = []
    for state in states:
        after = _copy(state)
        close_day(after, DAY, MODEL)
        expected.append(after)
    _assert_rows_equal(columns, expected)
    assert int(columns.last_closed[-1]) == DAY


def _close_columnar(columns: StateColumns, states: list[MemberState], day: int) -> None:
    """Close `day` for every row: decay, then fold each member's open day (counts and sections)."""
    counts = np.zeros((len(states), N_SLOTS), np.int64)
    sections = np.zeros(len(states), np.int64)
    stamps = np.full(len(states), -1, np.int64)
    for row, state in enumerate(states):
        for open_day in state.open_days:
            assert open_day.day == day
            counts[row] = open_day.counts
            if open_day.profile is not None:
                sections[row], stamps[row] = open_day.profile.sections, open_day.profile.sections_stamp
    rows = np.arange(len(states))
    decay_to(columns, rows, day, MODEL)
    fold_counts(columns, rows, counts)
    fold_sections(columns, rows, sections, stamps)


def test_closing_days_in_columns_is_bitwise_close_day_for_every_persona() -> None:
    members = [(persona, seed) for persona in PERSONAS for seed in (0, 1)]
    rngs = [random.Random(f"{persona.name}:{seed}") for persona, seed in members]
    states = [new_state() for _ in members]
    columns = StateColumns.empty(len(members))
    for index in range(50):
        day = FIRST_DAY + index
        for (persona, _), rng, state in zip(members, rngs, states, strict=True):
            for event in persona_events(persona, "me", index, rng):
                for effect in effects_of(event):
                    if effect.member_id == "me":
                        absorb(state, effect, day, MODEL)
        _close_columnar(columns, states, day)
        for state in states:
            close_day(state, day, MODEL)
        _assert_rows_equal(columns, states)


@given(st.lists(history(), min_size=1, max_size=4))
@settings(max_examples=40, deadline=None)
def test_closing_days_in_columns_is_bitwise_close_day(histories: list[list[list[Effect]]]) -> None:
    states = [new_state() for _ in histories]
    columns = StateColumns.empty(len(histories))
    for offset in range(max(len(days) for days in histories)):
        day = DAY + offset
        for days, state in zip(histories, states, strict=True):
            for effect in days[offset] if offset < len(days) else ():
                absorb(state, effect, day, MODEL)
        _close_columnar(columns, states, day)
        for state in states:
            close_day(state, day, MODEL)
    _assert_rows_equal(columns, states)


def test_fold_counts_rejects_counts_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        fold_counts(StateColumns.empty(2), np.arange(2), np.zeros((2, N_LEVELS)))


def test_levels_never_fall_below_zero_and_move_only_with_a_delta() -> None:
    columns = StateColumns.empty(3)
    columns.levels[:, 0] = [2, 0, 5]
    counts = np.zeros((3, N_SLOTS), np.int64)
    counts[:, N_SIGNALS] = [-5, 0, 1]
    fold_counts(columns, np.arange(3), counts)
    assert columns.levels[:, 0].tolist() == [0, 0, 6]
