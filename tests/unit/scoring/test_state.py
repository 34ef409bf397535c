"""Member state: counting in open days, closing days in event time, and the compact encoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.types import Seniority
from ssi_stream.scoring import (
    Effect,
    EffectKind,
    absorb,
    close_day,
    decode_state,
    encode_state,
    has_history,
    new_state,
    score,
)
from ssi_stream.scoring.effects import FRUITFUL, REPLY, SECTIONS_GIVEN
from ssi_stream.scoring.state import Level, MemberState, Signal
from tests.support.personas import PERSONAS

from .conftest import DAY, MODEL, build_state, effects, history

K = EffectKind


def fx(
    kind: EffectKind, n: int = 0, flags: int = 0, seniority: Seniority | None = None, at: int = DAY * 86_400
) -> Effect:
    return Effect("me", f"e{n}/a", kind, at, flags, seniority)


def card_points(state: MemberState) -> tuple[float, ...]:
    return tuple(p.points for p in score(state, MODEL).pillars)


def test_open_days_do_not_count_until_closed() -> None:
    state = new_state()
    absorb(state, fx(K.INVITE_SENT), DAY, MODEL)
    assert state.decayed[Signal.INVITES_SENT] == 0
    close_day(state, DAY, MODEL)
    assert state.decayed[Signal.INVITES_SENT] == 1
    assert state.decayed[Signal.ACTIVE_DAYS] == 1


def test_later_open_days_stay_pending_when_an_earlier_day_closes() -> None:
    state = new_state()
    absorb(state, fx(K.SEARCH_PERFORMED, 1), DAY, MODEL)
    absorb(state, fx(K.SEARCH_PERFORMED, 2, FRUITFUL), DAY + 1, MODEL)
    absorb(state, fx(K.SEARCH_PERFORMED, 3), DAY + 2, MODEL)
    close_day(state, DAY, MODEL)
    assert state.decayed[Signal.FRUITFUL_SEARCHES] == 0
    assert sorted(d.day for d in state.open_days) == [DAY + 1, DAY + 2]
    close_day(state, DAY + 1, MODEL)
    assert state.decayed[Signal.FRUITFUL_SEARCHES] == 1
    assert [d.day for d in state.open_days] == [DAY + 2]


def test_closed_days_cannot_be_absorbed_into_or_closed_again() -> None:
    state = new_state()
    close_day(state, DAY, MODEL)
    with pytest.raises(ValueError, match="already closed"):
        absorb(state, fx(K.GROUP_JOINED), DAY, MODEL)
    with pytest.raises(ValueError, match="increasing order"):
        close_day(state, DAY, MODEL)


def test_history_starts_at_the_first_absorbed_day() -> None:
    state = new_state()
    assert not has_history(state, DAY + 5)
    absorb(state, fx(K.FOLLOWER_GAINED), DAY + 2, MODEL)
    assert not has_history(state, DAY + 1)
    assert has_history(state, DAY + 2) and has_history(state, DAY + 9)
    absorb(state, fx(K.FOLLOWER_GAINED, 2), DAY, MODEL)
    assert has_history(state, DAY)


def test_a_signal_halves_after_its_half_life() -> None:
    state = new_state()
    absorb(state, fx(K.INVITE_SENT), DAY, MODEL)
    close_day(state, DAY, MODEL)
    half_life = int(MODEL.half_life_days.invitations)
    for day in range(DAY + 1, DAY + half_life + 1):
        close_day(state, day, MODEL)
    assert state.decayed[Signal.INVITES_SENT] == pytest.approx(0.5, rel=1e-5)


@given(history(), st.integers(1, 60))
@settings(max_examples=40, deadline=None)
def test_skipping_idle_days_equals_closing_each_of_them(days: list[list[Effect]], gap: int) -> None:
    daily, skipping = build_state(days), build_state(days)
    last = DAY + len(days) - 1
    for day in range(last + 1, last + gap + 1):
        close_day(daily, day, MODEL)
    close_day(skipping, last + gap, MODEL)
    assert encode_state(daily) == encode_state(skipping)


def test_closing_a_later_day_folds_earlier_open_days_in_order() -> None:
    one_by_one, at_once = new_state(), new_state()
    for state in (one_by_one, at_once):
        absorb(state, fx(K.INVITE_SENT, 1), DAY, MODEL)
        absorb(state, fx(K.INVITE_SENT, 2), DAY + 3, MODEL)
    for day in range(DAY, DAY + 5):
        close_day(one_by_one, day, MODEL)
    close_day(at_once, DAY + 4, MODEL)
    assert encode_state(one_by_one) == encode_state(at_once)


@given(st.lists(effects(), max_size=40), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_absorbing_a_day_is_independent_of_effect_order(day_effects: list[Effect], rng) -> None:
    shuffled = day_effects.copy()
    rng.shuffle(shuffled)
    before = build_state([[fx(K.INVITE_SENT, 9)], []])
    forward, backward = decode_state(encode_state(before)), decode_state(encode_state(before))
    for state, batch in ((forward, day_effects), (backward, shuffled)):
        for effect in batch:
            absorb(state, effect, DAY + 2, MODEL)
    assert encode_state(forward) == encode_state(backward)
    close_day(forward, DAY + 2, MODEL)
    close_day(backward, DAY + 2, MODEL)
    assert encode_state(forward) == encode_state(backward)


def test_profile_fields_keep_the_latest_writer_whatever_the_arrival_order() -> None:
    early = Effect(
        "me", "a/a", K.PROFILE_CHANGED, DAY * 86_400, SECTIONS_GIVEN | 0b11, Seniority.VP, "Banking"
    )
    late = Effect("me", "b/a", K.PROFILE_CHANGED, DAY * 86_400 + 60, 0, None, "Retail")
    for order in ((early, late), (late, early)):
        state = new_state()
        for effect in order:
            absorb(state, effect, DAY, MODEL)
        close_day(state, DAY, MODEL)
        assert (state.profile.industry, state.profile.sections, state.profile.seniority) == (
            "Retail",
            0b11,
            5,
        )


def test_profile_updates_in_later_open_days_wait_for_their_close() -> None:
    state = new_state()
    absorb(state, Effect("me", "a/a", K.PROFILE_CHANGED, DAY * 86_400, 0, None, "Banking"), DAY, MODEL)
    absorb(
        state, Effect("me", "b/a", K.PROFILE_CHANGED, (DAY + 1) * 86_400, 0, None, "Retail"), DAY + 1, MODEL
    )
    close_day(state, DAY, MODEL)
    assert state.profile.industry == "Banking"
    close_day(state, DAY + 1, MODEL)
    assert state.profile.industry == "Retail"


def test_connections_and_decision_makers_are_counted_and_removed() -> None:
    state = new_state()
    absorb(state, fx(K.MY_INVITE_ACCEPTED, 1, seniority=Seniority.CXO), DAY, MODEL)
    absorb(state, fx(K.INVITE_ACCEPTED_BY_ME, 2, seniority=Seniority.ENTRY), DAY, MODEL)
    absorb(state, fx(K.INVITE_ACCEPTED_BY_ME, 3), DAY, MODEL)
    close_day(state, DAY, MODEL)
    assert (state.levels[Level.CONNECTIONS], state.levels[Level.DECISION_MAKER_CONNECTIONS]) == (3, 1)
    absorb(state, fx(K.CONNECTION_REMOVED, 4, seniority=Seniority.CXO), DAY + 1, MODEL)
    absorb(state, fx(K.CONNECTION_REMOVED, 5), DAY + 1, MODEL)
    absorb(state, fx(K.CONNECTION_REMOVED, 6), DAY + 1, MODEL)
    absorb(state, fx(K.CONNECTION_REMOVED, 7), DAY + 1, MODEL)
    close_day(state, DAY + 1, MODEL)
    assert (state.levels[Level.CONNECTIONS], state.levels[Level.DECISION_MAKER_CONNECTIONS]) == (0, 0)


def test_reply_rates_have_their_numerators_and_denominators() -> None:
    state = new_state()
    for n, (kind, flags) in enumerate(
        [(K.MESSAGE_SENT, 0), (K.MESSAGE_RECEIVED, REPLY), (K.MESSAGE_RECEIVED, 0), (K.MESSAGE_SENT, REPLY)]
    ):
        absorb(state, fx(kind, n, flags), DAY, MODEL)
    close_day(state, DAY, MODEL)
    got = [
        state.decayed[s]
        for s in (
            Signal.MESSAGES_INITIATED,
            Signal.REPLIES_RECEIVED,
            Signal.MESSAGES_RECEIVED,
            Signal.REPLIES_SENT,
        )
    ]
    assert got == [1, 1, 1, 1]


def test_inactive_members_decay_to_nothing_and_shrink() -> None:
    state = build_state([[fx(K.INVITE_SENT, n) for n in range(50)]])
    close_day(state, DAY + 2000, MODEL)
    assert not any(state.decayed)


@given(history())
@settings(max_examples=60, deadline=None)
def test_encoding_round_trip_gives_the_same_state_and_scores(days: list[list[Effect]]) -> None:
    state = build_state(days[:-1])
    for effect in days[-1]:
        absorb(state, effect, DAY + len(days) + 1, MODEL)  # an open day survives the round trip too
    copy = decode_state(encode_state(state))
    assert encode_state(copy) == encode_state(state)
    assert card_points(copy) == card_points(state)
    close_day(copy, DAY + len(days) + 1, MODEL)
    close_day(state, DAY + len(days) + 1, MODEL)
    assert card_points(copy) == card_points(state)


def test_corrupt_state_bytes_are_rejected() -> None:
    raw = encode_state(build_state([[fx(K.INVITE_SENT)]]))
    with pytest.raises(ValueError, match="version"):
        decode_state(b"\x09" + raw[1:])
    with pytest.raises(ValueError, match=r"corrupt|truncated"):
        decode_state(raw[:-3])
    with pytest.raises(ValueError, match="trailing"):
        decode_state(raw + b"\x00")


def test_bytes_per_member_stay_small(persona_runs) -> None:
    sizes = {name: len(encode_state(run.final)) for name, run in persona_runs.items()}
    assert max(sizes.values()) < 400, sizes
    assert sizes["lurker"] < 150, sizes
    assert len(encode_state(new_state())) < 20
    assert {p.name for p in PERSONAS} == sizes.keys()
