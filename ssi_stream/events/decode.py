"""Bytes from the wire -> a typed `Event`, or a `Rejected` saying precisely why not.

`decode` never raises on bad input: every byte string gets an answer. It parses with orjson and checks
with the hand-written table in `contract.py` (no generic schema interpretation on the hot path). Checks run
in a fixed order, and the first failure is the one reported: size, Schema Registry framing, UTF-8, JSON,
unique member names, object, `schema_version`, `type`, `event_id`, `member_id`, `occurred_at`, the type's
fields in wire order, the fields one requires (a currency with an amount), the nesting depth of unknown
fields, and finally the counterpart (self-reference) rule. Unknown fields are ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

import orjson

from ssi_stream.events.contract import (
    CONTRACT,
    ENVELOPE_FIELDS,
    MEMBER_ID_CHARS,
    OBJECT_ID_CHARS,
    SCHEMA_VERSION,
    Check,
    TypeSpec,
    member_id,
    object_id,
)
from ssi_stream.events.duplicate_names import repeated_name_in_rewrite
from ssi_stream.events.framing import FRAME_BYTES, unframe
from ssi_stream.events.limits import DEFAULT_LIMITS, DecodeLimits
from ssi_stream.events.rejection import Rejected, RejectionCode, describe, show
from ssi_stream.events.timestamps import parse_timestamp
from ssi_stream.events.types import Event

__all__ = ["decode"]

_loads = orjson.loads
_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError

_new = object.__new__
Setter = Callable[[Event, object], None]


def _setter(cls: type[Event], name: str) -> Setter:
    """The slot's own setter: writes a frozen instance's field without going through `__init__`."""
    return getattr(cls, name).__set__  # type: ignore[no-any-return]


class _Plan(NamedTuple):
    """How to decode one type: `fields` holds (name, check, required, setter) in wire order."""

    cls: type[Event]
    envelope: tuple[Setter, Setter, Setter, Setter]  # event_id, member_id, occurred_at, schema_version
    fields: tuple[tuple[str, Check, bool, Setter], ...]
    counterpart: str | None
    known: frozenset[str]  # every top-level name the type defines
    requires: tuple[tuple[str, str], ...]  # (given, needed): optional fields that come together


def _plan(spec: TypeSpec) -> _Plan:
    """The plan for one type. Decoding fills a bare instance slot by slot, because a frozen dataclass
    `__init__` costs more than all the checks together; `_assert_constructible` guards what that skips.
    """
    cls = spec.cls
    _assert_constructible(spec)
    envelope = (
        _setter(cls, "event_id"),
        _setter(cls, "member_id"),
        _setter(cls, "occurred_at"),
        _setter(cls, "schema_version"),
    )
    fields = tuple((f.name, f.check, f.required, _setter(cls, f.name)) for f in spec.fields)
    known = frozenset(ENVELOPE_FIELDS) | {f.name for f in spec.fields}
    return _Plan(cls, envelope, fields, spec.counterpart, known, spec.requires)


def _assert_constructible(spec: TypeSpec) -> None:
    """Filling slots directly is only equivalent to `__init__` if the class has no logic of its own."""
    names = {f.name for f in dataclasses.fields(spec.cls)}
    expected = {"event_id", "member_id", "occurred_at", "schema_version"} | {f.name for f in spec.fields}
    if names != expected or hasattr(spec.cls, "__post_init__"):
        raise RuntimeError(
            f"{spec.cls.__name__} no longer matches contract.py (fields {sorted(names ^ expected)} or a "
            "__post_init__): update the contract table and decode._plan together"
        )


_PLANS = {name: _plan(spec) for name, spec in CONTRACT.items()}
_MAX_EVENT_ID = OBJECT_ID_CHARS[1]
_MAX_MEMBER_ID = MEMBER_ID_CHARS[1]
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
_TYPE_NAMES = ", ".join(CONTRACT)


def decode(raw: bytes | None, *, now: datetime, limits: DecodeLimits = DEFAULT_LIMITS) -> Event | Rejected:
    """Decode one event payload received at `now` (an aware datetime); pure, never raises on bad input.

    `None` is a Kafka record without a value (a tombstone): rejected as `null_value`."""
    if raw is None:
        return _NULL_VALUE
    if len(raw) > limits.max_bytes:
        return Rejected(
            RejectionCode.TOO_LARGE, None, f"payload is {len(raw)} bytes; the limit is {limits.max_bytes}"
        )
    framed = 0
    if raw[:1] == b"\x00" and len(raw) >= FRAME_BYTES:  # framing.MAGIC, as a constant
        body = unframe(raw, limits.framing)
        if type(body) is Rejected:
            return body
        raw, framed = body, FRAME_BYTES  # type: ignore[assignment]
    try:
        obj = _loads(raw)
    except _JSONDecodeError as error:
        return _unparseable(raw, error, framed)
    try:  # member names are unique if orjson writes back the text as it came (`duplicate_names`)
        rewritten = _dumps(obj)
    except TypeError:  # too deep for orjson to write
        rewritten = None
    if rewritten != raw:
        repeated = repeated_name_in_rewrite(raw, rewritten)
        if repeated is not None:
            return repeated
    if type(obj) is not dict:
        return Rejected(RejectionCode.NOT_OBJECT, None, f"payload is {describe(obj)}, not a JSON object")

    version = obj.get("schema_version")
    if version is not None and (version != SCHEMA_VERSION or version is True):
        return _version_problem(version)
    type_name = obj.get("type")
    plan = _PLANS.get(type_name) if type(type_name) is str else None
    if plan is None:
        return _type_problem(obj, type_name)
    cls, (set_event_id, set_member_id, set_occurred_at, set_version), fields, counterpart, known, requires = (
        plan
    )
    present = 2 if version is not None else 1  # non-null known members seen, to spot unknown ones

    event_id = obj.get("event_id")
    if type(event_id) is not str or not 0 < len(event_id) <= _MAX_EVENT_ID:  # inline fast path
        return _field_problem(obj, "event_id", object_id)
    actor = obj.get("member_id")
    if type(actor) is not str or not 0 < len(actor) <= _MAX_MEMBER_ID:
        return _field_problem(obj, "member_id", member_id)
    occurred_at = obj.get("occurred_at")
    if occurred_at is None:
        return _absent(obj, "occurred_at")
    try:
        latest = now + limits.max_future_skew
    except OverflowError:  # a clock at the end of time: nothing is in the future
        latest = _END_OF_TIME
    when = parse_timestamp("occurred_at", occurred_at, latest)
    if type(when) is Rejected:
        return when
    event = _new(cls)
    set_event_id(event, event_id)
    set_member_id(event, actor)
    set_occurred_at(event, when)
    set_version(event, SCHEMA_VERSION)
    present += 3

    for name, check, required, set_field in fields:
        raw_value = obj.get(name)
        if raw_value is None:
            if required:
                return _absent(obj, name)
            set_field(event, None)
            continue
        value = check(name, raw_value)
        if type(value) is Rejected:
            return value
        set_field(event, value)
        present += 1

    for given, needed in requires:
        if getattr(event, given) is not None and getattr(event, needed) is None:
            return _required_with(obj, needed, given)
    if len(obj) > present:
        deep = _deep_unknown_field(obj, known, limits.max_depth)
        if deep is not None:
            return deep
    if counterpart is not None and getattr(event, counterpart) == actor:
        return Rejected(
            RejectionCode.SELF_REFERENCE,
            counterpart,
            f"{counterpart}: {show(actor)} is the acting member_id itself; "
            f"{type_name} needs two different members",
        )
    return event


_NULL_VALUE = Rejected(RejectionCode.NULL_VALUE, None, "the record has no value (a tombstone): not an event")


def _field_problem(obj: dict, name: str, check: Check) -> Rejected:
    value = obj.get(name)
    if value is None:
        return _absent(obj, name)
    problem = check(name, value)
    assert type(problem) is Rejected, f"{name}: the inline check and {check} disagree on {value!r}"
    return problem


def _absent(obj: dict, name: str) -> Rejected:
    if name in obj:
        return Rejected(RejectionCode.WRONG_TYPE, name, f"{name}: is null; it is required")
    return Rejected(RejectionCode.MISSING_FIELD, name, f"{name}: missing; it is required")


def _required_with(obj: dict, name: str, given: str) -> Rejected:
    if name in obj:
        return Rejected(RejectionCode.WRONG_TYPE, name, f"{name}: is null; it is required with {given}")
    return Rejected(RejectionCode.MISSING_FIELD, name, f"{name}: missing; it is required with {given}")


def _unparseable(raw: bytes, error: orjson.JSONDecodeError, framed: int = 0) -> Rejected:
    """Why `raw` (the value's bytes after `framed` bytes of framing) is not JSON."""
    message = str(error)
    if "depth limit" in message or "recursion" in message:
        return Rejected(
            RejectionCode.TOO_DEEP, None, f"payload nests too deep for the JSON parser ({message})"
        )
    try:
        bytes(raw).decode("utf-8")
    except UnicodeDecodeError as bad:
        return Rejected(
            RejectionCode.INVALID_UTF8,
            None,
            f"payload is not UTF-8: byte 0x{raw[bad.start]:02x} at offset {framed + bad.start} "
            f"({bad.reason})",
        )
    after = f" (after {framed} bytes of Schema Registry framing)" if framed else ""
    return Rejected(RejectionCode.NOT_JSON, None, f"payload is not JSON{after}: {message}")


def _version_problem(version: object) -> Rejected:
    kind = type(version)
    if kind is int or (kind is float and version.is_integer()):  # type: ignore[union-attr]
        return Rejected(
            RejectionCode.UNSUPPORTED_VERSION,
            "schema_version",
            f"schema_version: {version!r} is not supported; this decoder reads version {SCHEMA_VERSION}",
        )
    return Rejected(
        RejectionCode.WRONG_TYPE,
        "schema_version",
        f"schema_version: expected the integer {SCHEMA_VERSION}, got {describe(version)}",
    )


def _type_problem(obj: dict, type_name: object) -> Rejected:
    if type_name is None:
        return _absent(obj, "type")
    if type(type_name) is not str:
        return Rejected(
            RejectionCode.WRONG_TYPE, "type", f"type: expected an event type name, got {describe(type_name)}"
        )
    return Rejected(
        RejectionCode.UNKNOWN_TYPE, "type", f"type: {show(type_name)} is not an event type ({_TYPE_NAMES})"
    )


def _deep_unknown_field(obj: dict, known: frozenset[str], max_depth: int) -> Rejected | None:
    for name, value in obj.items():
        if name not in known and _deeper_than(value, max_depth - 1):
            return Rejected(
                RejectionCode.TOO_DEEP,
                name,
                f"{name}: nests deeper than {max_depth} levels, counting the event object as 1",
            )
    return None


def _deeper_than(value: object, budget: int) -> bool:
    """Whether `value` nests more than `budget` containers deep (recursion bounded by `budget`)."""
    kind = type(value)
    if kind is dict:
        children = value.values()  # type: ignore[union-attr]
    elif kind is list:
        children = value  # type: ignore[assignment]
    else:
        return False
    if budget == 0:
        return True
    return any(_deeper_than(child, budget - 1) for child in children)  # type: ignore[attr-defined]
