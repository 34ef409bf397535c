"""Dead-letter records: a rejected record as it came (value, key, headers), why it was rejected, and where
it came from.

The shape is `schemas/v2/records/dead_letter.json` (version 1, `schemas/v1/records/dead_letter.json`, kept
a 4 KiB excerpt of the value and nothing else of the record; `events.resend` still reads it). The Faust
shell produces these to `ssi.events.dlq`, with the original key, the original headers and Kafka Connect's
error headers (`dead_letter_headers`), so tools made for Connect's dead-letter queues read them; `replay`
writes them to a JSONL file. Both build them here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ssi_stream.events.limits import DEFAULT_LIMITS
from ssi_stream.events.rejection import Rejected, RejectionCode
from ssi_stream.events.timestamps import format_timestamp

__all__ = [
    "CONNECT_ERROR_PREFIX",
    "DEAD_LETTER_SCHEMA_VERSION",
    "REASON_HEADER",
    "Headers",
    "PayloadSource",
    "dead_letter_headers",
    "dead_letter_record",
    "decode_bytes",
    "encode_bytes",
    "header_pairs",
    "is_error_header",
]

DEAD_LETTER_SCHEMA_VERSION = 2
#: Kafka Connect's dead-letter context headers (`errors.deadletterqueue.context.headers.enable`) start
#: with it: `__connect.errors.topic`, `.partition`, `.offset`, `.exception.message`, ...
CONNECT_ERROR_PREFIX = "__connect.errors."
#: ssi-stream's own header on a dead letter: the rejection reason, for tools that filter on headers.
REASON_HEADER = "ssi-dlq-reason"
#: The longest `__connect.errors.exception.message` written (a detail can quote a long member name).
MAX_MESSAGE_HEADER_CHARS = 1000

#: Kafka headers as clients give them: (name, value) pairs in order (a name may repeat; a value may be
#: None), or a mapping.
Headers = Iterable[tuple[str, bytes | None]] | Mapping[str, bytes | None]

#: C0 control characters other than tab, LF and CR: JSON writes each as a 6-byte escape.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True, slots=True)
class PayloadSource:
    """Where a payload was read: a Kafka record (topic, partition, offset) or a file line (file, line)."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    file: str | None = None
    line: int | None = None

    @classmethod
    def kafka(cls, topic: str, partition: int, offset: int) -> PayloadSource:
        return cls(topic=topic, partition=partition, offset=offset)

    @classmethod
    def file_line(cls, line: int, file: str | None = None) -> PayloadSource:
        """Line `line` (1-based) of `file` (a path or name, None when reading stdin)."""
        return cls(file=file, line=line)

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "file": self.file,
            "line": self.line,
        }


def dead_letter_record(
    raw: bytes,
    rejection: Rejected,
    *,
    source: PayloadSource,
    rejected_at: datetime,
    key: bytes | None = None,
    headers: Headers = (),
    limit: int = DEFAULT_LIMITS.max_bytes,
) -> dict[str, Any]:
    """The dead-letter record for `raw`, rejected as `rejection` at `rejected_at` (pure).

    The payload is kept up to `limit` bytes (the event size limit: only a `too_large` payload is cut),
    as text when it is readable UTF-8 and as base64 otherwise (`encode_bytes`). `key` and `headers` are
    the Kafka record's (a file line has neither); headers are kept in order while they add up to at
    most `limit` bytes of the record's JSON.
    """
    raw = bytes(raw)
    kept = _cut(raw, limit)
    encoding, payload = encode_bytes(kept)
    kept_headers, headers_truncated = _kept_headers(headers, limit)
    return {
        "schema_version": DEAD_LETTER_SCHEMA_VERSION,
        "reason": rejection.code.value,
        "field": rejection.field,
        "detail": rejection.detail,
        "payload": payload,
        "payload_encoding": encoding,
        "payload_truncated": len(kept) < len(raw),
        "payload_size": len(raw),
        "key": None if key is None else _bytes_object(bytes(key)),
        "headers": kept_headers,
        "headers_truncated": headers_truncated,
        "source": source.as_dict(),
        "rejected_at": format_timestamp(rejected_at),
    }


def encode_bytes(data: bytes) -> tuple[str, str]:
    """(encoding, text) of bytes in a record: `utf8` and the text when it is UTF-8 without control
    characters but tab, LF and CR (so JSON at most doubles it), else `base64` and their base64."""
    if _CONTROL.search(data) is None:
        try:
            return "utf8", data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return "base64", base64.b64encode(data).decode("ascii")


def decode_bytes(text: str, encoding: str) -> bytes:
    """The bytes `encode_bytes` wrote as (`encoding`, `text`); ValueError if they cannot be."""
    if encoding == "utf8":
        return text.encode("utf-8")
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise ValueError(f"not base64: {exc}") from None
    raise ValueError(f"unknown encoding {encoding!r}")


def dead_letter_headers(record: Mapping[str, Any], *, app_id: str, worker_id: str) -> list[tuple[str, bytes]]:
    """The Kafka headers of a dead letter sent to the DLQ topic: the original record's headers (without
    error headers of an earlier dead-lettering), then Kafka Connect's error context headers, then
    `ssi-dlq-reason`. Connect's values are UTF-8 text; `connector.name` is the app id, `task.id` the
    worker, `stage` says whether the value or the key was refused."""
    original = [
        (
            header["name"],
            None if header["value"] is None else decode_bytes(header["value"], header["encoding"]),
        )
        for header in record.get("headers", ())
        if not is_error_header(header["name"])
    ]
    source = record["source"]
    reason = record["reason"]
    by_key = reason == RejectionCode.WRONG_KEY
    message = f"{reason}: {record['detail']}"[:MAX_MESSAGE_HEADER_CHARS]
    context = {
        "topic": source["topic"] or "",
        "partition": str(-1 if source["partition"] is None else source["partition"]),
        "offset": str(-1 if source["offset"] is None else source["offset"]),
        "connector.name": app_id,
        "task.id": worker_id,
        "stage": "KEY_CONVERTER" if by_key else "VALUE_CONVERTER",
        "class.name": "ssi_stream.engine.source" if by_key else "ssi_stream.events.decode",
        "exception.class.name": "ssi_stream.events.rejection.Rejected",
        "exception.message": message,
    }
    connect = [(CONNECT_ERROR_PREFIX + name, value.encode("utf-8")) for name, value in context.items()]
    return [*original, *connect, (REASON_HEADER, reason.encode("ascii"))]  # type: ignore[list-item]


def is_error_header(name: str) -> bool:
    """Whether a header was added by dead-lettering (Connect's or ssi-stream's), not by the producer."""
    return name.startswith(CONNECT_ERROR_PREFIX) or name == REASON_HEADER


def header_pairs(headers: Headers | None) -> list[tuple[str, bytes | None]]:
    """Headers as (name, value) pairs in order, whatever form the client gave them in."""
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return [(name, value) for name, value in headers]


def _kept_headers(headers: Headers, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The headers as record members, in order, while their JSON adds up to at most `limit` bytes."""
    kept: list[dict[str, Any]] = []
    size = 0
    for name, value in header_pairs(headers):
        if value is None:
            header: dict[str, Any] = {"name": name, "value": None, "encoding": "utf8"}
        else:
            header = {"name": name, **_bytes_object(bytes(value))}
        size += len(orjson.dumps(header))
        if size > limit:
            return kept, True
        kept.append(header)
    return kept, False


def _bytes_object(data: bytes) -> dict[str, str]:
    encoding, text = encode_bytes(data)
    return {"value": text, "encoding": encoding}


def _cut(raw: bytes, limit: int) -> bytes:
    """`raw`, or its first `limit` bytes, cut on a character boundary when they are UTF-8 text."""
    if len(raw) <= limit:
        return raw
    cut = limit
    while cut > max(0, limit - 3) and (raw[cut] & 0xC0) == 0x80:  # a character is at most 4 bytes
        cut -= 1
    head = raw[:cut]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:  # not text: cut at the limit
        return raw[:limit]
    return head
