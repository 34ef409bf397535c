"""Fixtures for the scoring core: the default model, persona runs (built once), effect strategies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import strategies as st

from ssi_stream.events.types import Seniority
from ssi_stream.scoring import Effect, EffectKind, MemberState, Model, ScoreCard, load_model, score
from ssi_stream.scoring.codec import decode_state, encode_state
from ssi_stream.scoring.effects import SECTIONS_GIVEN
from ssi_stream.scoring.state import absorb, close_day, new_state
from tests.support.personas import FIRST_DAY, PERSONAS, Persona, drive

#: Persona runs last ten weeks; the calibration laws read the last day.
RUN_DAYS = 70
MODEL = load_model()


@pytest.fixture(scope="session")
def model() -> Model:
    return MODEL


@dataclass(frozen=True)
class PersonaRun:
    """A persona driven for RUN_DAYS: the score card after each closed day, and the final state."""

    persona: Persona
    daily: tuple[ScoreCard, ...]
    final: MemberState

    @property
    def card(self) -> ScoreCard:
        return self.daily[-1]


def run_persona(persona: Persona, days: int = RUN_DAYS, seed: int = 0) -> PersonaRun:
    cards, state = [], new_state()
    for state in drive(persona, days, MODEL, seed=seed):
        cards.append(score(state, MODEL))
    return PersonaRun(persona, tuple(cards), decode_state(encode_state(state)))


@pytest.fixture(scope="session")
def persona_runs() -> dict[str, PersonaRun]:
    """Every persona in `tests.support.personas`, driven once per test session."""
    return {persona.name: run_persona(persona) for persona in PERSONAS}


# --- effects for property tests: arbitrary effects on member "me", within day DAY ---------------------------
DAY = FIRST_DAY + 10
_DAY_START = DAY * 86_400

seniorities = st.none() | st.sampled_from(list(Seniority))


@st.composite
def effects(draw: st.DrawFn, kinds: tuple[EffectKind, ...] = tuple(EffectKind), day: int = DAY) -> Effect:
    kind = draw(st.sampled_from(kinds))
    if kind == EffectKind.PROFILE_CHANGED:
        flags = draw(st.integers(0, SECTIONS_GIVEN - 1)) | draw(st.sampled_from((0, SECTIONS_GIVEN)))
        text = draw(st.none() | st.sampled_from(("Software", "Banking", "Retail")))
    else:
        flags, text = draw(st.integers(0, 7)), None
    return Effect(
        "me",
        f"e{draw(st.integers(0, 10**6))}/{draw(st.sampled_from('ab'))}",
        kind,
        day * 86_400 + draw(st.integers(0, 86_399)),
        flags,
        draw(seniorities),
        text,
    )


@st.composite
def _day(draw: st.DrawFn) -> list[Effect]:
    """A day's effects: a few of any kind, plus optional bulk outreach (where spam would show)."""
    day = draw(st.lists(effects(), max_size=25))
    for kind in (EffectKind.INVITE_SENT, EffectKind.MESSAGE_SENT):
        bulk = draw(st.sampled_from((0, 0, 5, 40, 300)))
        day += [Effect("me", f"bulk{kind}-{n}/a", kind, DAY * 86_400) for n in range(bulk)]
    return day


def history() -> st.SearchStrategy[list[list[Effect]]]:
    """A few weeks of effects: one list per day (some days empty), for building realistic states."""
    return st.lists(_day(), min_size=1, max_size=30)


def build_state(days: list[list[Effect]], model: Model = MODEL, first_day: int = DAY) -> MemberState:
    """Absorb each list into its own day and close it (effects' timestamps need not match the day)."""
    state = new_state()
    for offset, day_effects in enumerate(days):
        for effect in day_effects:
            absorb(state, effect, first_day + offset, model)
        close_day(state, first_day + offset, model)
    return state
