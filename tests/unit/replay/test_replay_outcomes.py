"""Outcome events through the engine: counted once in their owner's record, never in a score, the same
whether ledgers stay objects (replay) or are stored as bytes between steps (the stream's tables)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from ssi_stream.engine import TargetSide
from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.ledger.member_ledger import decode_ledger
from ssi_stream.replay import Replay
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings
from tests.unit.engine.bytes_store import BytesTargetStore
from tests.unit.schemas.test_score_record_schema import check_score_record

from .conftest import MODEL, NOW, TIMELINE, Line, Replayed, score_lines

#: Mostly sellers, so that a month holds enough outcomes; with a real topic's faults.
CONFIG = SimulationConfig(
    members=40,
    days=24,
    seed=4,
    mix={"genuine_seller": 0.45, "occasional": 0.3, "spammer": 0.1, "lurker": 0.15},
    jitter_seconds=900,
    duplicate_rate=0.02,
    outcomes=True,
)
DAILY = dataclasses.replace(TIMELINE, emit="daily")


@pytest.fixture(scope="module")
def log() -> list[tuple[str, bytes]]:
    return list(iter_encoded(CONFIG))


def lines(log: Iterable[tuple[str, bytes]], keep_outcomes: bool = True) -> list[Line]:
    kept = [raw for _, raw in log if keep_outcomes or orjson.loads(raw)["type"] not in OUTCOME_TYPES]
    return list(enumerate(kept, start=1))


def without_outcomes(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "outcomes"}


@pytest.fixture(scope="module")
def daily(log: list[tuple[str, bytes]]) -> Replayed:
    return score_lines(lines(log), DAILY)


@pytest.fixture(scope="module")
def changes(log: list[tuple[str, bytes]]) -> Replayed:
    """The log scored with the default emission (a record on a day that changes something)."""
    return score_lines(lines(log))


def test_outcome_events_change_no_score(log: list[tuple[str, bytes]], daily: Replayed) -> None:
    plain = score_lines(lines(log, keep_outcomes=False), DAILY)
    assert [without_outcomes(record) for record in daily.records] == plain.records
    assert sum("outcomes" in record for record in daily.records) > 50
    assert not any("outcomes" in record for record in plain.records)


def test_the_last_record_counts_each_outcome_once(log: list[tuple[str, bytes]], daily: Replayed) -> None:
    logged = {orjson.loads(raw)["event_id"]: orjson.loads(raw) for _, raw in log}  # a redelivery is one
    expected = Counter(
        (event["member_id"], event["type"]) for event in logged.values() if event["type"] in OUTCOME_TYPES
    )
    last: dict[str, dict[str, Any]] = {}
    for record in daily.records:
        last[record["member_id"]] = record
    counted = Counter(
        {
            (member_id, kind): counts["total"]
            for member_id, record in last.items()
            for kind, counts in record.get("outcomes", {}).items()
        }
    )
    assert counted == expected
    assert {"meeting_booked", "opportunity_created", "call_logged"} <= {kind for _, kind in expected}
    assert len(log) > len(logged), "the log has redeliveries to recognise"


def test_by_default_a_day_with_an_outcome_has_a_record(
    log: list[tuple[str, bytes]], changes: Replayed
) -> None:
    recorded = {(record["member_id"], record["date"]) for record in changes.records}
    for _, raw in log:
        event = orjson.loads(raw)
        if event["type"] in OUTCOME_TYPES:
            day = datetime.fromisoformat(event["occurred_at"]).astimezone(UTC).date().isoformat()
            assert (event["member_id"], day) in recorded, event


def test_records_with_outcomes_are_valid_score_records(daily: Replayed) -> None:
    for record in daily.records:
        if "outcomes" in record:
            check_score_record(record)


def test_ledgers_stored_as_bytes_give_the_records_replay_gives(
    log: list[tuple[str, bytes]], changes: Replayed
) -> None:
    timeline: TimelineSettings = TIMELINE
    scorer = Replay(MODEL, timeline=timeline, now=NOW)
    stores = [BytesTargetStore(timeline.dedup) for _ in range(timeline.partitions)]
    scorer.stores = stores  # type: ignore[assignment]
    scorer.targets = [
        TargetSide(number, MODEL, timeline, store, observer=scorer.stats)
        for number, store in enumerate(stores)
    ]
    ordered = lines(log)
    records = []
    for start in range(0, len(ordered), 500):
        records += scorer.feed(ordered[start : start + 500])
    records += scorer.finish()
    assert records == changes.records
    stored = [raw for store in stores for raw in store.stored.values()]
    assert {raw[0] for raw in stored} == {5}, "every ledger written in the current version"
    assert sum(decode_ledger(raw, timeline.dedup).outcomes is not None for raw in stored) >= 10
