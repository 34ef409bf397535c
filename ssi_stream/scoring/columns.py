"""Many members' closed-day state as columns (numpy), and the day close as whole-array operations.

`StateColumns` holds, one row per member, what `close_day` changes and `score` reads: the float32 decayed
signals, the int32 levels, the profile sections (with the stamp that set them), and the first and last
closed day. `decay_rows`, `decay_to` and `fold_counts` give, bit for bit, what `state._decay` and
`state._fold` give on each member's `MemberState`:

* a day of decay multiplies the float32 value (widened to float64) by the float64 factor
  `0.5 ** (1 / half_life)`, compares the float64 product with `forget_below`, and only then rounds to
  float32. Days are applied one at a time: `value * factor ** k` does not give the same float32 bits
  for k ≥ 2 (it differs for a quarter to most of the values), so a gap of k days is k whole-array
  multiplies over the rows still decaying — vectorised across members, and the gap is mostly 1 day;
* a fold adds the day's integer counts in float64 and rounds to float32 once, active days count 1 per
  day with any action, and levels never go below 0 (a level is only rewritten when its delta is not 0).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ssi_stream.scoring.model import Model
from ssi_stream.scoring.state import (
    N_LEVELS,
    N_SIGNALS,
    N_SLOTS,
    MemberState,
    ProfileFacts,
    Signal,
    _daily_decay,
)

#: `first_day` / `last_closed` of a member with none (the codec's sentinel too).
NO_DAY = -(2**31)
#: `sections_stamp` of a member whose sections were never set (as `ProfileFacts`).
NO_STAMP = -1
#: Rows per pass of the whole-array loops: keeps each temporary within the CPU caches.
CHUNK_ROWS = 16_384
_INT32_MAX = 2**31 - 1


@dataclass(slots=True)
class StateColumns:
    """The closed-day state of `n` members, one row each (`MemberState` minus open days, seniority and
    industry, which the close and the score do not read)."""

    #: (n, N_SIGNALS) float32: the decayed signals, as `MemberState.decayed`.
    decayed: np.ndarray
    #: (n, N_LEVELS) int32: the levels, as `MemberState.levels`.
    levels: np.ndarray
    #: (n,) int32: the completed profile sections bitmask, as `ProfileFacts.sections`.
    sections: np.ndarray
    #: (n,) int64: the stamp of the effect that set `sections` (NO_STAMP: never set).
    sections_stamp: np.ndarray
    #: (n,) int32: `MemberState.first_day` (NO_DAY: none).
    first_day: np.ndarray
    #: (n,) int32: `MemberState.last_closed` (NO_DAY: none).
    last_closed: np.ndarray

    @classmethod
    def empty(cls, n: int) -> StateColumns:
        """`n` rows, each an empty state (`new_state()`)."""
        return cls(
            np.zeros((n, N_SIGNALS), np.float32),
            np.zeros((n, N_LEVELS), np.int32),
            np.zeros(n, np.int32),
            np.full(n, NO_STAMP, np.int64),
            np.full(n, NO_DAY, np.int32),
            np.full(n, NO_DAY, np.int32),
        )

    def __len__(self) -> int:
        return len(self.sections)


def from_states(states: Sequence[MemberState]) -> StateColumns:
    """The rows of `states`, in order."""
    n = len(states)
    columns = StateColumns.empty(n)
    if n:
        columns.decayed[:] = np.frombuffer(
            b"".join(state.decayed.tobytes() for state in states), np.float32
        ).reshape(n, N_SIGNALS)
        columns.levels[:] = np.frombuffer(
            b"".join(state.levels.tobytes() for state in states), np.int32
        ).reshape(n, N_LEVELS)
        columns.sections[:] = [state.profile.sections for state in states]
        columns.sections_stamp[:] = [state.profile.sections_stamp for state in states]
        columns.first_day[:] = [_day_code(state.first_day) for state in states]
        columns.last_closed[:] = [_day_code(state.last_closed) for state in states]
    return columns


def store_state(columns: StateColumns, row: int, state: MemberState) -> None:
    """Write `state`'s closed-day fields into `row`."""
    columns.decayed[row] = np.frombuffer(state.decayed, np.float32)
    columns.levels[row] = np.frombuffer(state.levels, np.int32)
    columns.sections[row] = state.profile.sections
    columns.sections_stamp[row] = state.profile.sections_stamp
    columns.first_day[row] = _day_code(state.first_day)
    columns.last_closed[row] = _day_code(state.last_closed)


def load_state(columns: StateColumns, row: int, state: MemberState) -> None:
    """Write `row` back into `state`; its open days, seniority and industry are left as they are."""
    state.decayed = array("f", columns.decayed[row].tobytes())
    state.levels = array("i", columns.levels[row].tobytes())
    state.profile.sections = int(columns.sections[row])
    state.profile.sections_stamp = int(columns.sections_stamp[row])
    state.first_day = _day_value(int(columns.first_day[row]))
    state.last_closed = _day_value(int(columns.last_closed[row]))


def to_state(columns: StateColumns, row: int) -> MemberState:
    """`row` as a new `MemberState` (no open days, no seniority or industry)."""
    state = MemberState(profile=ProfileFacts())
    load_state(columns, row, state)
    return state


def decay_rows(
    columns: StateColumns, rows: np.ndarray | None, days_elapsed: int | np.ndarray, model: Model
) -> None:
    """Decay `rows` (distinct; all when None) by `days_elapsed` days each (a scalar, or one per row), in
    place: bit for bit what `state._decay` does to each member's signals over the same days."""
    factors = np.asarray(_daily_decay(model), np.float64)
    forget_below = model.state.forget_below
    decayed = columns.decayed
    n = len(decayed) if rows is None else len(rows)
    days = np.broadcast_to(np.asarray(days_elapsed, np.int64), (n,))
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        chunk_days = days[start:stop]
        if rows is None and bool((chunk_days == 1).all()):
            decayed[start:stop] = _one_day(decayed[start:stop], factors, forget_below)
            continue
        chunk_rows = np.arange(start, stop) if rows is None else np.asarray(rows[start:stop], np.intp)
        due = chunk_days > 0
        active, remaining = chunk_rows[due], chunk_days[due]
        while len(active):
            after = _one_day(decayed[active], factors, forget_below)
            decayed[active] = after
            remaining = remaining - 1
            # `_decay` stops early once every signal is 0; so do the rows here (0 stays 0 anyway).
            going = (remaining > 0) & after.any(axis=1)
            active, remaining = active[going], remaining[going]


def decay_to(columns: StateColumns, rows: np.ndarray | None, day: int, model: Model) -> None:
    """`state._decay(state, day, ...)` for each row: decay by the days since its last close (none for a
    row never closed), then `last_closed = day`."""
    last_closed = columns.last_closed if rows is None else columns.last_closed[rows]
    closed_before = last_closed != NO_DAY
    elapsed = np.where(closed_before, np.int64(day) - last_closed.astype(np.int64), 0)
    decay_rows(columns, rows, elapsed, model)
    if rows is None:
        columns.last_closed[:] = day
    else:
        columns.last_closed[rows] = day


def fold_counts(columns: StateColumns, rows: np.ndarray, counts: np.ndarray) -> None:
    """`state._fold` of one open day's counts per row (`counts`: (len(rows), N_SLOTS) integers, the
    `OpenDay.counts` layout), without the profile (see `fold_sections`). `rows` must be distinct."""
    counts = np.asarray(counts)
    if counts.shape != (len(rows), N_SLOTS):
        raise ValueError(f"fold_counts: counts must have shape ({len(rows)}, {N_SLOTS}), got {counts.shape}")
    increments = counts[:, :N_SIGNALS].astype(np.float64)
    increments[:, Signal.ACTIVE_DAYS] = counts[:, Signal.ACTIVE_DAYS] > 0
    before = columns.decayed[rows].astype(np.float64)
    columns.decayed[rows] = np.where(increments != 0, before + increments, before).astype(np.float32)
    deltas = counts[:, N_SIGNALS:].astype(np.int64)
    levels = columns.levels[rows].astype(np.int64)
    moved = levels + deltas
    moved = np.where(moved > 0, moved, 0)
    if bool((moved > _INT32_MAX).any()):
        raise OverflowError("fold_counts: a level exceeds the int32 range of MemberState.levels")
    columns.levels[rows] = np.where(deltas != 0, moved, levels)


def fold_sections(columns: StateColumns, rows: np.ndarray, sections: np.ndarray, stamps: np.ndarray) -> None:
    """`ProfileFacts.merge` of the sections offered by one open day per row: the greater
    (stamp, sections) wins. A row whose day offered no sections passes NO_STAMP and 0."""
    sections = np.asarray(sections, np.int64)
    stamps = np.asarray(stamps, np.int64)
    old_sections = columns.sections[rows].astype(np.int64)
    old_stamps = columns.sections_stamp[rows]
    wins = (stamps > old_stamps) | ((stamps == old_stamps) & (sections > old_sections))
    columns.sections[rows] = np.where(wins, sections, old_sections)
    columns.sections_stamp[rows] = np.where(wins, stamps, old_stamps)


def _one_day(block: np.ndarray, factors: np.ndarray, forget_below: float) -> np.ndarray:
    """One day of `_decay` on float32 rows, as float64 (the caller's assignment rounds to float32): the
    product widened exactly, compared before the rounding; what is not `>= forget_below` (NaN included)
    is forgotten, except a 0 of either sign, which `_decay` skips."""
    product = np.multiply(block, factors)  # float32 x float64: widened exactly, then multiplied in float64
    forget = product >= forget_below
    np.logical_not(forget, out=forget)
    forget &= product != 0.0
    np.copyto(product, 0.0, where=forget)
    return product


def _day_code(day: int | None) -> int:
    return NO_DAY if day is None else day


def _day_value(code: int) -> int | None:
    return None if code == NO_DAY else code
