"""Why an event was rejected: a machine code, the offending field and a sentence a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectionCode(StrEnum):
    """Machine-readable rejection reasons; stable: they travel in dead-letter records (docs/events.md)."""

    TOO_LARGE = "too_large"
    INVALID_UTF8 = "invalid_utf8"
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    NOT_OBJECT = "not_object"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    BAD_ENUM = "bad_enum"
    DUPLICATE_ITEM = "duplicate_item"
    BAD_TIMESTAMP = "bad_timestamp"
    ANCIENT_TIMESTAMP = "ancient_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    SELF_REFERENCE = "self_reference"
    #: A Kafka record with no value at all (a tombstone): nothing to decode.
    NULL_VALUE = "null_value"
    #: A Kafka record whose key is missing or is not the event's member_id (the topic is keyed by it).
    WRONG_KEY = "wrong_key"
    #: A value framed by a Schema Registry serializer (magic byte 0, schema id) where framing is refused.
    SCHEMA_REGISTRY_FRAMED = "schema_registry_framed"
    #: A framed value whose schema id is not one of the accepted ids (framing `check`).
    UNKNOWN_SCHEMA_ID = "unknown_schema_id"
    #: An object with a member name twice (I-JSON, RFC 7493: names are unique; parsers disagree on which
    #: value wins).
    DUPLICATE_KEY = "duplicate_key"
    #: A `currency` that is not an ISO 4217 alphabetic code (three capital letters).
    BAD_CURRENCY = "bad_currency"


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event that failed the contract: `code` for machines, `detail` for people.

    `field` is the offending member as a path (`occurred_at`, `completed_sections[2]`), or None when the
    payload as a whole is at fault (not JSON, too large, ...).
    """

    code: RejectionCode
    field: str | None
    detail: str


def show(value: str, limit: int = 60) -> str:
    """A string quoted for a rejection detail, cut to `limit` characters."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "…"


def describe(value: object) -> str:
    """How a JSON value reads in a rejection detail: `null`, `true`, `number 5`, `string 'x'`, `an array…`."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is str:
        return f"string {show(value)}"
    if type(value) in (int, float):
        return f"number {value!r}"
    if type(value) is list:
        return f"an array of {len(value)} items"
    if type(value) is dict:
        return f"an object of {len(value)} members"
    return type(value).__name__
