"""The score records replay writes: which ones (every member every day with `daily`; by the emission rule
by default), in what order, with what shape; the same bytes twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache

import pytest

from ssi_stream.events.decode import decode
from ssi_stream.scoring.effects import effects_of
from ssi_stream.timeline.days import day_of, iso_date
from tests.unit.schemas.test_score_record_schema import check_score_record

from .conftest import NOW, TIMELINE, Replayed, World, replay_bytes

DAILY = replace(TIMELINE, emit="daily")


@cache
def _daily(log: bytes) -> Replayed:
    return replay_bytes(log, DAILY)


@pytest.fixture(scope="module")
def daily(world: World) -> Replayed:
    """The world's log replayed with one record per member and day (`--emit daily`)."""
    return _daily(world.log)


def _first_days(world: World) -> dict[str, int]:
    """Per member, the first day an effect of a valid event touched them (the world has no late events)."""
    first: dict[str, int] = {}
    for raw, event in zip(world.raws, world.events, strict=True):
        if event is None:
            continue
        day = day_of(datetime.fromisoformat(event["occurred_at"]).timestamp())
        for effect in effects_of(decode(raw, now=NOW)):  # type: ignore[arg-type]
            first[effect.member_id] = min(first.get(effect.member_id, day), day)
    return first


def test_daily_emission_writes_one_record_per_member_with_history_per_day_from_first_to_last_day(
    world: World, daily: Replayed
) -> None:
    first = _first_days(world)
    days = [
        day_of(datetime.fromisoformat(event["occurred_at"]).timestamp())
        for event in world.events
        if event is not None
    ]
    expected = [
        (iso_date(day), member)
        for day in range(min(days), max(days) + 1)
        for member in sorted(first)
        if first[member] <= day
    ]
    written = [(record["date"], record["member_id"]) for record in daily.records]
    assert written == expected  # every (day, member) once, sorted by date then member_id
    assert daily.stats.days == max(days) - min(days) + 1
    assert daily.stats.records == len(written)
    assert daily.result is not None and daily.result.members == len(first)


def _acted(world: World) -> set[tuple[str, str]]:
    """(member, date) of every day a member did something themselves (the world has no late events)."""
    return {
        (event["member_id"], iso_date(day_of(datetime.fromisoformat(event["occurred_at"]).timestamp())))
        for event in world.events
        if event is not None and event["type"] != "connection_removed"
    }


def _said(record: dict) -> tuple:
    """What the emission rule compares: the SSI, the pillars and the ranks' top_percent."""
    ranks = [
        None if r is None else r["top_percent"] for r in (record["industry_rank"], record["network_rank"])
    ]
    return (record["ssi"], *record["pillars"].values(), *ranks)


def test_by_default_a_record_comes_on_a_members_first_day_when_they_act_or_when_it_says_something_new(
    world: World, replayed: Replayed, daily: Replayed
) -> None:
    acted = _acted(world)
    emitted = {(r["member_id"], r["date"]): r for r in replayed.records}
    last: dict[str, tuple] = {}
    expected = set()
    for record in daily.records:  # by date, then member
        member, date = record["member_id"], record["date"]
        if member not in last or (member, date) in acted or _said(record) != last[member]:
            expected.add((member, date))
            last[member] = _said(record)
    assert set(emitted) == expected
    for record in daily.records:  # an emitted record is the daily one, byte for byte
        if (record["member_id"], record["date"]) in emitted:
            assert emitted[record["member_id"], record["date"]] == record
    assert len(replayed.records) < len(daily.records), "the rule leaves out unchanged days"
    dates = [(r["date"], r["member_id"]) for r in replayed.records]
    assert dates == sorted(dates)


def test_ssi_is_the_sum_of_the_pillars_within_a_hundredth(replayed: Replayed) -> None:
    for record in replayed.records:
        assert abs(record["ssi"] - sum(record["pillars"].values())) <= 0.01 + 1e-9, record["member_id"]
        assert 0 <= record["ssi"] <= 100


def test_every_record_is_valid_against_the_score_record_schema(replayed: Replayed, daily: Replayed) -> None:
    for record in [*replayed.records, *daily.records]:
        check_score_record(record)


def test_scores_move_over_the_period(replayed: Replayed) -> None:
    """Guard: the world yields real scores, not a page of zeros the laws above would pass trivially."""
    ssis = [record["ssi"] for record in replayed.records]
    assert max(ssis) > 20
    assert len(set(ssis)) > len(ssis) // 4


def test_the_same_log_replays_to_the_same_bytes(world: World, replayed: Replayed) -> None:
    again = replay_bytes(world.log)
    assert again.output == replayed.output
    assert again.dead_letters == replayed.dead_letters
