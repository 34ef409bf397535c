"""The laws the score must obey, on personas (calibration) and on arbitrary histories (properties)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.types import Seniority
from ssi_stream.scoring import Effect, EffectKind, ScoreCard, absorb, close_day, new_state, score
from ssi_stream.scoring.effects import REPLY
from ssi_stream.scoring.model import PILLARS
from tests.support.personas import GENUINE, INFLUENCER, LAPSED, OCCASIONAL, RECRUITER, SPAMMER, Persona

from .conftest import DAY, MODEL, RUN_DAYS, build_state, history, run_persona, seniorities

K = EffectKind


def points(card: ScoreCard) -> dict[str, float]:
    return {p.pillar: p.points for p in card.pillars}


# --- calibration on personas -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_consistent_genuine_social_seller_lands_between_70_and_85(seed: int) -> None:
    card = run_persona(GENUINE, seed=seed).card
    assert 70 <= card.ssi <= 85, points(card)


@pytest.mark.parametrize("seed", [0, 1])
def test_blind_volume_never_beats_genuine_engagement_in_total_or_any_pillar(seed: int) -> None:
    genuine, spammer = run_persona(GENUINE, seed=seed), run_persona(SPAMMER, seed=seed)
    for day in range(7, RUN_DAYS):
        ours, theirs = points(genuine.daily[day]), points(spammer.daily[day])
        assert spammer.daily[day].ssi < genuine.daily[day].ssi - 20, day
        for pillar in PILLARS:
            assert theirs[pillar] <= ours[pillar], (day, pillar, theirs, ours)


def test_spam_invitations_score_below_sending_none() -> None:
    quiet = replace(GENUINE, name="no invitations", invites=0)
    spamming = replace(quiet, name="blind invitations", invites=300, personalised=0.0, accepted=0.02)
    without, with_spam = points(run_persona(quiet).card), points(run_persona(spamming).card)
    assert with_spam["build_relationships"] < without["build_relationships"] - 5, (with_spam, without)
    assert with_spam["find_right_people"] <= without["find_right_people"]
    assert sum(with_spam.values()) < sum(without.values())


def test_unanswered_outreach_lowers_engagement() -> None:
    quiet = replace(GENUINE, name="no outreach", messages=0)
    pushy = replace(quiet, name="unanswered outreach", messages=40, replied=0.01)
    assert (
        points(run_persona(pushy).card)["engage_with_insights"]
        < points(run_persona(quiet).card)["engage_with_insights"] - 3
    )


@pytest.mark.parametrize(
    ("pillar", "habit"),
    [
        ("find_right_people", {"searches": 500, "fruitful": 1.0, "search_views": 1000}),
        ("engage_with_insights", {"reactions": 2000, "comments": 300, "shares": 100}),
        ("professional_brand", {"posts": 50, "sections": 3}),
        ("build_relationships", {"invites": 1000}),
    ],
)
def test_volume_alone_cannot_max_a_pillar(pillar: str, habit: dict[str, float]) -> None:
    grinder = Persona(f"volume in {pillar}", active=1.0, **habit)
    assert points(run_persona(grinder, days=28).card)[pillar] < 16


def test_a_member_who_stops_falls_week_after_week_without_a_cliff() -> None:
    stop = LAPSED.stops_after_day
    assert stop is not None
    run = run_persona(LAPSED, days=stop + 42)
    weekly = [run.daily[day].ssi for day in range(stop - 1, len(run.daily), 7)]
    assert all(later < earlier - 1 for earlier, later in pairwise(weekly)), weekly
    assert weekly[-1] < weekly[0] - 25, weekly
    daily_drops = [run.daily[d - 1].ssi - run.daily[d].ssi for d in range(stop, len(run.daily))]
    assert max(daily_drops) < 2.0, max(daily_drops)


def test_a_newcomer_with_a_complete_profile_leads_on_brand(persona_runs) -> None:
    scores = points(persona_runs["newcomer with a complete profile"].card)
    assert scores["professional_brand"] >= 5
    assert all(scores["professional_brand"] > scores[p] + 4 for p in PILLARS[1:]), scores


def test_personas_rank_as_their_habits_deserve(persona_runs) -> None:
    ssi = {name: run.card.ssi for name, run in persona_runs.items()}
    assert ssi["lurker"] < 20 and ssi["newcomer with a complete profile"] < 20
    assert ssi["lurker"] < ssi["occasional user"] < ssi[GENUINE.name]
    assert ssi[SPAMMER.name] < ssi[OCCASIONAL.name]
    assert ssi[LAPSED.name] < ssi[GENUINE.name] - 20
    brand = {name: points(run.card)["professional_brand"] for name, run in persona_runs.items()}
    assert max(brand, key=brand.__getitem__) == INFLUENCER.name
    recruiter = points(persona_runs[RECRUITER.name].card)
    assert recruiter["find_right_people"] > 18 > recruiter["professional_brand"]


# --- properties on arbitrary histories ---------------------------------------------------------------------


@given(history())
@settings(max_examples=80, deadline=None)
def test_pillars_stay_within_0_and_25_and_the_ssi_is_their_sum(days: list[list[Effect]]) -> None:
    card = score(build_state(days), MODEL)
    assert all(0 <= p.points <= 25 for p in card.pillars)
    assert card.ssi == pytest.approx(sum(p.points for p in card.pillars))
    assert 0 <= card.ssi <= 100


def _with_extra(days: list[list[Effect]], extra: list[Effect]) -> ScoreCard:
    return score(build_state([*days[:-1], days[-1] + extra]), MODEL)


def _genuine(kind: EffectKind, flags: int = 0) -> st.SearchStrategy[list[Effect]]:
    one = st.builds(
        lambda n, seniority: Effect("me", f"extra{n}/b", kind, DAY * 86_400, flags, seniority),
        st.integers(0, 10**6),
        seniorities,
    )
    return st.lists(one, min_size=1, max_size=30)


@pytest.mark.parametrize(
    ("kind", "flags"),
    [
        (K.MY_INVITE_ACCEPTED, 0),
        (K.MESSAGE_RECEIVED, REPLY),
        (K.MESSAGE_SENT, REPLY),
        (K.ENGAGEMENT_RECEIVED, 0),
    ],
    ids=["accepted invitations", "replies received", "replies sent", "engagement received"],
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_more_genuine_signals_never_lower_a_score(kind: EffectKind, flags: int, data: st.DataObject) -> None:
    days = data.draw(history())
    before, after = score(build_state(days), MODEL), _with_extra(days, data.draw(_genuine(kind, flags)))
    for old, new in zip(before.pillars, after.pillars, strict=True):
        assert new.points >= old.points - 1e-9, (old.pillar, old.points, new.points)
    assert after.ssi >= before.ssi - 1e-9


@given(history())
@settings(max_examples=30, deadline=None)
def test_scoring_is_deterministic(days: list[list[Effect]]) -> None:
    assert score(build_state(days), MODEL) == score(build_state(days), MODEL)


def test_an_empty_state_scores_zero_with_explanations() -> None:
    state = new_state()
    close_day(state, DAY, MODEL)
    card = score(state, MODEL)
    assert card.ssi == 0
    assert all(p.next_step and p.top_signals for p in card.pillars)


def test_decision_maker_connections_count_only_vp_and_above() -> None:
    def build_points(seniority: Seniority) -> float:
        state = new_state()
        for n in range(20):
            absorb(
                state,
                Effect("me", f"c{n}/a", K.INVITE_ACCEPTED_BY_ME, DAY * 86_400, 0, seniority),
                DAY,
                MODEL,
            )
        close_day(state, DAY, MODEL)
        return points(score(state, MODEL))["build_relationships"]

    assert build_points(Seniority.CXO) > build_points(Seniority.DIRECTOR) > 0


@pytest.mark.parametrize("kind", [K.MY_INVITE_ACCEPTED, K.MESSAGE_RECEIVED], ids=["invitations", "messages"])
def test_answers_turn_outreach_from_a_cost_into_a_gain(kind: EffectKind) -> None:
    outreach, pillar = (
        (K.INVITE_SENT, "build_relationships")
        if kind == K.MY_INVITE_ACCEPTED
        else (K.MESSAGE_SENT, "engage_with_insights")
    )

    def pillar_points(answer_rate: float) -> float:
        state = new_state()
        for day in range(DAY, DAY + 14):
            for n in range(50):
                absorb(state, Effect("me", f"{day}-{n}/a", outreach, day * 86_400), day, MODEL)
                if n < 50 * answer_rate:
                    absorb(state, Effect("me", f"{day}-{n}/b", kind, day * 86_400, REPLY), day, MODEL)
            close_day(state, day, MODEL)
        return points(score(state, MODEL))[pillar]

    ignored, answered = pillar_points(0.02), pillar_points(0.5)
    assert ignored < 1 and answered > 8, (ignored, answered)
