"""Dead-letter records: a rejected payload, why it was rejected and where it came from.

The shape is `schemas/v1/records/dead_letter.json`. The Faust shell produces these to `ssi.events.dlq`;
`replay` writes them to a JSONL file. Both build them here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ssi_stream.events.rejection import Rejected
from ssi_stream.events.timestamps import format_timestamp

__all__ = ["DEAD_LETTER_SCHEMA_VERSION", "DEFAULT_EXCERPT_BYTES", "PayloadSource", "dead_letter_record"]

#: Payload bytes kept in a record; bigger payloads are cut (and `payload_truncated` says so).
DEFAULT_EXCERPT_BYTES = 4096
DEAD_LETTER_SCHEMA_VERSION = 1


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
    excerpt_limit: int = DEFAULT_EXCERPT_BYTES,
) -> dict[str, Any]:
    """The dead-letter record for `raw`, rejected as `rejection` at `rejected_at` (pure).

    The payload is kept as text when it is valid UTF-8, else as base64 of its bytes; either way at most
    its first `excerpt_limit` bytes (cut on a character boundary for text).
    """
    raw = bytes(raw)
    encoding, excerpt, kept = _excerpt(raw, excerpt_limit)
    return {
        "schema_version": DEAD_LETTER_SCHEMA_VERSION,
        "reason": rejection.code.value,
        "field": rejection.field,
        "detail": rejection.detail,
        "payload": excerpt,
        "payload_encoding": encoding,
        "payload_truncated": kept < len(raw),
        "payload_size": len(raw),
        "source": source.as_dict(),
        "rejected_at": format_timestamp(rejected_at),
    }


def _excerpt(raw: bytes, limit: int) -> tuple[str, str, int]:
    """(encoding, excerpt text, number of payload bytes it holds)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        kept = raw[:limit]
        return "base64", base64.b64encode(kept).decode("ascii"), len(kept)
    if len(raw) <= limit:
        return "utf8", text, len(raw)
    cut = limit
    while cut > 0 and (raw[cut] & 0xC0) == 0x80:  # do not split a multi-byte character
        cut -= 1
    return "utf8", raw[:cut].decode("utf-8"), cut
