"""Redelivered and late events: a duplicate within the dedup horizon changes nothing, one beyond it counts
again (docs/events.md), and an event behind its partition's watermark by more than the grace period is
counted in the first open day, flagged late, never dropped."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson

from ssi_stream.scoring.state import Level
from ssi_stream.timeline.days import SECONDS_PER_DAY, day_of, iso_date
from ssi_stream.timeline.partitioner import partition_for

from .conftest import TIMELINE, Replayed, World, replay_bytes, score_lines


def _epoch(event: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(event["occurred_at"]).timestamp())


def _first_open_day(world: World, before_line: int, member_id: str) -> int:
    """The first day not yet closable on `member_id`'s partition after the lines before `before_line`."""
    partition = partition_for(member_id, TIMELINE.partitions)
    watermark = max(
        _epoch(event)
        for event in world.events[: before_line - 1]
        if event is not None and partition_for(event["member_id"], TIMELINE.partitions) == partition
    )
    return (watermark - TIMELINE.grace_seconds) // SECONDS_PER_DAY


def _groups(replayed: Replayed, member_id: str) -> int:
    assert replayed.scorer is not None
    ledger = replayed.scorer.ledger(member_id)
    assert ledger is not None
    return ledger.state.levels[Level.GROUPS]


def _log(raws: list[bytes]) -> bytes:
    return b"".join(raw + b"\n" for raw in raws)


def test_duplicates_within_the_horizon_change_no_record_and_are_counted(
    world: World, replayed: Replayed
) -> None:
    seen: set[str] = set()
    unique: list[bytes] = []
    for raw, event in zip(world.raws, world.events, strict=True):
        if event is not None and event["event_id"] in seen:
            continue
        if event is not None:
            seen.add(event["event_id"])
        unique.append(raw)
    removed = len(world.raws) - len(unique)
    assert removed > 20
    without = replay_bytes(_log(unique))
    assert without.stats.duplicates == 0
    assert without.output == replayed.output
    assert replayed.stats.duplicates == removed
    assert replayed.result is not None and f", {removed} duplicates," in replayed.result.summary()


def test_a_late_redelivery_within_the_horizon_is_still_recognised(world: World, replayed: Replayed) -> None:
    end = len(world.raws) + 1
    last_day = max(day_of(_epoch(e)) for e in world.events if e is not None)
    candidates = [
        event for event in world.events if event is not None and day_of(_epoch(event)) == last_day - 1
    ]
    candidates = [e for e in candidates[:50] if _first_open_day(world, end, e["member_id"]) > last_day - 1]
    assert candidates, "the world has no event of its last-but-one day that is late at the end"
    resent = orjson.dumps(candidates[0])
    again = replay_bytes(world.log + resent + b"\n")
    assert again.output == replayed.output
    assert again.stats.duplicates == replayed.stats.duplicates + 1
    assert again.stats.late == replayed.stats.late == 0


def test_a_redelivery_beyond_the_exact_horizon_is_recognised_by_the_filter(world: World) -> None:
    joined = next(e for e in world.events if e is not None and e["type"] == "group_joined")
    member = joined["member_id"]
    end = len(world.raws) + 1
    counted_in = _first_open_day(world, end, member)
    age = counted_in - day_of(_epoch(joined))
    assert TIMELINE.dedup.horizon_days <= age < TIMELINE.dedup.filter_days  # past the exact ids
    baseline = score_lines(world.lines())
    again = score_lines([*world.lines(), (end, orjson.dumps(joined))])
    assert again.output == baseline.output and _groups(again, member) == _groups(baseline, member)
    assert again.stats.duplicates == baseline.stats.duplicates + 1
    assert again.stats.late == baseline.stats.late


def test_a_redelivery_beyond_every_horizon_counts_again_as_a_late_event(world: World) -> None:
    joined = next(e for e in world.events if e is not None and e["type"] == "group_joined")
    member = joined["member_id"]
    end = len(world.raws) + 1
    counted_in = _first_open_day(world, end, member)
    assert counted_in - day_of(_epoch(joined)) >= TIMELINE.dedup.horizon_days
    unfiltered = replace(TIMELINE, dedup=replace(TIMELINE.dedup, filter_days=0))  # as past the filter's days
    baseline = score_lines(world.lines(), unfiltered)
    again = score_lines([*world.lines(), (end, orjson.dumps(joined))], unfiltered)
    assert _groups(again, member) == _groups(baseline, member) + 1
    assert again.stats.duplicates == baseline.stats.duplicates
    assert again.stats.late == baseline.stats.late + 1
    flagged = [(r["member_id"], r["date"]) for r in again.records if r.get("late_events")]
    assert flagged == [(member, iso_date(counted_in))]


def test_an_event_behind_its_partitions_watermark_by_more_than_grace_counts_in_the_first_open_day(
    world: World, replayed: Replayed
) -> None:
    assert replayed.stats.late == 0  # jitter stays within grace: nothing late before we add one
    member = next(e for e in world.events if e is not None)["member_id"]
    first_day = min(day_of(_epoch(e)) for e in world.events if e is not None)
    # Read it where the log reaches day 6, about day 2: four days behind.
    at = next(
        i for i, e in enumerate(world.events, 1) if e is not None and day_of(_epoch(e)) >= first_day + 6
    )
    event = {
        "event_id": "late-group-join",
        "member_id": member,
        "type": "group_joined",
        "occurred_at": f"{iso_date(first_day + 2)}T12:00:00Z",
        "group_id": "g-late",
    }
    expected_day = _first_open_day(world, at, member)
    assert expected_day > first_day + 2
    lines = [(n, raw) for n, raw in world.lines() if n < at]
    lines += [(at, orjson.dumps(event))]
    lines += [(n + 1, raw) for n, raw in world.lines() if n >= at]

    late = score_lines(lines)
    baseline = score_lines(world.lines())
    assert late.stats.late == 1
    assert _groups(late, member) == _groups(baseline, member) + 1  # counted, not dropped
    flagged = [(r["member_id"], r["date"], r["late_events"]) for r in late.records if r.get("late_events")]
    assert flagged == [(member, iso_date(expected_day), 1)]
    before = [r for r in late.records if r["date"] < iso_date(expected_day)]
    assert before == [r for r in baseline.records if r["date"] < iso_date(expected_day)]

    summary = replay_bytes(_log([raw for _, raw in lines])).result
    assert summary is not None and ", 1 late;" in summary.summary()
