"""The event contract's test world: the v1 schemas, a strict validator, and strategies for events.

The validator reads `pattern` with ECMA-262 semantics, as JSON Schema requires (`$` only at the very end;
Python's `re` would also let `$` match before a final newline), and asserts the `date-time` and `date`
formats as calendar validity (the schema's patterns carry the syntax). Every verdict it gives is checked
against a second implementation, jsonschema-rs (Rust, formats asserted): a test that validates with it
fails where the two disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ssi_stream.events.contract import CONTRACT, ENVELOPE_FIELDS
from ssi_stream.events.types import (
    MessageChannel,
    PostFormat,
    ProfileSection,
    SearchKind,
    Seniority,
    ViewSource,
)

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "v1"
#: The dead-letter record the code writes (version 2; `records/dead_letter.json` is version 1's).
DEAD_LETTER = "v2/records/dead_letter.json"
#: The receiving clock of every test; generated valid timestamps stay at least a day before it.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LATEST_GENERATED = NOW - timedelta(days=2)


def _ecma_pattern(validator: Any, pattern: str, instance: object, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    regex = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
    if re.search(regex, instance) is None:  # type: ignore[arg-type]
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_calendar_day(text: object) -> bool:
    if not isinstance(text, str):
        return True
    date(int(text[0:4]), int(text[5:7]), int(text[8:10]))  # ValueError: not a day
    return True


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date-time", raises=ValueError)(_is_calendar_day)
_FORMATS.checks("date", raises=ValueError)(_is_calendar_day)
StrictValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def load_schema(relative: str) -> dict[str, Any]:
    """A schema file under schemas/v1/, or under schemas/ when `relative` starts with `v2/`."""
    folder = SCHEMAS.parent if relative.startswith("v2/") else SCHEMAS
    return json.loads((folder / relative).read_text(encoding="utf-8"))


class AgreeingValidator:
    """jsonschema's strict validator, whose every verdict jsonschema-rs must share."""

    def __init__(self, strict: Any) -> None:
        self.strict = strict
        self.second = jsonschema_rs.validator_for(
            strict.schema, validate_formats=True, registry=rs_registry(), offline=True
        )

    def _agree(self, instance: object, valid: bool) -> bool:
        assert self.second.is_valid(instance) == valid, (
            f"jsonschema says {'valid' if valid else 'invalid'}, jsonschema-rs the opposite, for {instance!r}"
        )
        return valid

    def is_valid(self, instance: object) -> bool:
        return self._agree(instance, self.strict.is_valid(instance))

    def iter_errors(self, instance: object) -> Iterator[ValidationError]:
        errors = list(self.strict.iter_errors(instance))
        self._agree(instance, not errors)
        return iter(errors)

    def validate(self, instance: object) -> None:
        for error in self.iter_errors(instance):
            raise error

    def evolve(self, *, schema: dict[str, Any]) -> AgreeingValidator:
        """The same validator for a self-contained subschema (a Kafka header's, say)."""
        return AgreeingValidator(self.strict.evolve(schema=schema))


@cache
def schema_files() -> dict[str, dict[str, Any]]:
    """Every schema under schemas/v1/ by its `$id`, so a `$ref` between them resolves without a network."""
    schemas = {}
    for path in sorted(SCHEMAS.rglob("*.json")):
        if "examples" not in path.parts:
            schema = json.loads(path.read_text(encoding="utf-8"))
            schemas[schema["$id"]] = schema
    return schemas


@cache
def schema_registry() -> Registry:
    """`schema_files` for jsonschema."""
    return Registry().with_resources(
        (uri, Resource.from_contents(schema, default_specification=DRAFT202012))
        for uri, schema in schema_files().items()
    )


@cache
def rs_registry() -> jsonschema_rs.Registry:
    """`schema_files` for jsonschema-rs."""
    return jsonschema_rs.Registry(list(schema_files().items()))


@cache
def validator_for(relative: str) -> AgreeingValidator:
    """A strict validator (see the module docstring) for one schema file (as `load_schema` finds it)."""
    schema = load_schema(relative)
    Draft202012Validator.check_schema(schema)
    return AgreeingValidator(StrictValidator(schema, format_checker=_FORMATS, registry=schema_registry()))


def example_events() -> dict[str, dict[str, Any]]:
    """The valid example of each event type, schemas/v1/examples/events/<type>.json."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((SCHEMAS / "examples" / "events").glob("*.json"))
    }


# --- strategies -------------------------------------------------------------------------------------

_ID_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))


def ids(max_size: int) -> st.SearchStrategy[str]:
    """Ids as producers send them: mostly ASCII, sometimes any Unicode, 1..max_size code points."""
    ascii_id = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_:", min_size=1, max_size=min(max_size, 24))
    return st.one_of(ascii_id, ascii_id, ascii_id, st.text(_ID_CHARS, min_size=1, max_size=max_size))


member_ids = ids(64)
object_ids = ids(128)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """Valid RFC 3339 text between 2000 and LATEST_GENERATED, any offset and 0-9 fraction digits."""
    minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    offset = timedelta(minutes=minutes)
    earliest = datetime(2000, 1, 1, tzinfo=UTC) - min(offset, timedelta(0))  # local year >= 2000
    instant = draw(
        st.datetimes(min_value=earliest.replace(tzinfo=None), max_value=LATEST_GENERATED.replace(tzinfo=None))
    )
    local = instant + offset
    digits = draw(st.integers(0, 9))
    fraction = "" if digits == 0 else "." + f"{local.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits]
    if minutes == 0 and draw(st.booleans()):
        suffix = "Z"
    else:
        sign = "-" if minutes < 0 else "+"
        suffix = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + fraction + suffix


def _enum(enum: type) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum])


_seniority = _enum(Seniority)
#: Strategies for each type-specific field (valid values only).
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "industry": st.text(min_size=1, max_size=100),
    "seniority": _seniority,
    "completed_sections": st.lists(_enum(ProfileSection), unique=True),
    "target_member_id": member_ids,
    "personalized": st.booleans(),
    "target_seniority": _seniority,
    "inviter_member_id": member_ids,
    "inviter_seniority": _seniority,
    "member_seniority": _seniority,
    "other_member_id": member_ids,
    "other_seniority": _seniority,
    "post_id": object_ids,
    "format": _enum(PostFormat),
    "post_author_id": member_ids,
    "recipient_member_id": member_ids,
    "thread_id": object_ids,
    "is_reply": st.booleans(),
    "channel": _enum(MessageChannel),
    "search_kind": _enum(SearchKind),
    "results_viewed": st.integers(0, 10_000),
    "viewed_member_id": member_ids,
    "source": _enum(ViewSource),
    "recommender_member_id": member_ids,
    "group_id": object_ids,
    "followed_member_id": member_ids,
    "opportunity_id": object_ids,
    "contact_member_id": member_ids,
    "amount": st.one_of(st.integers(0, 10**15), st.floats(0, 1e15)),
    "currency": st.sampled_from(["EUR", "USD", "JPY", "GBP", "INR", "CHF"])
    | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    "duration_seconds": st.integers(0, 86_400),
}

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)


def depth(value: object) -> int:
    """Nesting depth of a JSON value: 0 for a scalar, 1 + the deepest member for a container."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN or infinities)."""
    return st.recursive(
        json_scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


@st.composite
def valid_events(draw: st.DrawFn, *, extras: bool = True) -> dict[str, Any]:
    """A valid wire event as a dict: optional members present, absent or null; sometimes unknown members."""
    spec = CONTRACT[draw(st.sampled_from(sorted(CONTRACT)))]
    actor = draw(member_ids)
    event: dict[str, Any] = {
        "event_id": draw(object_ids),
        "type": spec.name,
        "member_id": actor,
        "occurred_at": draw(timestamps()),
    }
    version = draw(st.sampled_from(["absent", 1, None, 1.0]))
    if version != "absent":
        event["schema_version"] = version
    for field in spec.fields:
        presence = "present" if field.required else draw(st.sampled_from(["present", "absent", "null"]))
        if presence == "present":
            value = draw(FIELD_VALUES[field.name])
            if field.name == spec.counterpart:
                value = draw(member_ids.filter(lambda other: other != actor))
            event[field.name] = value
        elif presence == "null":
            event[field.name] = None
    for given, needed in spec.requires:  # a currency with an amount
        if event.get(given) is not None and event.get(needed) is None:
            event[needed] = draw(FIELD_VALUES[needed])
    if extras and draw(st.integers(0, 4)) == 0:
        known = set(ENVELOPE_FIELDS) | {field.name for field in spec.fields}
        names = st.text(min_size=1, max_size=12).filter(lambda name: name not in known)
        values = json_values().filter(lambda value: depth(value) <= 7)
        event.update(draw(st.dictionaries(names, values, max_size=3)))
    if draw(st.booleans()):  # member order carries no meaning
        items = list(event.items())
        event = dict(draw(st.permutations(items)))
    return event
