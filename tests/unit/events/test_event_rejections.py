"""Every rejection code, with a payload that earns it, the field it names and a detail a person can act on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ssi_stream.events.decode import decode
from ssi_stream.events.framing import FramingMode, SchemaRegistryFraming
from ssi_stream.events.limits import DecodeLimits
from ssi_stream.events.rejection import Rejected, RejectionCode
from ssi_stream.events.types import GroupJoined, InviteSent, ProfileUpdated, SearchPerformed

from .contract_world import NOW

C = RejectionCode
BASE: dict[str, Any] = {
    "event_id": "e-1",
    "type": "invite_sent",
    "member_id": "m-1",
    "occurred_at": "2026-05-30T09:15:00Z",
    "target_member_id": "m-2",
    "personalized": False,
}


def payload(**changes: Any) -> bytes:
    """BASE with `changes`; a change to the sentinel `...` removes that member."""
    event = {**BASE, **changes}
    return json.dumps({name: value for name, value in event.items() if value is not ...}).encode()


def deal(**changes: Any) -> bytes:
    """A deal_won (`DEAL`) with `changes`, as `payload` makes them."""
    return payload(**(DEAL | changes))


def rejection(raw: bytes | None, **kwargs: Any) -> Rejected:
    result = decode(raw, now=NOW, **kwargs)
    assert isinstance(result, Rejected), result
    return result


#: A deal_won over BASE (whose invitation fields the deal ignores as unknown members).
DEAL: dict[str, Any] = {
    "type": "deal_won",
    "opportunity_id": "opp-1",
    "amount": 48_000,
    "currency": "EUR",
    "target_member_id": ...,
    "personalized": ...,
}

#: (payload, code, field, words the detail must contain)
CASES: list[tuple[bytes | None, RejectionCode, str | None, tuple[str, ...]]] = [
    (None, C.NULL_VALUE, None, ("no value", "tombstone")),
    (b"{" + b" " * 70_000 + b"}", C.TOO_LARGE, None, ("70002 bytes", "65536")),
    (b'{"event_id": "\xff"}', C.INVALID_UTF8, None, ("0xff", "offset 14")),
    (b'{"event_id": "e-1",}', C.NOT_JSON, None, ("not JSON",)),
    (b"\xef\xbb\xbf{}", C.NOT_JSON, None, ("BOM",)),
    (b"[" * 2000 + b"]" * 2000, C.TOO_DEEP, None, ("too deep",)),
    (payload(trace={"a": [[[[[[[1]]]]]]]}), C.TOO_DEEP, "trace", ("deeper than 8",)),
    (b'["invite_sent"]', C.NOT_OBJECT, None, ("array", "not a JSON object")),
    (b"null", C.NOT_OBJECT, None, ("null",)),
    (payload(schema_version=2), C.UNSUPPORTED_VERSION, "schema_version", ("2", "version 1")),
    (payload(schema_version="1"), C.WRONG_TYPE, "schema_version", ("string '1'",)),
    (payload(type="invite_withdrawn"), C.UNKNOWN_TYPE, "type", ("'invite_withdrawn'", "invite_sent")),
    (payload(type=...), C.MISSING_FIELD, "type", ("missing",)),
    (payload(event_id=...), C.MISSING_FIELD, "event_id", ("missing",)),
    (payload(personalized=...), C.MISSING_FIELD, "personalized", ("missing",)),
    (payload(target_member_id=None), C.WRONG_TYPE, "target_member_id", ("null",)),
    (payload(member_id=42), C.WRONG_TYPE, "member_id", ("string", "number 42")),
    (payload(personalized="yes"), C.WRONG_TYPE, "personalized", ("true or false", "'yes'")),
    (payload(member_id=""), C.OUT_OF_RANGE, "member_id", ("0 characters", "1–64")),
    (payload(event_id="e" * 129), C.OUT_OF_RANGE, "event_id", ("129 characters", "1–128")),
    (payload(target_seniority="ceo"), C.BAD_ENUM, "target_seniority", ("'ceo'", "cxo")),
    (
        payload(type="profile_updated", completed_sections=["photo", "skills", "photo"]),
        C.DUPLICATE_ITEM,
        "completed_sections[2]",
        ("'photo'", "twice"),
    ),
    (
        payload(occurred_at="2026-13-01T00:00:00Z"),
        C.BAD_TIMESTAMP,
        "occurred_at",
        ("'2026-13-01T00:00:00Z'", "RFC 3339"),
    ),
    (payload(occurred_at="2026-05-30 09:15:00"), C.BAD_TIMESTAMP, "occurred_at", ("offset",)),
    (payload(occurred_at="2026-02-29T09:15:00Z"), C.BAD_TIMESTAMP, "occurred_at", ("calendar",)),
    (payload(occurred_at="1970-01-01T00:00:00Z"), C.ANCIENT_TIMESTAMP, "occurred_at", ("2000-01-01",)),
    (payload(occurred_at="2000-01-01T05:00:00+06:00"), C.ANCIENT_TIMESTAMP, "occurred_at", ("instant",)),
    (
        payload(occurred_at="2026-06-02T12:00:01Z"),
        C.FUTURE_TIMESTAMP,
        "occurred_at",
        ("2026-06-02T12:00:00Z",),
    ),
    (payload(target_member_id="m-1"), C.SELF_REFERENCE, "target_member_id", ("'m-1'", "invite_sent")),
    (deal(currency="eur"), C.BAD_CURRENCY, "currency", ("'eur'", "ISO 4217")),
    (deal(currency="EURO"), C.BAD_CURRENCY, "currency", ("'EURO'", "three capital letters")),
    (deal(currency=978), C.WRONG_TYPE, "currency", ("number 978",)),
    (deal(currency=...), C.MISSING_FIELD, "currency", ("required with amount",)),
    (deal(currency=None), C.WRONG_TYPE, "currency", ("null", "required with amount")),
    (deal(amount=-1), C.OUT_OF_RANGE, "amount", ("-1", "outside 0")),
    (deal(amount="48000"), C.WRONG_TYPE, "amount", ("a number", "string '48000'")),
    (deal(amount=True), C.WRONG_TYPE, "amount", ("true",)),
    (deal(opportunity_id=...), C.MISSING_FIELD, "opportunity_id", ("missing",)),
    (
        payload(type="call_logged", contact_member_id="m-1", target_member_id=..., personalized=...),
        C.SELF_REFERENCE,
        "contact_member_id",
        ("'m-1'", "call_logged"),
    ),
    (
        payload(type="call_logged", duration_seconds=86_401, target_member_id=..., personalized=...),
        C.OUT_OF_RANGE,
        "duration_seconds",
        ("86401",),
    ),
    (b"\x00\x00\x00\x00\x2a" + payload(), C.SCHEMA_REGISTRY_FRAMED, None, ("schema id 42", "FRAMING")),
    (payload()[:-1] + b', "member_id": "m-9"}', C.DUPLICATE_KEY, "member_id", ("'member_id'", "twice")),
    (payload(trace={"a": 1})[:-2] + b', "a": 2}}', C.DUPLICATE_KEY, "trace.a", ("'a'", "RFC 7493")),
]
#: Rejections that only some settings give: (payload, limits, code, words the detail must contain).
CHECKED_IDS = DecodeLimits(framing=SchemaRegistryFraming(FramingMode.CHECK, frozenset({7, 9})))
SETTING_CASES: list[tuple[bytes, DecodeLimits, RejectionCode, tuple[str, ...]]] = [
    (b"\x00\x00\x00\x00\x08" + payload(), CHECKED_IDS, C.UNKNOWN_SCHEMA_ID, ("schema id 8", "7, 9")),
]


@pytest.mark.parametrize(
    ("raw", "code", "field", "words"), CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_rejection_names_its_code_field_and_reason(
    raw: bytes | None, code: RejectionCode, field: str | None, words: tuple[str, ...]
) -> None:
    rejected = rejection(raw)
    assert (rejected.code, rejected.field) == (code, field), rejected
    for word in words:
        assert word in rejected.detail, (word, rejected.detail)
    if field is not None:
        assert rejected.detail.startswith(field.split("[")[0]), rejected.detail


@pytest.mark.parametrize(("raw", "limits", "code", "words"), SETTING_CASES)
def test_a_rejection_of_a_setting_names_its_code_and_reason(
    raw: bytes, limits: DecodeLimits, code: RejectionCode, words: tuple[str, ...]
) -> None:
    rejected = rejection(raw, limits=limits)
    assert (rejected.code, rejected.field) == (code, None), rejected
    for word in words:
        assert word in rejected.detail, (word, rejected.detail)


def test_every_rejection_code_has_a_case() -> None:
    # wrong_key is about the Kafka record, not its payload: the engine's source side checks it
    # (tests/unit/engine/test_source_side.py)
    codes = {case[1] for case in CASES} | {case[2] for case in SETTING_CASES}
    assert codes == set(RejectionCode) - {RejectionCode.WRONG_KEY}


def test_the_base_payload_is_valid() -> None:
    assert isinstance(decode(payload(), now=NOW), InviteSent)


def test_self_reference_is_rejected_for_every_type_with_a_counterpart() -> None:
    from ssi_stream.events.contract import CONTRACT
    from ssi_stream.events.encode import event_to_dict

    from .contract_world import example_events

    checked = 0
    for name, event in example_events().items():
        counterpart = CONTRACT[name].counterpart
        if counterpart is None:
            continue
        decoded = decode(orjson.dumps(event), now=NOW)
        assert not isinstance(decoded, Rejected)
        wire = event_to_dict(decoded) | {counterpart: event["member_id"]}
        assert rejection(orjson.dumps(wire)).code is C.SELF_REFERENCE
        checked += 1
    assert checked == 12


def test_limits_are_configurable() -> None:
    assert rejection(payload(), limits=DecodeLimits(max_bytes=100)).code is C.TOO_LARGE
    tight = DecodeLimits(max_depth=3, max_future_skew=timedelta(0))
    assert rejection(payload(t=[[[1]]]), limits=tight).code is C.TOO_DEEP
    assert not isinstance(
        decode(payload(t=[[1]]), now=NOW, limits=tight), Rejected
    )  # 3 deep, the event included
    soon = payload(occurred_at="2026-06-01T12:00:01Z")
    assert rejection(soon, limits=tight).code is C.FUTURE_TIMESTAMP
    assert not isinstance(decode(soon, now=NOW), Rejected)


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        DecodeLimits(max_depth=1)
    with pytest.raises(ValueError, match="max_bytes"):
        DecodeLimits(max_bytes=0)


def test_a_payload_exactly_at_the_size_limit_is_decoded() -> None:
    raw = payload(padding="")
    padded = payload(padding="p" * (65_536 - len(raw)))
    assert len(padded) == 65_536
    assert isinstance(decode(padded, now=NOW), InviteSent)
    assert rejection(payload(padding="p" * (65_537 - len(raw)))).code is C.TOO_LARGE


def test_timestamps_are_normalised_to_utc_and_kept_to_the_microsecond() -> None:
    event = decode(payload(occurred_at="2026-03-02T10:15:00.123456789+01:00"), now=NOW)
    assert isinstance(event, InviteSent)
    assert event.occurred_at == datetime(2026, 3, 2, 9, 15, 0, 123456, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC
    unknown_offset = decode(payload(occurred_at="2026-03-02T09:15:00-00:00"), now=NOW)
    assert isinstance(unknown_offset, InviteSent) and unknown_offset.occurred_at.hour == 9


def test_a_far_future_offset_timestamp_is_rejected_not_overflowed() -> None:
    assert rejection(payload(occurred_at="9999-12-31T23:59:59-23:59")).code is C.FUTURE_TIMESTAMP


def test_null_optional_members_mean_absent_and_unknown_members_are_ignored() -> None:
    raw = payload(target_seniority=None, schema_version=None, client={"app": "ios", "build": [5, 1]})
    event = decode(raw, now=NOW)
    assert isinstance(event, InviteSent)
    assert event.target_seniority is None and event.schema_version == 1


def test_integral_numbers_count_as_integers_as_in_json_schema() -> None:
    raw = payload(type="search_performed", search_kind="people", results_viewed=7.0, schema_version=1.0)
    event = decode(raw, now=NOW)
    assert (
        isinstance(event, SearchPerformed) and event.results_viewed == 7 and type(event.results_viewed) is int
    )
    assert (
        rejection(payload(type="search_performed", search_kind="people", results_viewed=7.5)).code
        is C.WRONG_TYPE
    )
    assert rejection(payload(type="search_performed", search_kind="people", results_viewed=10_001)).code is (
        C.OUT_OF_RANGE
    )
    assert rejection(payload(schema_version=True)).code is C.WRONG_TYPE


def test_an_empty_profile_update_is_valid_and_sections_become_a_set() -> None:
    empty = decode(payload(type="profile_updated", target_member_id=..., personalized=...), now=NOW)
    assert isinstance(empty, ProfileUpdated) and empty.completed_sections is None
    listed = decode(payload(type="profile_updated", completed_sections=[]), now=NOW)
    assert isinstance(listed, ProfileUpdated) and listed.completed_sections == frozenset()


def test_the_first_broken_rule_in_contract_order_is_reported() -> None:
    raw = payload(schema_version=3, type="nope", member_id=7, occurred_at="yesterday")
    assert rejection(raw).code is C.UNSUPPORTED_VERSION
    assert rejection(payload(type="nope", member_id=7)).code is C.UNKNOWN_TYPE
    assert rejection(payload(member_id=7, occurred_at="yesterday")).field == "member_id"
    assert isinstance(decode(payload(type="group_joined", group_id="g"), now=NOW), GroupJoined)
