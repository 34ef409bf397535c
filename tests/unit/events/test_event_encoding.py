"""`encode` writes the canonical wire form; decoding it gives the same event back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings

from ssi_stream.events.decode import decode
from ssi_stream.events.encode import encode, event_to_dict
from ssi_stream.events.rejection import Rejected
from ssi_stream.events.types import ProfileSection, ProfileUpdated

from .contract_world import NOW, valid_events, validator_for


def _decoded(document: dict[str, Any]) -> Any:
    event = decode(json.dumps(document, ensure_ascii=False).encode(), now=NOW)
    assert not isinstance(event, Rejected), event
    return event


@settings(max_examples=400, deadline=None)
@given(valid_events())
def test_decode_of_encode_is_the_identity(document: dict[str, Any]) -> None:
    event = _decoded(document)
    assert decode(encode(event), now=NOW) == event


@settings(max_examples=400, deadline=None)
@given(valid_events())
def test_encoding_is_canonical_and_valid(document: dict[str, Any]) -> None:
    event = _decoded(document)
    wire = event_to_dict(event)
    assert encode(event) == orjson.dumps(wire)
    assert encode(decode(encode(event), now=NOW)) == encode(event)  # type: ignore[arg-type]
    assert list(wire)[:5] == ["event_id", "type", "member_id", "occurred_at", "schema_version"]
    assert None not in wire.values()
    assert wire["occurred_at"].endswith("Z")
    assert validator_for("events/event.json").is_valid(wire)
    assert json.loads(encode(event)) == wire  # plain JSON values only


def test_sections_are_written_in_declaration_order_and_microseconds_only_when_set() -> None:
    event = ProfileUpdated(
        event_id="e",
        member_id="m",
        occurred_at=datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        completed_sections=frozenset({ProfileSection.SKILLS, ProfileSection.PHOTO, ProfileSection.SUMMARY}),
    )
    wire = event_to_dict(event)
    assert wire["completed_sections"] == ["photo", "summary", "skills"]
    assert wire["occurred_at"] == "2026-03-02T09:15:00Z"
    precise = ProfileUpdated(
        event_id="e", member_id="m", occurred_at=datetime(2026, 3, 2, 9, 15, 0, 5, tzinfo=UTC)
    )
    assert event_to_dict(precise)["occurred_at"] == "2026-03-02T09:15:00.000005Z"
    assert "industry" not in wire and "seniority" not in wire


def test_decoded_events_equal_constructed_events() -> None:
    """Decoding fills slots directly; the result must be indistinguishable from `__init__`'s."""
    built = ProfileUpdated(
        event_id="e", member_id="m", occurred_at=datetime(2026, 3, 2, tzinfo=UTC), industry="Software"
    )
    decoded = decode(encode(built), now=NOW)
    assert decoded == built and hash(decoded) == hash(built) and repr(decoded) == repr(built)
