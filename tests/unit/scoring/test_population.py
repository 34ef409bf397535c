"""A realistic mixed population scores like LinkedIn's published distribution (Aug 2015).

LinkedIn: 46.7% of sales professionals scored 0-20, 51.9% 21-69 and 1.4% 70 or more ("leaders").
"""

from __future__ import annotations

import pytest

from ssi_stream.scoring import score
from tests.support.personas import drive, population

from .conftest import MODEL

MEMBERS, DAYS = 400, 56


@pytest.fixture(scope="module")
def ssi_scores() -> list[float]:
    """Final SSI of each member of a seeded population after eight weeks of activity."""
    scores = []
    for seed, persona in enumerate(population(MEMBERS, seed=0)):
        *_, state = drive(persona, DAYS, MODEL, seed=seed)
        scores.append(score(state, MODEL).ssi)
    return sorted(scores)


def share(scores: list[float], low: float, high: float) -> float:
    return sum(low <= s < high for s in scores) / len(scores)


@pytest.mark.slow
def test_most_members_score_low_and_a_small_group_leads_above_70(ssi_scores: list[float]) -> None:
    low, middle, leaders = share(ssi_scores, 0, 20.5), share(ssi_scores, 20.5, 70), share(ssi_scores, 70, 101)
    figures = f"0-20: {low:.1%}, 21-69: {middle:.1%}, 70+: {leaders:.1%}"
    assert 0.35 <= low <= 0.65, figures
    assert 0.30 <= middle <= 0.62, figures
    assert 0.003 <= leaders <= 0.05, figures
    assert 10 <= ssi_scores[len(ssi_scores) // 2] <= 30, figures
