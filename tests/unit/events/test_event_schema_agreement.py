"""The decoder and schemas/v1/events/event.json accept and reject the same payloads.

Two rules are beyond JSON Schema and are the decoder's alone: `self_reference` (a schema cannot compare two
members) and `future_timestamp` (it depends on the receiving clock). A self-reference must otherwise be a
valid event; a future timestamp is re-decoded with a clock at the end of time before comparing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ssi_stream.events.contract import CONTRACT, ENVELOPE_FIELDS
from ssi_stream.events.decode import decode
from ssi_stream.events.rejection import Rejected, RejectionCode
from ssi_stream.events.types import Event

from .contract_world import (
    FIELD_VALUES,
    NOW,
    example_events,
    json_scalars,
    json_values,
    member_ids,
    timestamps,
    valid_events,
    validator_for,
)

END_OF_TIME = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
AGREEMENT = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Timestamp texts that `datetime.fromisoformat` (3.11) or a lax reader would take, and the contract does not.
NOT_RFC3339 = [
    "2026-03-02T09:15:00",  # no offset
    "2026-03-02 09:15:00Z",  # space separator
    "2026-03-02t09:15:00z",  # lowercase
    "2026-W10-1T09:15:00Z",  # week date
    "2026-061T09:15:00Z",  # ordinal date
    "20260302T091500Z",  # basic format
    "2026-03-02T09:15Z",  # no seconds
    "2026-03-02T09:15:00,5Z",  # comma fraction
    "2026-03-02T09:15:00.Z",  # empty fraction
    "2026-03-02T09:15:00.1234567890Z",  # ten fraction digits
    "2026-03-02T09:15:60Z",  # leap second
    "2026-03-02T24:00:00Z",  # hour 24
    "2026-03-02T09:15:00+24:00",  # offset out of range
    "2026-03-02T09:15:00+0100",  # offset without colon
    "2026-03-02T09:15:00+01",  # offset hours only
    "2026-02-30T09:15:00Z",  # not a calendar day
    "2025-02-29T09:15:00Z",  # not a leap year
    "2026-13-01T00:00:00Z",  # month 13
    "2026-03-02T09:15:00Z\n",  # trailing newline
    " 2026-03-02T09:15:00Z",  # leading space
    "２０２６-03-02T09:15:00Z",  # fullwidth digits
    "1999-12-31T23:59:59Z",  # before 2000
    "0001-01-01T00:00:00+01:00",  # before 2000, and would underflow in UTC
    "2026-03-02",  # a date only
    "",
]


def _decode_with_any_clock(payload: bytes) -> Event | Rejected:
    result = decode(payload, now=NOW)
    if isinstance(result, Rejected) and result.code is RejectionCode.FUTURE_TIMESTAMP:
        result = decode(payload, now=END_OF_TIME)
        assume(not (isinstance(result, Rejected) and result.code is RejectionCode.FUTURE_TIMESTAMP))
    return result


def assert_agree(document: Any) -> None:
    """Decoder and schema agree on `document`, serialised as producers would."""
    payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
    result = _decode_with_any_clock(payload)
    errors = [error.message for error in validator_for("events/event.json").iter_errors(json.loads(payload))]
    if isinstance(result, Rejected) and result.code is RejectionCode.SELF_REFERENCE:
        assert not errors, f"{result}: the schema also found {errors}"
        return
    if isinstance(result, Rejected) and result.code is RejectionCode.ANCIENT_TIMESTAMP and not errors:
        instant = datetime.fromisoformat(document["occurred_at"])  # written in 2000, UTC instant in 1999
        assert instant < datetime(2000, 1, 1, tzinfo=UTC), result
        return
    decoded_ok = not isinstance(result, Rejected)
    assert decoded_ok == (not errors), f"decoder: {result}\nschema: {errors}\npayload: {payload!r}"


# --- mutations: each takes a valid event and breaks (or, sometimes, keeps) it in one way -----------------


def _type_fields(event: dict[str, Any]) -> list[str]:
    """The type-specific fields of `event`'s type, or of a random type once a mutation changed it."""
    spec = CONTRACT.get(event.get("type")) if isinstance(event.get("type"), str) else None
    return [field.name for field in (spec or CONTRACT["message_sent"]).fields]


def drop_member(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    if event:
        del event[draw(st.sampled_from(sorted(event)))]
    return event


def replace_with_any_value(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    name = draw(st.sampled_from([*ENVELOPE_FIELDS, *_type_fields(event)]))
    event[name] = draw(json_values(max_leaves=3))
    return event


def null_member(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    if event:
        event[draw(st.sampled_from(sorted(event)))] = None
    return event


def bad_length(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    limits = {
        "event_id": 128,
        "member_id": 64,
        "industry": 100,
        "post_id": 128,
        "thread_id": 128,
        "group_id": 128,
    }
    limits |= {name: 64 for name in FIELD_VALUES if name.endswith("member_id") or name == "post_author_id"}
    names = [name for name in [*ENVELOPE_FIELDS, *_type_fields(event)] if name in limits]
    name = draw(st.sampled_from(names))
    size = draw(st.sampled_from([0, limits[name], limits[name] + 1, limits[name] + 50]))
    event[name] = draw(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=size, max_size=size)
    )
    return event


def bad_enum(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    enums = [name for name in _type_fields(event) if name in ENUM_FIELDS] or ["type"]
    event[draw(st.sampled_from(enums))] = draw(
        st.one_of(st.text(max_size=12), st.sampled_from(["VP", "Post", ""]))
    )
    return event


def bad_sections(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    sections = draw(FIELD_VALUES["completed_sections"])
    extra = draw(st.one_of(st.sampled_from(sections or ["photo"]), json_scalars))
    event.update(type="profile_updated", completed_sections=[*sections, extra])
    return event


def bad_timestamp(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    text = draw(timestamps())
    position = draw(st.integers(0, len(text)))
    broken = draw(
        st.one_of(
            st.sampled_from(NOT_RFC3339),
            st.just(text[:position] + text[position + 1 :]),  # a character lost
            st.text(max_size=2).map(lambda s: text[:position] + s + text[position + 1 :]),  # one replaced
        )
    )
    event["occurred_at"] = broken
    return event


def odd_version(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    event["schema_version"] = draw(
        st.one_of(st.integers(-3, 3), st.sampled_from([2.0, 1.5, "1", True]), json_scalars)
    )
    return event


def odd_results_viewed(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    value = st.one_of(
        st.integers(-5, 10_005), st.sampled_from([10_000.0, 3.5, -0.0, 1e300, 2**70]), json_scalars
    )
    event.update(type="search_performed", search_kind="people", results_viewed=draw(value))
    return event


def odd_money(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    """An opportunity or deal with any amount and currency, each maybe absent or null."""
    event.update(type=draw(st.sampled_from(["opportunity_created", "deal_won", "deal_lost"])))
    event.setdefault("opportunity_id", "opp-1")
    amounts = st.one_of(
        st.integers(-5, 10**16), st.sampled_from([1e15, 1e15 + 1, -0.0, 0.5, 2**70]), json_scalars
    )
    currencies = st.one_of(
        st.sampled_from(["EUR", "eur", "EU", "EURO", "ÉUR", "E1R", "usd", "JPY"]),
        st.text(max_size=4),
        json_scalars,
    )
    for name, values in (("amount", amounts), ("currency", currencies)):
        presence = draw(st.sampled_from(["value", "absent", "null"]))
        if presence == "value":
            event[name] = draw(values)
        elif presence == "null":
            event[name] = None
        else:
            event.pop(name, None)
    return event


def odd_call(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    value = st.one_of(st.integers(-5, 86_405), st.sampled_from([86_400.0, 60.5, 2**70]), json_scalars)
    event.update(type="call_logged", duration_seconds=draw(value))
    return event


def deep_extra(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    levels = draw(st.integers(5, 10))
    value: Any = draw(json_scalars)
    for _ in range(levels):
        value = [value] if draw(st.booleans()) else {"k": value}
    event[draw(st.sampled_from(["x-trace", "meta", ""]))] = value
    return event


def other_type(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    event["type"] = draw(st.one_of(st.sampled_from(sorted(CONTRACT)), st.text(max_size=20)))
    return event


def self_reference(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    spec = CONTRACT.get(event.get("type")) if isinstance(event.get("type"), str) else None
    if spec is not None and spec.counterpart is not None and "member_id" in event:
        event[spec.counterpart] = event["member_id"]
    return event


def not_an_object(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    return draw(st.one_of(json_scalars, st.lists(st.just(event), max_size=2)))


ENUM_FIELDS = {"seniority", "target_seniority", "inviter_seniority", "member_seniority", "other_seniority"}
ENUM_FIELDS |= {"format", "channel", "search_kind", "source"}
MUTATIONS = [
    drop_member,
    replace_with_any_value,
    null_member,
    bad_length,
    bad_enum,
    bad_sections,
    bad_timestamp,
    odd_version,
    odd_results_viewed,
    odd_money,
    odd_call,
    deep_extra,
    other_type,
    self_reference,
    not_an_object,
]


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    event = draw(valid_events())
    for _ in range(draw(st.integers(1, 2))):
        if not isinstance(event, dict):
            break
        event = draw(st.sampled_from(MUTATIONS))(draw, event)
    return event


# --- laws -------------------------------------------------------------------------------------------------


@AGREEMENT
@given(valid_events())
def test_every_valid_event_is_accepted_by_decoder_and_schema(event: dict[str, Any]) -> None:
    payload = json.dumps(event, ensure_ascii=False).encode("utf-8")
    result = decode(payload, now=NOW)
    assert not isinstance(result, Rejected), (result, event)
    assert not list(validator_for("events/event.json").iter_errors(event))


@AGREEMENT
@given(mutated_events())
def test_decoder_and_schema_agree_on_mutated_events(document: Any) -> None:
    assert_agree(document)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(NOT_RFC3339), member_ids)
def test_timestamps_outside_the_rfc3339_profile_are_rejected_by_both(text: str, actor: str) -> None:
    event = {
        "event_id": "e-1",
        "type": "group_joined",
        "member_id": actor,
        "occurred_at": text,
        "group_id": "g",
    }
    result = decode(json.dumps(event).encode(), now=NOW)
    assert isinstance(result, Rejected) and result.field == "occurred_at", result
    assert result.code in {RejectionCode.BAD_TIMESTAMP, RejectionCode.ANCIENT_TIMESTAMP}
    assert not validator_for("events/event.json").is_valid(event)


def test_every_example_event_is_valid_for_decoder_and_schema() -> None:
    examples = example_events()
    assert sorted(examples) == sorted(CONTRACT), "one example per event type"
    for name, event in examples.items():
        assert event["type"] == name
        assert_agree(event)
        assert not isinstance(decode(json.dumps(event).encode(), now=NOW), Rejected)
