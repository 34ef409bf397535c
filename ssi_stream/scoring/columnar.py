"""Pillar points, the SSI and the explanations' choices for many members at once, from `StateColumns`.

Every component of `pillars.COMPONENTS` is one array expression here, written operation for operation
like its scalar function (float32 signals widened to float64, the same products and sums in the same
order, Python's `min`/`max` as `np.where` so ties and signed zeros pick the same operand), so the points
are the same floats, not merely close ones. The one function numpy computes differently is `exp`: its
SIMD float64 `exp` is 1 ulp off `math.exp` on about 5% of inputs, so `_exp` uses numpy's complex128
`exp`, which calls the C library's `exp` like `math.exp` does — checked at import on a probe set, with
`math.exp` itself (mapped over the values, slower) as the fallback where the check fails.

Sums follow the builtin `sum` of the running interpreter (left to right before Python 3.12, Neumaier's
compensated sum from 3.12), the record's rounding follows `round(x, 2)` exactly, top signals are a stable
sort by |points| (ties keep the declared order) and the next step is `explain.next_step`'s strict
`gain > best` scan from MEANINGFUL_GAIN in the declared order of `explain.ACTIONS`, each action's change
applied to a copy of the columns it touches and only the components it can move scored again.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from itertools import accumulate

import numpy as np

from ssi_stream.scoring import explain
from ssi_stream.scoring.columns import CHUNK_ROWS, StateColumns
from ssi_stream.scoring.effects import PROFILE_SECTIONS
from ssi_stream.scoring.explain import ACTIONS, KEEP_GOING, MEANINGFUL_GAIN, TOP_SIGNALS, WHAT_IFS, Action
from ssi_stream.scoring.model import PILLAR_MAX, PILLARS, Model, Prior
from ssi_stream.scoring.pillars import COMPONENTS, Signals
from ssi_stream.scoring.state import N_LEVELS, N_SIGNALS, Level, Signal

#: (pillar, component) of each column of `component_points`: PILLARS order, then each pillar's
#: `COMPONENTS` order.
COMPONENT_NAMES: tuple[tuple[str, str], ...] = tuple(
    (pillar, component.name) for pillar in PILLARS for component in COMPONENTS[pillar]
)
N_COMPONENTS = len(COMPONENT_NAMES)
#: The columns of each pillar's components in `component_points`, in PILLARS order.
PILLAR_COLUMNS: tuple[slice, ...] = tuple(
    slice(stop - len(COMPONENTS[pillar]), stop)
    for pillar, stop in zip(PILLARS, accumulate(len(COMPONENTS[p]) for p in PILLARS), strict=True)
)
#: `next_step` code of "keep going" (no action gains MEANINGFUL_GAIN); other codes index ACTIONS[pillar].
KEEP_GOING_CODE = -1
_ALL_SECTIONS = (1 << len(PROFILE_SECTIONS)) - 1


# --- exp, sum and round exactly as the scalar code computes them -------------------------------------------


def _exp_complex(x: np.ndarray) -> np.ndarray:
    z = x.astype(np.complex128)
    np.exp(z, out=z)
    return z.real


def _exp_math(x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(math.exp, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((np.ascontiguousarray(a).view(np.int64) == np.ascontiguousarray(b).view(np.int64)).all())


def _choose_exp() -> tuple[str, Callable[[np.ndarray], np.ndarray]]:
    rng = np.random.default_rng(20250106)
    probe = -np.concatenate(
        (np.linspace(0.0, 50.0, 5001), rng.random(20_000) * 3.0, rng.random(20_000) * 60.0, [700.0, 746.0])
    )
    if _same_bits(_exp_complex(probe), _exp_math(probe)):
        return "complex128", _exp_complex
    return "math.exp", _exp_math


#: How `_exp` computes: "complex128" (numpy, bit-identical to math.exp on the probe) or "math.exp".
EXP_BACKEND, _exp = _choose_exp()

if sys.version_info >= (3, 12):

    def float_sum(terms: Sequence[np.ndarray]) -> np.ndarray:
        """The builtin `sum` of the terms, elementwise: Neumaier's compensated sum (Python ≥ 3.12)."""
        total = 0.0 + terms[0]
        compensation = np.zeros_like(total)
        for term in terms[1:]:
            step = total + term
            compensation = compensation + np.where(
                np.abs(total) >= np.abs(term), (total - step) + term, (term - step) + total
            )
            total = step
        return np.where((compensation != 0) & np.isfinite(compensation), total + compensation, total)

else:

    def float_sum(terms: Sequence[np.ndarray]) -> np.ndarray:
        """The builtin `sum` of the terms, elementwise: left to right from 0 (Python 3.11)."""
        total = 0.0 + terms[0]
        for term in terms[1:]:
            total = total + term
        return total


_SPLITTER = 134_217_729.0  # 2**27 + 1: Dekker's split of a float64 into two 26-bit halves


def round2(values: np.ndarray) -> np.ndarray:
    """`round(value, 2)` elementwise, exactly (finite values below 2**44): the exact decimal rounding,
    half-even, of the float's exact value, not of `value * 100` rounded to a float."""
    scaled = values * 100.0
    split = _SPLITTER * values
    high = split - (split - values)
    error = (high * 100.0 - scaled) + (values - high) * 100.0  # values * 100 == scaled + error, exactly
    rounded = np.rint(scaled)
    halfway = np.abs(scaled - rounded) == 0.5
    rounded = np.where(halfway & (error > 0), np.floor(scaled) + 1.0, rounded)
    rounded = np.where(halfway & (error < 0), np.floor(scaled), rounded)
    return rounded / 100.0


def record_pillars(totals: np.ndarray) -> np.ndarray:
    """The record's pillars: `record._round` of each (2 decimals, no -0.0)."""
    rounded = round2(totals)
    return np.where(rounded == 0, 0.0, rounded)


def record_ssi(totals: np.ndarray) -> np.ndarray:
    """`record.record_ssi` of each row of (n, 4) pillar totals: the sum of the rounded pillars, rounded."""
    rounded = record_pillars(totals)
    return record_pillars(float_sum([rounded[:, i] for i in range(rounded.shape[1])]))


# --- columnar signals and the components -------------------------------------------------------------------


class _Signals:
    """`pillars.Signals` as float64 columns: one array per signal and per level, the sections as ints.
    A what-if copy replaces whole columns and never writes into one, so copies share the rest."""

    __slots__ = ("decayed", "levels", "sections")

    def __init__(self, decayed: list[np.ndarray], levels: list[np.ndarray], sections: np.ndarray) -> None:
        self.decayed, self.levels, self.sections = decayed, levels, sections

    @classmethod
    def of(cls, columns: StateColumns, start: int, stop: int) -> _Signals:
        decayed = np.array(columns.decayed[start:stop].T, dtype=np.float64, order="C")
        levels = np.array(columns.levels[start:stop].T, dtype=np.float64, order="C")
        return cls(list(decayed), list(levels), columns.sections[start:stop].astype(np.int64))

    def copy(self) -> _Signals:
        return _Signals(self.decayed.copy(), self.levels.copy(), self.sections)


def _max0(value: np.ndarray) -> np.ndarray:
    """`max(0.0, value)`: value if value > 0.0, else 0.0."""
    return np.where(value > 0.0, value, 0.0)


def _min1(value: np.ndarray) -> np.ndarray:
    """`min(1.0, value)`: value if value < 1.0, else 1.0."""
    return np.where(value < 1.0, value, 1.0)


def _saturate(value: np.ndarray, saturation: float) -> np.ndarray:
    return np.where(value > 0, 1.0 - _exp(-value / saturation), 0.0)


def _smoothed_rate(successes: np.ndarray, trials: np.ndarray, prior: Prior) -> np.ndarray:
    return (successes + prior.rate * prior.weight) / (trials + prior.weight)


def _ratio(value: np.ndarray, target: float) -> np.ndarray:
    return _min1(_max0(value / target))


def _content_volume(sig: _Signals, model: Model) -> np.ndarray:
    q, d = model.pillars.professional_brand.quality, sig.decayed
    return d[Signal.POSTS] + q.article_weight * d[Signal.ARTICLES] + q.reshare_weight * d[Signal.RESHARES]


def _engagement_received(sig: _Signals, model: Model) -> np.ndarray:
    q, d = model.pillars.professional_brand.quality, sig.decayed
    return (
        q.comment_weight * d[Signal.COMMENTS_RECEIVED]
        + q.reaction_weight * d[Signal.REACTIONS_RECEIVED]
        + q.share_weight * d[Signal.SHARES_RECEIVED]
    )


def _profile_completeness_points(sig: _Signals, model: Model) -> np.ndarray:
    weight = model.pillars.professional_brand.weights.profile_completeness
    return weight * np.bitwise_count(sig.sections) / len(PROFILE_SECTIONS)


def _recommendations_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.professional_brand
    return p.weights.recommendations * _saturate(
        sig.levels[Level.RECOMMENDATIONS], p.saturation.recommendations
    )


def _content_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.professional_brand
    volume = _content_volume(sig, model)
    per_post = _smoothed_rate(_engagement_received(sig, model), volume, model.priors.engagement_per_post)
    content_quality = _ratio(per_post, p.quality.engagement_per_post_target)
    return p.weights.content * _saturate(volume, p.saturation.content) * content_quality


def _engagement_received_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.professional_brand
    return p.weights.engagement_received * _saturate(
        _engagement_received(sig, model), p.saturation.engagement_received
    )


def _followers_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.professional_brand
    return p.weights.followers * _saturate(sig.levels[Level.FOLLOWERS], p.saturation.followers)


def _invitation_acceptance(sig: _Signals, model: Model) -> np.ndarray:
    d = sig.decayed
    return _min1(
        _smoothed_rate(d[Signal.INVITES_ACCEPTED], d[Signal.INVITES_SENT], model.priors.invitation_acceptance)
    )


def _targeting(sig: _Signals, model: Model) -> np.ndarray:
    return _ratio(
        _invitation_acceptance(sig, model), model.pillars.find_right_people.quality.acceptance_target
    )


def _people_searches(sig: _Signals) -> np.ndarray:
    return sig.decayed[Signal.PEOPLE_SEARCHES] + sig.decayed[Signal.COMPANY_SEARCHES]


def _people_searches_points(sig: _Signals, model: Model) -> np.ndarray:
    p, d = model.pillars.find_right_people, sig.decayed
    searches = _people_searches(sig)
    all_searches = searches + d[Signal.CONTENT_SEARCHES] + d[Signal.JOB_SEARCHES]
    success = _smoothed_rate(d[Signal.FRUITFUL_SEARCHES], all_searches, model.priors.search_success)
    search_quality = _ratio(success, p.quality.search_success_target)
    return (
        p.weights.people_searches
        * _saturate(searches, p.saturation.people_searches)
        * search_quality
        * _targeting(sig, model)
    )


def _prospecting_views_points(sig: _Signals, model: Model) -> np.ndarray:
    p, d = model.pillars.find_right_people, sig.decayed
    views = d[Signal.VIEWS_FROM_SEARCH] + p.quality.other_view_weight * d[Signal.VIEWS_OTHER]
    return (
        p.weights.prospecting_views
        * _saturate(views, p.saturation.prospecting_views)
        * _targeting(sig, model)
    )


def _days_active_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.find_right_people
    return p.weights.days_active * _saturate(sig.decayed[Signal.ACTIVE_DAYS], p.saturation.days_active)


def _decision_makers_reached_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.find_right_people
    return p.weights.decision_makers_reached * _saturate(
        sig.decayed[Signal.DECISION_MAKERS_CONNECTED], p.saturation.decision_makers_reached
    )


def _engagement_given_points(sig: _Signals, model: Model) -> np.ndarray:
    p, d = model.pillars.engage_with_insights, sig.decayed
    q = p.quality
    given = (
        q.comment_weight * d[Signal.COMMENTS_GIVEN]
        + q.reaction_weight * d[Signal.REACTIONS_GIVEN]
        + q.share_weight * d[Signal.SHARES_GIVEN]
    )
    return p.weights.engagement_given * _saturate(given, p.saturation.engagement_given)


def _conversations_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.engage_with_insights
    return p.weights.conversations * _saturate(
        sig.decayed[Signal.REPLIES_RECEIVED], p.saturation.conversations
    )


def _responsiveness_points(sig: _Signals, model: Model) -> np.ndarray:
    p, d = model.pillars.engage_with_insights, sig.decayed
    answered = _min1(
        _smoothed_rate(d[Signal.REPLIES_SENT], d[Signal.MESSAGES_RECEIVED], model.priors.responsiveness)
    )
    return (
        p.weights.responsiveness
        * _saturate(d[Signal.REPLIES_SENT], p.saturation.responsiveness)
        * _ratio(answered, p.quality.responsiveness_target)
    )


def _groups_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.engage_with_insights
    return p.weights.groups * _saturate(sig.levels[Level.GROUPS], p.saturation.groups)


def _unanswered_messages_points(sig: _Signals, model: Model) -> np.ndarray:
    p, d = model.pillars.engage_with_insights, sig.decayed
    initiated = d[Signal.MESSAGES_INITIATED]
    reply_rate = _min1(_smoothed_rate(d[Signal.REPLIES_RECEIVED], initiated, model.priors.message_reply))
    unanswered = initiated * _max0(1.0 - reply_rate / p.quality.reply_rate_threshold)
    return -p.weights.unanswered_messages * _saturate(unanswered, p.saturation.unanswered_messages)


def _invitation_quality(sig: _Signals, model: Model) -> np.ndarray:
    return _ratio(
        _invitation_acceptance(sig, model), model.pillars.build_relationships.quality.acceptance_target
    )


def _connections_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.build_relationships
    return p.weights.connections * _saturate(sig.levels[Level.CONNECTIONS], p.saturation.connections)


def _decision_maker_connections_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.build_relationships
    return p.weights.decision_maker_connections * _saturate(
        sig.levels[Level.DECISION_MAKER_CONNECTIONS], p.saturation.decision_maker_connections
    )


def _accepted_invitations_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.build_relationships
    return (
        p.weights.accepted_invitations
        * _saturate(sig.decayed[Signal.INVITES_ACCEPTED], p.saturation.accepted_invitations)
        * _invitation_quality(sig, model)
    )


def _acceptance_rate_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.build_relationships
    return (
        p.weights.acceptance_rate
        * _saturate(sig.decayed[Signal.INVITES_SENT], p.saturation.acceptance_rate)
        * _invitation_quality(sig, model)
    )


def _invitations_accepted_by_you_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.build_relationships
    return p.weights.invitations_accepted_by_you * _saturate(
        sig.decayed[Signal.INVITES_ACCEPTED_BY_ME], p.saturation.invitations_accepted_by_you
    )


def _blind_invitations_points(sig: _Signals, model: Model) -> np.ndarray:
    p = model.pillars.build_relationships
    shortfall = _max0(1.0 - _invitation_acceptance(sig, model) / p.quality.acceptance_threshold)
    blind = sig.decayed[Signal.INVITES_SENT] * shortfall
    return -p.weights.blind_invitations * _saturate(blind, p.saturation.blind_invitations)


_Points = Callable[[_Signals, Model], np.ndarray]
_VECTOR_POINTS: dict[tuple[str, str], _Points] = {
    ("professional_brand", "profile_completeness"): _profile_completeness_points,
    ("professional_brand", "recommendations"): _recommendations_points,
    ("professional_brand", "content"): _content_points,
    ("professional_brand", "engagement_received"): _engagement_received_points,
    ("professional_brand", "followers"): _followers_points,
    ("find_right_people", "people_searches"): _people_searches_points,
    ("find_right_people", "prospecting_views"): _prospecting_views_points,
    ("find_right_people", "days_active"): _days_active_points,
    ("find_right_people", "decision_makers_reached"): _decision_makers_reached_points,
    ("engage_with_insights", "engagement_given"): _engagement_given_points,
    ("engage_with_insights", "conversations"): _conversations_points,
    ("engage_with_insights", "responsiveness"): _responsiveness_points,
    ("engage_with_insights", "groups"): _groups_points,
    ("engage_with_insights", "unanswered_messages"): _unanswered_messages_points,
    ("build_relationships", "connections"): _connections_points,
    ("build_relationships", "decision_maker_connections"): _decision_maker_connections_points,
    ("build_relationships", "accepted_invitations"): _accepted_invitations_points,
    ("build_relationships", "acceptance_rate"): _acceptance_rate_points,
    ("build_relationships", "invitations_accepted_by_you"): _invitations_accepted_by_you_points,
    ("build_relationships", "blind_invitations"): _blind_invitations_points,
}
if set(_VECTOR_POINTS) != set(COMPONENT_NAMES):
    raise RuntimeError(
        "columnar: pillars.COMPONENTS and columnar._VECTOR_POINTS differ "
        f"({sorted(set(COMPONENT_NAMES) ^ set(_VECTOR_POINTS))}): give every component its array form"
    )
#: Each pillar's component functions in COMPONENTS order.
_PILLAR_POINTS: dict[str, tuple[_Points, ...]] = {
    pillar: tuple(_VECTOR_POINTS[pillar, component.name] for component in COMPONENTS[pillar])
    for pillar in PILLARS
}


# --- the what-if actions -----------------------------------------------------------------------------------

_Change = Callable[[_Signals, Model], _Signals]
_Applies = Callable[[_Signals, Model], np.ndarray]


def _complete_profile(sig: _Signals, model: Model) -> _Signals:
    after = sig.copy()
    after.sections = np.full_like(sig.sections, _ALL_SECTIONS)
    return after


def _capped(sig: _Signals, capped: Signal, by: Signal, threshold: float) -> _Signals:
    """`min(sig[capped], sig[by] / threshold)` in place of `capped` (Python's min: the first unless the
    second is smaller)."""
    after = sig.copy()
    current, allowed = sig.decayed[capped], sig.decayed[by] / threshold
    after.decayed[capped] = np.where(allowed < current, allowed, current)
    return after


def _stop_unanswered_messages(sig: _Signals, model: Model) -> _Signals:
    threshold = model.pillars.engage_with_insights.quality.reply_rate_threshold
    return _capped(sig, Signal.MESSAGES_INITIATED, Signal.REPLIES_RECEIVED, threshold)


def _stop_blind_invitations(sig: _Signals, model: Model) -> _Signals:
    threshold = model.pillars.build_relationships.quality.acceptance_threshold
    return _capped(sig, Signal.INVITES_SENT, Signal.INVITES_ACCEPTED, threshold)


#: The array forms of explain's changes that are not plain additions (matched by identity).
_SPECIAL_CHANGES: dict[int, _Change] = {
    id(explain.COMPLETE_PROFILE): _complete_profile,
    id(explain.STOP_UNANSWERED_MESSAGES): _stop_unanswered_messages,
    id(explain.STOP_BLIND_INVITATIONS): _stop_blind_invitations,
}
#: The array forms of explain's `applies` conditions, by action name (every other action always applies).
_VECTOR_APPLIES: dict[str, _Applies] = {
    "complete_profile": lambda sig, model: sig.sections != _ALL_SECTIONS,
    "reply": lambda sig, model: sig.decayed[Signal.MESSAGES_RECEIVED] > sig.decayed[Signal.REPLIES_SENT] + 1,
    "accept_invitations": lambda sig, model: (
        sig.decayed[Signal.INVITES_RECEIVED] > sig.decayed[Signal.INVITES_ACCEPTED_BY_ME] + 1
    ),
}
_ALWAYS = next(f.default for f in fields(Action) if f.name == "applies")


def _additions(action: Action) -> tuple[tuple[tuple[int, float], ...], tuple[tuple[int, int], ...]]:
    """What an additive change adds to each signal and level, read by applying it to probe signals."""

    def probe(decayed: list[float], levels: list[int]) -> tuple[Signals, Signals]:
        before = Signals(decayed, levels, 0b1010)
        after = before.copy()
        action.change.apply(after, None)  # type: ignore[arg-type]  # additions read no model
        return before, after

    _, added = probe([0.0] * N_SIGNALS, [0] * N_LEVELS)
    signals = tuple((i, v) for i, v in enumerate(added.decayed) if v != 0.0)
    levels = tuple((i, v) for i, v in enumerate(added.levels) if v != 0)
    for decayed, level_values in (
        ([float(i + 1) for i in range(N_SIGNALS)], [i + 7 for i in range(N_LEVELS)]),
        ([1000.25 * i for i in range(N_SIGNALS)], [3 * i for i in range(N_LEVELS)]),
    ):
        before, after = probe(decayed, level_values)
        expected_signals = list(before.decayed)
        for i, amount in signals:
            expected_signals[i] += amount
        expected_levels = list(before.levels)
        for i, amount in levels:
            expected_levels[i] += amount
        if after.decayed != expected_signals or after.levels != expected_levels or after.sections != 0b1010:
            raise RuntimeError(
                f"columnar: the change of action {action.name!r} is not an addition; give it an array form "
                "in columnar._SPECIAL_CHANGES"
            )
    touched = action.change.touches
    if not {Signal(i) for i, _ in signals} <= touched.signals or not {Level(i) for i, _ in levels} <= (
        touched.levels
    ):
        raise RuntimeError(f"columnar: action {action.name!r} changes inputs its `touches` does not name")
    return signals, levels


def _addition(action: Action) -> _Change:
    signals, levels = _additions(action)

    def apply(sig: _Signals, model: Model) -> _Signals:
        after = sig.copy()
        for i, amount in signals:
            after.decayed[i] = sig.decayed[i] + amount
        for i, amount in levels:
            after.levels[i] = sig.levels[i] + amount
        return after

    return apply


@dataclass(frozen=True, slots=True)
class _WhatIf:
    """An action's array form: when it applies, what it changes, which components it scores again."""

    applies: _Applies | None
    change: _Change
    rescored: tuple[tuple[int, _Points], ...]


def _what_if(pillar: str, position: int) -> _WhatIf:
    what_if = WHAT_IFS[pillar][position]
    action = what_if.action
    if action.applies is _ALWAYS:
        applies = None
    elif action.name in _VECTOR_APPLIES:
        applies = _VECTOR_APPLIES[action.name]
    else:
        raise RuntimeError(f"columnar: action {action.name!r} has a condition with no array form")
    change = _SPECIAL_CHANGES.get(id(action.change)) or _addition(action)
    points = _PILLAR_POINTS[pillar]
    return _WhatIf(applies, change, tuple((i, points[i]) for i, _ in what_if.rescored))


_WHAT_IFS: dict[str, tuple[_WhatIf, ...]] = {
    pillar: tuple(_what_if(pillar, i) for i in range(len(WHAT_IFS[pillar]))) for pillar in PILLARS
}
assert tuple(ACTIONS) == PILLARS


# --- scores and explanations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnarScores:
    """Per member (row): every component's points, the pillars, the record's SSI, and the explanations'
    choices as codes (names: `COMPONENTS[pillar][i].name`, `ACTIONS[pillar][code].name`)."""

    #: (n, N_COMPONENTS) float64: `Component.points` of each column of COMPONENT_NAMES.
    points: np.ndarray
    #: (n, 4) float64: `card.pillar_totals` (PILLARS order), the cards' `PillarScore.points`.
    pillars: np.ndarray
    #: (n,) float64: `record.record_ssi` of the pillars.
    ssi: np.ndarray
    #: (n, 4, TOP_SIGNALS) int8: each pillar's top signals, as positions in COMPONENTS[pillar].
    top_signals: np.ndarray
    #: (n, 4) int8: each pillar's next step, a position in ACTIONS[pillar] or KEEP_GOING_CODE.
    next_step: np.ndarray
    #: (n, 4) float64: the gain of that next step (0.0 for KEEP_GOING_CODE).
    gain: np.ndarray


def score_columns(columns: StateColumns, model: Model) -> ColumnarScores:
    """Score every row of `columns` as `card.score` would, in whole-array passes of CHUNK_ROWS rows."""
    n = len(columns)
    points = np.empty((n, N_COMPONENTS), np.float64)
    pillars = np.empty((n, len(PILLARS)), np.float64)
    top = np.empty((n, len(PILLARS), TOP_SIGNALS), np.int8)
    codes = np.empty((n, len(PILLARS)), np.int8)
    gains = np.empty((n, len(PILLARS)), np.float64)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        sig = _Signals.of(columns, start, stop)
        for p, pillar in enumerate(PILLARS):
            pillar_points = [points_of(sig, model) for points_of in _PILLAR_POINTS[pillar]]
            points[start:stop, PILLAR_COLUMNS[p]] = np.column_stack(pillar_points)
            pillars[start:stop, p] = _pillar_total(pillar_points)
            top[start:stop, p] = _top_signals(points[start:stop, PILLAR_COLUMNS[p]])
            codes[start:stop, p], gains[start:stop, p] = _next_step(pillar, sig, model, pillar_points)
    return ColumnarScores(points, pillars, record_ssi(pillars), top, codes, gains)


def component_points(columns: StateColumns, model: Model) -> np.ndarray:
    """(n, N_COMPONENTS): every component's points per row (columns as COMPONENT_NAMES)."""
    n = len(columns)
    points = np.empty((n, N_COMPONENTS), np.float64)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        sig = _Signals.of(columns, start, stop)
        for p, pillar in enumerate(PILLARS):
            points[start:stop, PILLAR_COLUMNS[p]] = np.column_stack(
                [points_of(sig, model) for points_of in _PILLAR_POINTS[pillar]]
            )
    return points


def pillar_totals(columns: StateColumns, model: Model) -> np.ndarray:
    """(n, 4): `card.pillar_totals` per row."""
    return pillar_totals_of(component_points(columns, model))


def pillar_totals_of(points: np.ndarray) -> np.ndarray:
    """(n, 4) pillar totals from `component_points` output: each pillar's points summed in order and
    clamped to 0-25, as `pillars.pillar_total`."""
    return np.column_stack(
        [_pillar_total([points[:, i] for i in range(s.start, s.stop)]) for s in PILLAR_COLUMNS]
    )


def top_signals(points: np.ndarray) -> np.ndarray:
    """(n, 4, TOP_SIGNALS) int8 from `component_points` output: `explain.top_signals` as positions."""
    return np.stack([_top_signals(points[:, s]) for s in PILLAR_COLUMNS], axis=1)


def next_steps(columns: StateColumns, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """((n, 4) int8 codes, (n, 4) float64 gains): `explain.next_step` per row and pillar."""
    scores = score_columns(columns, model)
    return scores.next_step, scores.gain


def next_step_text(columns: StateColumns, row: int, pillar: str, code: int, model: Model) -> str:
    """The sentence `explain.next_step` gives for `code` (some sentences quote the member's figures)."""
    if code == KEEP_GOING_CODE:
        return KEEP_GOING
    sig = Signals(columns.decayed[row].tolist(), columns.levels[row].tolist(), int(columns.sections[row]))
    return ACTIONS[pillar][code].sentence(sig, model)


def _pillar_total(points: Sequence[np.ndarray]) -> np.ndarray:
    """`pillars.pillar_total`: `min(PILLAR_MAX, max(0.0, sum(points)))`."""
    total = _max0(float_sum(points))
    return np.where(total < PILLAR_MAX, total, PILLAR_MAX)


def _uncapped_below(points: Sequence[np.ndarray]) -> np.ndarray:
    """`explain._uncapped_below`: `min(PILLAR_MAX, sum(points))`, no floor."""
    total = float_sum(points)
    return np.where(total < PILLAR_MAX, total, PILLAR_MAX)


def _top_signals(points: np.ndarray) -> np.ndarray:
    """Positions of the TOP_SIGNALS largest |points| per row, a stable sort (ties: declared order)."""
    return np.argsort(-np.abs(points), axis=1, kind="stable")[:, :TOP_SIGNALS].astype(np.int8)


def _next_step(
    pillar: str, sig: _Signals, model: Model, points: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    base = _uncapped_below(points)
    best_gain = np.full(base.shape, MEANINGFUL_GAIN)
    best = np.full(base.shape, KEEP_GOING_CODE, np.int8)
    for code, what_if in enumerate(_WHAT_IFS[pillar]):
        after_sig = what_if.change(sig, model)
        after = list(points)
        for position, points_of in what_if.rescored:
            after[position] = points_of(after_sig, model)
        gain = _uncapped_below(after) - base
        better = gain > best_gain
        if what_if.applies is not None:
            better &= what_if.applies(sig, model)
        best_gain = np.where(better, gain, best_gain)
        best = np.where(better, np.int8(code), best)
    return best, np.where(best == KEEP_GOING_CODE, 0.0, best_gain)
