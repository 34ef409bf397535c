"""A partition's day close as whole-array operations: decay, fold and score every member at once.

`close_states` does to each state what `scoring.state.close_day` does, bit for bit (decay day by day in
float64, fold the day's integer counts, merge its profile offers), with the decay and the fold over
numpy columns (`scoring.columns`); a state with an unusual open day (one before the day being closed)
is closed by `close_day` itself. It then scores every row (`scoring.columnar.score_columns`), which is
what `card.score` gives, bit for bit, without building texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from ssi_stream.scoring.columnar import ColumnarScores, score_columns
from ssi_stream.scoring.columns import decay_to, fold_counts, from_states, load_state, store_state
from ssi_stream.scoring.model import Model
from ssi_stream.scoring.state import N_SLOTS, MemberState, close_day


def close_states(states: Sequence[MemberState], day: int, model: Model) -> ColumnarScores:
    """Close `day` for each state (each not closed through it yet), in place; return their scores."""
    columns = from_states(states)
    decaying: list[int] = []  # rows decayed to `day` over the columns
    folding: list[int] = []  # of those, rows with counts of `day` itself to fold in
    counts: list[bytes] = []
    for row, state in enumerate(states):
        due = [open_day for open_day in state.open_days if open_day.day <= day]
        if not due:
            decaying.append(row)
        elif len(due) == 1 and due[0].day == day:
            decaying.append(row)
            folding.append(row)
            counts.append(due[0].counts.tobytes())
        else:  # an open day before `day` (not expected: every day closes in turn): the scalar close
            close_day(state, day, model)
            store_state(columns, row, state)
    if decaying:
        decay_to(columns, np.asarray(decaying, np.intp), day, model)
    if folding:
        rows = np.asarray(folding, np.intp)
        fold_counts(columns, rows, np.frombuffer(b"".join(counts), np.int32).reshape(len(rows), N_SLOTS))
    for row in decaying:
        state = states[row]
        if state.open_days:
            kept = []
            for open_day in state.open_days:
                if open_day.day > day:
                    kept.append(open_day)
                elif open_day.profile is not None:  # seniority and industry live outside the columns
                    state.profile.merge(open_day.profile)
                    columns.sections[row] = state.profile.sections
                    columns.sections_stamp[row] = state.profile.sections_stamp
            state.open_days = kept
        load_state(columns, row, state)
    return score_columns(columns, model)


def score_states(states: Sequence[MemberState], model: Model) -> ColumnarScores:
    """The scores of states already closed (a rank step after a restart: the close's scores are gone)."""
    return score_columns(from_states(states), model)


def concat_scores(parts: Sequence[ColumnarScores]) -> ColumnarScores:
    """The scores of several closes' rows, one after the other (`close_states` of consecutive chunks)."""
    if len(parts) == 1:
        return parts[0]
    return ColumnarScores(
        **{f.name: np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(ColumnarScores)}
    )
