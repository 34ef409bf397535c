"""RFC 3339 timestamps on the wire: one strict syntax, shared word for word with the JSON Schema.

Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z` or `±HH:MM`, uppercase `T` and `Z` (RFC 3339
§5.6 lets a specification require uppercase), 1–9 fraction digits (kept to the microsecond), not before
2000-01-01 (as written, and as an instant). Rejected although `datetime.fromisoformat` takes them: no
offset, a space or lowercase separator, week or ordinal dates, basic (no-dash) forms, leap second `:60`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ssi_stream.events.rejection import Rejected, RejectionCode, describe, show

#: The accepted syntax, unanchored; `schemas/v1/events/event.json` uses it as `^…$`. Years before 2000
#: are outside it on purpose (they are rejected as `ancient_timestamp`).
TIMESTAMP_PATTERN = (
    r"[2-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
#: Earliest accepted instant. The pattern's year rule says the same for the date as written; only a
#: positive offset on 2000-01-01 can pass the one and not the other (a rule the schema cannot state).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

_match = re.compile(TIMESTAMP_PATTERN).fullmatch
_any_year = re.compile("[0-9]{4}" + TIMESTAMP_PATTERN[len("[2-9][0-9]{3}") :]).fullmatch
_from_iso = datetime.fromisoformat
_TIMESTAMP_MAX_CHARS = 40


def parse_timestamp(field: str, value: object, latest: datetime) -> datetime | Rejected:
    """`value` as a UTC datetime, or why it is not an accepted timestamp no later than `latest`."""
    if type(value) is not str:
        return Rejected(
            RejectionCode.WRONG_TYPE,
            field,
            f"{field}: expected an RFC 3339 timestamp string, got {describe(value)}",
        )
    if len(value) > _TIMESTAMP_MAX_CHARS or _match(value) is None:
        return _syntax_problem(field, value)
    try:
        when = _from_iso(value)
    except ValueError:
        return Rejected(
            RejectionCode.BAD_TIMESTAMP,
            field,
            f"{field}: {show(value)} is not a valid calendar date and time",
        )
    if when > latest:  # compared before conversion: converting year 9999 to UTC can overflow
        return Rejected(
            RejectionCode.FUTURE_TIMESTAMP,
            field,
            f"{field}: {show(value)} is later than {format_timestamp(latest)}, the latest accepted now",
        )
    if when.tzinfo is UTC:
        return when
    when = when.astimezone(UTC)
    if when < EARLIEST:  # "2000-01-01T05:00:00+06:00": the written year passes, the instant does not
        return Rejected(
            RejectionCode.ANCIENT_TIMESTAMP,
            field,
            f"{field}: {show(value)} is before 2000-01-01T00:00:00Z, the earliest accepted instant",
        )
    return when


def _syntax_problem(field: str, value: str) -> Rejected:
    if len(value) <= _TIMESTAMP_MAX_CHARS and _any_year(value) is not None:
        return Rejected(
            RejectionCode.ANCIENT_TIMESTAMP,
            field,
            f"{field}: {show(value)} is before 2000-01-01, the earliest accepted date",
        )
    return Rejected(
        RejectionCode.BAD_TIMESTAMP,
        field,
        f"{field}: {show(value)} is not an RFC 3339 timestamp with offset (like 2026-03-02T09:15:00Z)",
    )


def format_timestamp(when: datetime) -> str:
    """Canonical wire form of an aware datetime: UTC, `Z`, microseconds only when non-zero."""
    text = when.astimezone(UTC).isoformat()
    return text[:-6] + "Z"  # isoformat of a UTC datetime always ends in "+00:00"
