"""Delivery faults: bounded reordering, duplicates and broken payloads, only when asked for."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from ssi_stream.simulation import SimulationConfig, generate

JITTER = 45.0


@pytest.fixture(scope="module")
def faulty(world: Any) -> list[dict | bytes]:
    """The shared world delivered with jitter, 2% duplicates and 1% broken payloads."""
    config = dataclasses.replace(world.config, jitter_seconds=JITTER, duplicate_rate=0.02, invalid_rate=0.01)
    return list(generate(config))


def instant(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def _split(items: list[dict | bytes]) -> tuple[list[dict], list[dict], list[bytes]]:
    """(first deliveries, re-deliveries, broken payloads) in emission order."""
    seen: set[str] = set()
    first, again, broken = [], [], []
    for item in items:
        if isinstance(item, bytes):
            broken.append(item)
        elif item["event_id"] in seen:
            again.append(item)
        else:
            seen.add(item["event_id"])
            first.append(item)
    return first, again, broken


def test_no_faults_unless_configured(world: Any) -> None:
    _, again, broken = _split(world.events)  # type: ignore[arg-type]
    assert not again and not broken


def test_faults_do_not_change_the_simulated_world(world: Any, faulty: list[dict | bytes]) -> None:
    first, _, _ = _split(faulty)
    assert sorted(first, key=lambda e: e["event_id"]) == sorted(world.events, key=lambda e: e["event_id"])


def test_jitter_reorders_by_at_most_jitter_seconds(faulty: list[dict | bytes]) -> None:
    first, _, _ = _split(faulty)
    latest = instant(first[0])
    late = 0
    for event in first:
        when = instant(event)
        assert latest - when <= timedelta(seconds=JITTER)
        late += when < latest
        latest = max(latest, when)
    assert late > len(first) / 100  # the jitter is real, not a no-op


def test_duplicates_repeat_an_earlier_event_exactly_at_the_configured_rate(
    faulty: list[dict | bytes],
) -> None:
    first, again, _ = _split(faulty)
    by_id = {e["event_id"]: e for e in first}
    assert all(e == by_id[e["event_id"]] for e in again)
    assert 0.015 <= len(again) / len(first) <= 0.025


def test_broken_payloads_are_single_line_bytes_that_break_the_contract(
    faulty: list[dict | bytes], violation: Callable[[Any], str | None]
) -> None:
    first, _, broken = _split(faulty)
    assert 0.007 <= len(broken) / len(first) <= 0.013
    kinds = set()
    for raw in broken:
        assert b"\n" not in raw
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            kinds.add("not json")
            continue
        reason = violation(parsed)
        assert reason is not None, raw
        kinds.add(reason.split(" ")[0])
    assert len(kinds) >= 5


def test_broken_payloads_do_not_reuse_valid_event_ids(faulty: list[dict | bytes]) -> None:
    first, _, broken = _split(faulty)
    ids = {e["event_id"] for e in first}
    for raw in broken:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            assert parsed.get("event_id") not in ids


def test_rates_of_one_duplicate_and_break_every_event() -> None:
    config = SimulationConfig(members=20, days=2, seed=3, duplicate_rate=1.0, invalid_rate=1.0)
    first, again, broken = _split(list(generate(config)))
    assert len(first) == len(again) == len(broken) > 0
