"""What the simulator calls valid, the real decoder accepts; what it breaks, the decoder rejects."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson
import pytest

from ssi_stream.simulation import generate

decode = pytest.importorskip("ssi_stream.events.decode").decode
Rejected = pytest.importorskip("ssi_stream.events.rejection").Rejected


def _end_of_run(config: Any) -> datetime:
    return datetime.combine(config.start, time(), tzinfo=UTC) + timedelta(days=config.days)


def test_every_generated_event_decodes(world: Any) -> None:
    now = _end_of_run(world.config)
    types = Counter()
    for event in world.events:
        result = decode(orjson.dumps(event), now=now)
        assert not isinstance(result, Rejected), (event, result)
        assert result.type == event["type"] and result.event_id == event["event_id"]
        types[result.type] += 1
    assert len(types) == 14  # every event type was exercised


def test_every_broken_payload_is_rejected(world: Any) -> None:
    config = dataclasses.replace(world.config, days=3, invalid_rate=0.05)
    now = _end_of_run(config)
    broken = [item for item in generate(config) if isinstance(item, bytes)]
    assert len(broken) > 100
    for raw in broken:
        assert isinstance(decode(raw, now=now), Rejected), raw
