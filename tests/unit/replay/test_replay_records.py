"""The daily score records replay writes: which ones, in what order, with what shape; the same bytes twice."""

from __future__ import annotations

from datetime import datetime

from ssi_stream.events.decode import decode
from ssi_stream.scoring.effects import effects_of
from ssi_stream.timeline.days import day_of, iso_date

from .conftest import NOW, Replayed, World, replay_bytes, schema_validator


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


def test_one_record_per_member_with_history_per_day_from_the_first_day_to_the_last(
    world: World, replayed: Replayed
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
    written = [(record["date"], record["member_id"]) for record in replayed.records]
    assert written == expected  # every (day, member) once, sorted by date then member_id
    assert replayed.stats.days == max(days) - min(days) + 1
    assert replayed.stats.records == len(written)
    assert replayed.result is not None and replayed.result.members == len(first)


def test_ssi_is_the_sum_of_the_pillars_within_a_hundredth(replayed: Replayed) -> None:
    for record in replayed.records:
        assert abs(record["ssi"] - sum(record["pillars"].values())) <= 0.01 + 1e-9, record["member_id"]
        assert 0 <= record["ssi"] <= 100


def test_every_record_is_valid_against_the_daily_score_schema(replayed: Replayed) -> None:
    validator = schema_validator("records/daily_score.json")
    errors = [
        f"{record['member_id']} {record['date']}: {error.message}"
        for record in replayed.records
        for error in validator.iter_errors(record)
    ]
    assert not errors, errors[:5]


def test_scores_move_over_the_period(replayed: Replayed) -> None:
    """Guard: the world yields real scores, not a page of zeros the laws above would pass trivially."""
    ssis = [record["ssi"] for record in replayed.records]
    assert max(ssis) > 20
    assert len(set(ssis)) > len(ssis) // 4


def test_the_same_log_replays_to_the_same_bytes(world: World, replayed: Replayed) -> None:
    again = replay_bytes(world.log)
    assert again.output == replayed.output
    assert again.dead_letters == replayed.dead_letters
