"""Typed `Event` -> canonical wire JSON: the form the simulator publishes and `decode` reads back.

Canonical means: envelope first (`event_id`, `type`, `member_id`, `occurred_at`, `schema_version`), then the
type's fields in contract order; absent optional fields omitted (never `null`); `occurred_at` in UTC with
`Z`; `completed_sections` in `ProfileSection` declaration order. `decode(encode(e), ...) == e`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from ssi_stream.events.contract import CONTRACT, SCHEMA_VERSION
from ssi_stream.events.timestamps import format_timestamp
from ssi_stream.events.types import Event, ProfileSection

__all__ = ["encode", "event_to_dict"]

_FIELD_NAMES = {spec.cls: tuple(field.name for field in spec.fields) for spec in CONTRACT.values()}
_SECTION_ORDER = {section: index for index, section in enumerate(ProfileSection)}


def event_to_dict(event: Event) -> dict[str, Any]:
    """The canonical wire object of `event`, with plain JSON values only."""
    wire: dict[str, Any] = {
        "event_id": event.event_id,
        "type": event.type,
        "member_id": event.member_id,
        "occurred_at": format_timestamp(event.occurred_at),
        "schema_version": SCHEMA_VERSION,
    }
    for name in _FIELD_NAMES[type(event)]:
        value = getattr(event, name)
        if value is not None:
            wire[name] = _wire_value(value)
    return wire


def encode(event: Event) -> bytes:
    """`event` as canonical UTF-8 JSON bytes (compact, no trailing newline)."""
    return orjson.dumps(event_to_dict(event))


def _wire_value(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, frozenset):
        return [section.value for section in sorted(value, key=_SECTION_ORDER.__getitem__)]
    if isinstance(value, datetime):  # pragma: no cover - no type field is a datetime today
        return format_timestamp(value)
    return value
