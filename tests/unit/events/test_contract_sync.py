"""The JSON Schemas and the code state one contract: same types, fields, enums, limits and syntax."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ssi_stream.events.contract import CONTRACT, MAX_AMOUNT, MAX_CALL_SECONDS, MAX_RESULTS_VIEWED
from ssi_stream.events.rejection import RejectionCode
from ssi_stream.events.timestamps import TIMESTAMP_PATTERN
from ssi_stream.events.types import (
    EVENT_TYPES,
    OUTCOME_TYPES,
    MessageChannel,
    PostFormat,
    ProfileSection,
    SearchKind,
    Seniority,
    ViewSource,
)

from .contract_world import load_schema

EVENT = load_schema("events/event.json")
DEFS = EVENT["$defs"]


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def _enum_of(node: dict[str, Any]) -> list[str] | None:
    """The enum a property allows, following one $ref and ignoring a null alternative."""
    for option in node.get("anyOf", [node]):
        if "$ref" in option:
            option = DEFS[option["$ref"].rsplit("/", 1)[1]]
        if "enum" in option:
            return option["enum"]
    return None


def test_schema_types_are_the_contract_types_in_order() -> None:
    assert EVENT["properties"]["type"]["enum"] == list(CONTRACT) == list(EVENT_TYPES)
    dispatched = [branch["if"]["properties"]["type"]["const"] for branch in EVENT["allOf"]]
    assert dispatched == list(CONTRACT)
    assert [branch["then"]["$ref"] for branch in EVENT["allOf"]] == [f"#/$defs/{name}" for name in CONTRACT]


def test_each_type_has_the_same_fields_required_and_counterpart_in_schema_and_code() -> None:
    for name, spec in CONTRACT.items():
        schema = DEFS[name]
        assert list(schema["properties"]) == [field.name for field in spec.fields], name
        assert schema.get("required", []) == [field.name for field in spec.fields if field.required], name
        differs = [
            field
            for field, node in schema["properties"].items()
            if "must not equal member_id" in node.get("description", "")
        ]
        assert differs == ([spec.counterpart] if spec.counterpart else []), name


def test_enums_match_the_typed_enums() -> None:
    assert DEFS["seniority"]["enum"] == _values(Seniority)
    assert DEFS["profile_section"]["enum"] == _values(ProfileSection)
    assert _enum_of(DEFS["post_published"]["properties"]["format"]) == _values(PostFormat)
    assert _enum_of(DEFS["message_sent"]["properties"]["channel"]) == _values(MessageChannel)
    assert _enum_of(DEFS["search_performed"]["properties"]["search_kind"]) == _values(SearchKind)
    assert _enum_of(DEFS["profile_viewed"]["properties"]["source"]) == _values(ViewSource)
    for name, spec in CONTRACT.items():
        for field in spec.fields:
            if "seniority" in field.name:
                assert _enum_of(DEFS[name]["properties"][field.name]) == _values(Seniority)


def test_lengths_and_ranges_match() -> None:
    assert (DEFS["member_id"]["minLength"], DEFS["member_id"]["maxLength"]) == (1, 64)
    assert (DEFS["object_id"]["minLength"], DEFS["object_id"]["maxLength"]) == (1, 128)
    results = DEFS["search_performed"]["properties"]["results_viewed"]["anyOf"][0]
    assert (results["minimum"], results["maximum"]) == (0, MAX_RESULTS_VIEWED)


def test_outcome_amounts_currencies_and_durations_match() -> None:
    assert (DEFS["amount"]["minimum"], DEFS["amount"]["maximum"]) == (0, MAX_AMOUNT)
    assert DEFS["currency"]["pattern"] == "^[A-Z]{3}$"
    duration = DEFS["call_logged"]["properties"]["duration_seconds"]["anyOf"][0]
    assert (duration["minimum"], duration["maximum"]) == (0, MAX_CALL_SECONDS)
    rule = DEFS["amount_in_currency"]
    assert (rule["if"]["required"], rule["then"]["required"]) == (["amount"], ["currency"])
    for name, spec in CONTRACT.items():
        pairs = [("amount", "currency")] if DEFS[name].get("$ref") == "#/$defs/amount_in_currency" else []
        assert list(spec.requires) == pairs, name


def test_the_outcome_types_are_the_last_five_and_say_so() -> None:
    assert OUTCOME_TYPES == ("meeting_booked", "opportunity_created", "deal_won", "deal_lost", "call_logged")
    assert list(CONTRACT)[-5:] == list(OUTCOME_TYPES)
    for name in OUTCOME_TYPES:
        assert DEFS[name]["description"].startswith("Outcome: "), name


def test_the_schema_timestamp_pattern_is_the_decoder_pattern() -> None:
    assert DEFS["timestamp"]["pattern"] == "^" + TIMESTAMP_PATTERN + "$"


#: Reasons that came with dead-letter records version 2: version 1 records never carry them.
SINCE_V2 = ["schema_registry_framed", "unknown_schema_id", "duplicate_key", "bad_currency"]


def test_dead_letter_reasons_are_the_rejection_codes() -> None:
    reasons = load_schema("v2/records/dead_letter.json")["properties"]["reason"]["enum"]
    assert reasons == _values(RejectionCode)
    old = load_schema("records/dead_letter.json")["properties"]["reason"]["enum"]
    assert old + SINCE_V2 == reasons  # version 1 is what old workers wrote: frozen
