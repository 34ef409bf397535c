"""Re-sending dead letters: from a dead-letter record back to the record that was rejected (pure).

`ssi-stream dlq resend` reads dead letters (from the DLQ topic or a file), keeps those a `ResendFilter`
selects, and sends each one's original value, key and headers to the events topic (`stream.dlq_resend`).
Both record versions are read: version 2 holds the whole value, the key and the headers; version 1
(workers before it) holds at most 4 KiB of the value, and its key and headers are the DLQ message's own.

The key sent is the original one. A dead letter of `replay` (a line of a file) has none: replay places
events by their `member_id`, as a producer keyed by it would, so that is its key; `key_by_member_id`
keys every event so (the fix for `wrong_key`). Error headers added by dead-lettering (Connect's
`__connect.errors.*`, `ssi-dlq-reason`) are never sent on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from ssi_stream.events.dead_letter import Headers, decode_bytes, header_pairs, is_error_header
from ssi_stream.events.framing import FRAME_BYTES, MAGIC

__all__ = [
    "DeadLetter",
    "Outgoing",
    "ResendFilter",
    "ResendTally",
    "Skipped",
    "member_id_of",
    "original_record",
    "plan_resend",
    "read_dead_letter",
]

#: The record versions `read_dead_letter` reads.
VERSIONS = (1, 2)
#: Why a message of the DLQ topic (or a line of a file) is skipped when it is no dead-letter record.
NOT_A_DEAD_LETTER = "not a dead-letter record"
_REQUIRED = ("reason", "payload", "payload_encoding", "payload_truncated", "source", "rejected_at")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead-letter record as read: the record, where it was read, and the DLQ message's key and
    headers (a file line has neither)."""

    record: Mapping[str, Any]
    position: str
    rejected_at: datetime
    message_key: bytes | None = None
    message_headers: tuple[tuple[str, bytes | None], ...] = ()

    @property
    def reason(self) -> str:
        return str(self.record["reason"])

    @property
    def origin(self) -> str:
        """Where the rejected record was read: `topic[partition]@offset` or `file:line`."""
        source = self.record["source"]
        if source.get("line") is not None:
            return f"{source.get('file') or '<stdin>'}:{source['line']}"
        return f"{source.get('topic')}[{source.get('partition')}]@{source.get('offset')}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to send to the events topic: the original key, value and headers of a dead letter."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes | None]]
    dead_letter: DeadLetter


@dataclass(frozen=True, slots=True)
class Skipped:
    """A dead letter (or something that is not one) that cannot be re-sent, and why, in a few words."""

    position: str
    why: str


@dataclass(frozen=True, slots=True)
class ResendFilter:
    """Which dead letters to re-send: every condition given must hold (none given: all).

    `reasons`: one of them; `partition`, `first_offset`, `last_offset`: where the rejected record was on
    the events topic (inclusive; a line of a file has no partition or offset, so it never matches them);
    `since` (inclusive) and `until` (exclusive): when it was rejected."""

    reasons: frozenset[str] = frozenset()
    partition: int | None = None
    first_offset: int | None = None
    last_offset: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, dead: DeadLetter) -> bool:
        source = dead.record["source"]
        if self.reasons and dead.reason not in self.reasons:
            return False
        if self.partition is not None and source.get("partition") != self.partition:
            return False
        if self.first_offset is not None or self.last_offset is not None:
            offset = source.get("offset")
            if not isinstance(offset, int):
                return False
            if self.first_offset is not None and offset < self.first_offset:
                return False
            if self.last_offset is not None and offset > self.last_offset:
                return False
        if self.since is not None and dead.rejected_at < self.since:
            return False
        return self.until is None or dead.rejected_at < self.until


def read_dead_letter(
    value: bytes | None, position: str, *, key: bytes | None = None, headers: Headers | None = None
) -> DeadLetter | Skipped:
    """A dead letter from a DLQ message's value (or a line of a file), or why it is not one."""
    try:
        record = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return Skipped(position, NOT_A_DEAD_LETTER)
    if (
        type(record) is not dict
        or record.get("schema_version") not in VERSIONS
        or any(name not in record for name in _REQUIRED)
        or type(record["source"]) is not dict
    ):
        return Skipped(position, NOT_A_DEAD_LETTER)
    try:
        rejected_at = datetime.fromisoformat(str(record["rejected_at"]))
    except ValueError:
        return Skipped(position, NOT_A_DEAD_LETTER)
    if rejected_at.tzinfo is None:
        return Skipped(position, NOT_A_DEAD_LETTER)
    return DeadLetter(record, position, rejected_at, key, tuple(header_pairs(headers)))


def plan_resend(
    dead_letters: Iterable[DeadLetter | Skipped],
    selection: ResendFilter,
    *,
    key_by_member_id: bool = False,
) -> Iterator[Outgoing | Skipped]:
    """What to send for each dead letter `selection` keeps, in order, or why it cannot be sent;
    dead letters it leaves out are not mentioned."""
    for dead in dead_letters:
        if isinstance(dead, Skipped):
            yield dead
        elif selection.matches(dead):
            yield original_record(dead, key_by_member_id=key_by_member_id)


def original_record(dead: DeadLetter, *, key_by_member_id: bool = False) -> Outgoing | Skipped:
    """The record that was dead-lettered, as it came (or why it cannot be had back)."""
    record = dead.record
    if record["reason"] == "null_value":
        return Skipped(dead.position, "a tombstone (nothing to send)")
    if record["payload_truncated"]:
        return Skipped(dead.position, "payload truncated (too large to keep whole)")
    try:
        value = decode_bytes(record["payload"], record["payload_encoding"])
        if record["schema_version"] == 1:
            key, headers = dead.message_key, list(dead.message_headers)
        else:
            key = (
                None
                if record["key"] is None
                else decode_bytes(record["key"]["value"], record["key"]["encoding"])
            )
            headers = [
                (
                    header["name"],
                    None if header["value"] is None else decode_bytes(header["value"], header["encoding"]),
                )
                for header in record["headers"]
            ]
    except (KeyError, TypeError, ValueError):
        return Skipped(dead.position, "unreadable payload, key or headers")
    from_file = record["source"].get("line") is not None
    if key_by_member_id or from_file:  # replay placed it by member id, as a producer keyed by it would
        member = member_id_of(value)
        if member is None:
            return Skipped(dead.position, "no member_id to key it by")
        key = member.encode("utf-8")
    kept = [(name, data) for name, data in headers if not is_error_header(name)]
    return Outgoing(key, value, kept, dead)


def member_id_of(value: bytes) -> str | None:
    """The `member_id` of an event payload (after Schema Registry framing, if any), or None."""
    if value[:1] == MAGIC and len(value) >= FRAME_BYTES:
        value = value[FRAME_BYTES:]
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    member = event.get("member_id") if type(event) is dict else None
    return member if type(member) is str and member else None


@dataclass(slots=True)
class ResendTally:
    """What a resend did: messages read, dead letters selected, sent (or to send), skipped by why."""

    read: int = 0
    selected: int = 0
    sent: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def count(self, item: Outgoing | Skipped) -> None:
        """Count one item of `plan_resend` (`sent` is the sender's to count)."""
        if isinstance(item, Skipped):
            self.skipped[item.why] = self.skipped.get(item.why, 0) + 1
            if item.why == NOT_A_DEAD_LETTER:
                return
        self.selected += 1

    def summary(self, source: str, destination: str, *, dry_run: bool) -> str:
        """One line: `12 read from ssi.events.dlq, 5 selected, 4 sent to ssi.events; skipped: ...`."""
        line = f"{self.read} read from {source}, {self.selected} selected, "
        if dry_run:
            line += f"{self.sent} would be sent to {destination} (dry run: nothing was sent)"
        else:
            line += f"{self.sent} sent to {destination}"
        if self.skipped:
            line += "; skipped: " + ", ".join(f"{count} {why}" for why, count in sorted(self.skipped.items()))
        return line
