"""The score card: four pillars, their explanations, and the SSI (their sum)."""

from __future__ import annotations

from dataclasses import dataclass

from ssi_stream.scoring.explain import KEEP_GOING, best_action, top_signals
from ssi_stream.scoring.model import PILLARS, Model
from ssi_stream.scoring.pillars import PILLAR_RULES, Contribution, Signals, pillar_points, pillar_total
from ssi_stream.scoring.state import MemberState


@dataclass(frozen=True, slots=True)
class PillarScore:
    """One pillar's points (0-25), every contribution, the top ones, and the best next step."""

    pillar: str
    points: float
    contributions: tuple[Contribution, ...]
    top_signals: tuple[Contribution, ...]
    next_step: str
    #: The next step's action code (`explain.ACTIONS`), None to keep going, and the points it would gain.
    next_code: str | None = None
    gain: float = 0.0


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """A member's SSI as of their last closed day."""

    professional_brand: PillarScore
    find_right_people: PillarScore
    engage_with_insights: PillarScore
    build_relationships: PillarScore

    @property
    def pillars(self) -> tuple[PillarScore, ...]:
        return (
            self.professional_brand,
            self.find_right_people,
            self.engage_with_insights,
            self.build_relationships,
        )

    @property
    def ssi(self) -> float:
        """0-100: the sum of the four pillars."""
        return sum(p.points for p in self.pillars)


def score(state: MemberState, model: Model) -> ScoreCard:
    """Score the closed days of `state`; pure and deterministic."""
    sig = Signals.of(state)
    scores = []
    for pillar in PILLARS:
        contributions = PILLAR_RULES[pillar](sig, model)
        action, gain = best_action(pillar, sig, model, contributions)
        scores.append(
            PillarScore(
                pillar,
                pillar_points(contributions),
                contributions,
                top_signals(contributions),
                KEEP_GOING if action is None else action.sentence(sig, model),
                None if action is None else action.name,
                gain,
            )
        )
    return ScoreCard(*scores)


def pillar_totals(state: MemberState, model: Model) -> list[float]:
    """The four pillars' points alone, as `score` computes them (the same components, summed in the same
    order), without the contributions' texts and the explanations: about a fifth of `score`'s cost."""
    sig = Signals.of(state)
    return [pillar_total(pillar, sig, model) for pillar in PILLARS]
