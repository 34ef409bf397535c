"""A member's scored day as codes and numbers, no prose: what a score record (v2) says about each pillar.

Two producers give the same `ScoredDay`, bit for bit: `from_card` (one member, `card.score`: the query
API, a record rebuilt after a crash) and `from_columns` (a whole partition's day close,
`scoring.columnar`). Texts are rendered from the codes where people read them (a message catalog).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ssi_stream.scoring.card import ScoreCard
from ssi_stream.scoring.columnar import KEEP_GOING_CODE, PILLAR_COLUMNS, ColumnarScores
from ssi_stream.scoring.explain import ACTIONS
from ssi_stream.scoring.model import PILLARS, Model
from ssi_stream.scoring.pillars import (
    COMPONENTS,
    LEVEL,
    SIGNAL,
    Signals,
    blind_invitations,
    completed_sections,
    content_volume,
    engagement_given,
    engagement_received,
    invitation_acceptance,
    people_searches,
    prospecting_views,
    unanswered_messages,
)
from ssi_stream.scoring.record import record_ssi

#: Each component's `value` (what its explanation quotes), as the pillar rules compute it.
SIGNAL_VALUES: dict[str, Callable[[Signals, Model], float]] = {
    "profile_completeness": lambda sig, model: completed_sections(sig),
    "recommendations": lambda sig, model: sig.levels[LEVEL.RECOMMENDATIONS],
    "content": content_volume,
    "engagement_received": engagement_received,
    "followers": lambda sig, model: sig.levels[LEVEL.FOLLOWERS],
    "people_searches": lambda sig, model: people_searches(sig),
    "prospecting_views": prospecting_views,
    "days_active": lambda sig, model: sig.decayed[SIGNAL.ACTIVE_DAYS],
    "decision_makers_reached": lambda sig, model: sig.decayed[SIGNAL.DECISION_MAKERS_CONNECTED],
    "engagement_given": engagement_given,
    "conversations": lambda sig, model: sig.decayed[SIGNAL.REPLIES_RECEIVED],
    "responsiveness": lambda sig, model: sig.decayed[SIGNAL.REPLIES_SENT],
    "groups": lambda sig, model: sig.levels[LEVEL.GROUPS],
    "unanswered_messages": unanswered_messages,
    "connections": lambda sig, model: sig.levels[LEVEL.CONNECTIONS],
    "decision_maker_connections": lambda sig, model: sig.levels[LEVEL.DECISION_MAKER_CONNECTIONS],
    "accepted_invitations": lambda sig, model: sig.decayed[SIGNAL.INVITES_ACCEPTED],
    "acceptance_rate": invitation_acceptance,
    "invitations_accepted_by_you": lambda sig, model: sig.decayed[SIGNAL.INVITES_ACCEPTED_BY_ME],
    "blind_invitations": blind_invitations,
}
if set(SIGNAL_VALUES) != {component.name for pillar in PILLARS for component in COMPONENTS[pillar]}:
    raise RuntimeError("scored_day: every component of pillars.COMPONENTS needs its value in SIGNAL_VALUES")


@dataclass(frozen=True, slots=True)
class PillarDay:
    """One pillar of a scored day: its points, its top signals and its next step, unrounded."""

    points: float
    #: (signal code, value, points) of the top signals (`explain.top_signals`) that earn or cost points.
    top: tuple[tuple[str, float, float], ...]
    #: The best next step's action code (`explain.ACTIONS`), None to keep going, and its gain in points.
    next_step: str | None
    gain: float


@dataclass(frozen=True, slots=True)
class ScoredDay:
    """A member's four pillars on their last closed day (PILLARS order)."""

    pillars: tuple[PillarDay, ...]

    @property
    def ssi(self) -> float:
        """The record's SSI: the sum of the rounded pillars, rounded."""
        return record_ssi(p.points for p in self.pillars)


def from_card(card: ScoreCard) -> ScoredDay:
    """The scored day of one member's card."""
    return ScoredDay(
        tuple(
            PillarDay(
                p.points,
                tuple((c.signal, float(c.value), c.points) for c in p.top_signals if c.points != 0),
                p.next_code,
                p.gain,
            )
            for p in card.pillars
        )
    )


def from_columns(scores: ColumnarScores, row: int, sig: Signals, model: Model) -> ScoredDay:
    """The scored day of `row` of a columnar close (`sig`: that member's signals, for the values)."""
    pillars = []
    points = scores.points[row]
    for p, pillar in enumerate(PILLARS):
        components = COMPONENTS[pillar]
        first = PILLAR_COLUMNS[p].start
        top = []
        for position in scores.top_signals[row, p].tolist():
            earned = float(points[first + position])
            if earned != 0:
                name = components[position].name
                top.append((name, float(SIGNAL_VALUES[name](sig, model)), earned))
        code = int(scores.next_step[row, p])
        action = None if code == KEEP_GOING_CODE else ACTIONS[pillar][code].name
        gain = float(scores.gain[row, p])
        pillars.append(PillarDay(float(scores.pillars[row, p]), tuple(top), action, gain))
    return ScoredDay(tuple(pillars))
