"""A member's CRM outcomes in the ledger: counted once, folded when their day closes, decayed with a
90-day half-life, kept in a v5 section only members with outcomes pay for, never part of the score."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    UnreadableLedger,
    absorb_effect,
    close_member_day,
    decode_ledger,
    encode_ledger,
    new_ledger,
    ranked_record,
    read_ledger,
)
from ssi_stream.ledger.outcomes import OUTCOME_HALF_LIFE_DAYS, OutcomeTally
from ssi_stream.ranking.exchange import DayRanks
from ssi_stream.scoring.effects import Effect, EffectKind
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.days import day_start
from ssi_stream.timeline.policy import DedupPolicy

MODEL = load_model()
POLICY = DedupPolicy(horizon_days=3)
DAY = 20_500
MEETING, OPPORTUNITY, WON, LOST, CALL = range(5)


def outcome(number: int, kind: int, day: int = DAY) -> Effect:
    return Effect("m1", f"crm-{number}/a", EffectKind.OUTCOME, day_start(day) + 7200 + number, kind)


def activity(number: int, day: int = DAY) -> Effect:
    return Effect("m1", f"e{number}/a", EffectKind.ENGAGEMENT_GIVEN, day_start(day) + 3600 + number)


def close(ledger: MemberLedger, day: int) -> dict[str, Any] | None:
    if close_member_day(ledger, day, MODEL, POLICY) is None:
        return None
    return ranked_record("m1", ledger, MODEL, DayRanks(None, None))


def absorb(ledger: MemberLedger, effect: Effect, day: int = DAY) -> bool:
    return absorb_effect(ledger, effect, day, late=False, model=MODEL, policy=POLICY)


def test_outcomes_never_change_the_score_and_appear_next_to_it() -> None:
    plain, with_outcomes = new_ledger(POLICY), new_ledger(POLICY)
    for ledger in (plain, with_outcomes):
        for number in range(5):
            absorb(ledger, activity(number))
    for number, kind in enumerate((MEETING, MEETING, OPPORTUNITY, WON, CALL)):
        absorb(with_outcomes, outcome(number, kind))
    for day in range(DAY, DAY + 30):
        without, scored = close(plain, day), close(with_outcomes, day)
        assert without is not None and scored is not None
        assert {k: v for k, v in scored.items() if k != "outcomes"} == without, day
        assert plain.state == with_outcomes.state
    assert "outcomes" not in without
    assert scored["outcomes"]["meeting_booked"]["total"] == 2
    assert set(scored["outcomes"]) == {"meeting_booked", "opportunity_created", "deal_won", "call_logged"}


def test_an_outcome_counts_once_and_in_its_day_not_before() -> None:
    ledger = new_ledger(POLICY)
    absorb(ledger, activity(1))
    assert absorb(ledger, outcome(7, MEETING, DAY + 1), DAY + 1)
    assert not absorb(ledger, outcome(7, MEETING, DAY + 1), DAY + 1), "a redelivery is recognised"
    first = close(ledger, DAY)
    assert first is not None and "outcomes" not in first, "the outcome's day is not closed yet"
    second = close(ledger, DAY + 1)
    assert second is not None and second["outcomes"] == {"meeting_booked": {"recent": 1.0, "total": 1}}


def test_a_day_with_an_outcome_is_a_day_the_member_acted() -> None:
    ledger = new_ledger(POLICY)
    absorb(ledger, activity(1))
    close(ledger, DAY)
    close(ledger, DAY + 1)
    assert not ledger.acted
    absorb(ledger, outcome(1, CALL, DAY + 2), DAY + 2)
    close(ledger, DAY + 2)
    assert ledger.acted


def test_an_outcome_only_member_is_scored_from_its_first_outcome() -> None:
    ledger = new_ledger(POLICY)
    absorb(ledger, outcome(1, WON, DAY + 3), DAY + 3)
    assert close(ledger, DAY + 2) is None
    record = close(ledger, DAY + 3)
    assert record is not None and record["outcomes"]["deal_won"]["total"] == 1


def test_recent_counts_halve_every_half_life_and_totals_stay() -> None:
    tally = OutcomeTally()
    for number in range(4):
        tally.count(outcome(number, OPPORTUNITY), DAY)
    assert tally.close(DAY)
    half = DAY + int(OUTCOME_HALF_LIFE_DAYS)
    assert not tally.close(half)
    assert tally.recent[OPPORTUNITY] == pytest.approx(2.0, rel=1e-4)
    assert tally.total[OPPORTUNITY] == 4
    tally.close(half + 100 * int(OUTCOME_HALF_LIFE_DAYS))
    assert tally.recent[OPPORTUNITY] == 0.0 and tally.total[OPPORTUNITY] == 4, "forgotten, still counted"


def test_closing_in_one_step_equals_closing_day_by_day() -> None:
    stepwise, at_once = OutcomeTally(), OutcomeTally()
    for tally in (stepwise, at_once):
        tally.count(outcome(1, MEETING), DAY)
        tally.count(outcome(2, CALL), DAY + 3)
        tally.count(outcome(3, CALL), DAY + 9)
    for day in range(DAY, DAY + 20):
        stepwise.close(day)
    at_once.close(DAY + 20 - 1)
    assert stepwise == at_once


@st.composite
def tallies(draw: st.DrawFn) -> OutcomeTally:
    tally = OutcomeTally()
    effects = draw(
        st.lists(st.tuples(st.integers(0, 40), st.integers(0, len(OUTCOME_TYPES) - 1)), max_size=40)
    )
    for number, (offset, kind) in enumerate(effects):
        tally.count(outcome(number, kind, DAY + offset), DAY + offset)
    tally.close(DAY + draw(st.integers(0, 40)))
    return tally


@settings(max_examples=200, deadline=None)
@given(tallies())
def test_a_tally_reads_back_from_its_bytes_exactly(tally: OutcomeTally) -> None:
    assert OutcomeTally.from_bytes(tally.to_bytes()) == tally


@settings(max_examples=200, deadline=None)
@given(tallies(), st.data())
def test_a_cut_or_padded_tally_is_refused(tally: OutcomeTally, data: st.DataObject) -> None:
    raw = tally.to_bytes()
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(ValueError, match="outcomes"):
        OutcomeTally.from_bytes(raw[:cut])
    with pytest.raises(ValueError, match="trailing"):
        OutcomeTally.from_bytes(raw + b"\0")


def test_the_ledger_round_trips_its_outcomes_and_costs_nothing_without_them() -> None:
    plain, with_outcomes = new_ledger(POLICY), new_ledger(POLICY)
    for ledger in (plain, with_outcomes):
        absorb(ledger, activity(1))
    absorb(with_outcomes, outcome(1, OPPORTUNITY))
    absorb(with_outcomes, outcome(2, LOST, DAY + 1), DAY + 1)
    for ledger in (plain, with_outcomes):
        close(ledger, DAY)
    copy = decode_ledger(encode_ledger(with_outcomes), POLICY)
    assert copy.outcomes == with_outcomes.outcomes and copy.outcomes is not None
    assert copy.outcomes.open_days, "the open day's outcome is kept too"
    assert decode_ledger(encode_ledger(plain), POLICY).outcomes is None
    v4 = _as_version_4(encode_ledger(plain))
    assert len(encode_ledger(plain)) == len(v4), "a ledger without outcomes is as long as in v4"
    section = with_outcomes.outcomes.to_bytes()
    whole = len(encode_ledger(with_outcomes))
    with_outcomes.outcomes = None
    assert whole - len(encode_ledger(with_outcomes)) == 2 + len(section), "a length, then the section"


def test_a_version_4_ledger_still_reads_with_no_outcomes() -> None:
    ledger = new_ledger(POLICY)
    absorb(ledger, activity(1))
    close(ledger, DAY)
    old = decode_ledger(_as_version_4(encode_ledger(ledger)), POLICY)
    assert old.outcomes is None
    assert old.state == ledger.state and old.history.daily() == ledger.history.daily()
    assert (old.acted, old.emitted_before, old.emitted_after) == (ledger.acted, None, ledger.emitted_after)


def test_a_corrupt_outcomes_section_makes_the_ledger_unreadable() -> None:
    ledger = new_ledger(POLICY)
    absorb(ledger, outcome(1, MEETING))
    close(ledger, DAY)
    raw = bytearray(encode_ledger(ledger))
    assert raw[-1] == 0, "the section ends with its count of open days"
    raw[-1] = 0xFF  # 255 open days that are not there
    with pytest.raises(UnreadableLedger, match="m1"):
        read_ledger("m1", bytes(raw), POLICY)


def _as_version_4(current: bytes) -> bytes:
    """A v5 ledger without outcomes as v4 wrote it: the same bytes, but the version."""
    (version,) = struct.unpack_from("<B", current)
    assert version == 5
    return b"\x04" + current[1:]
