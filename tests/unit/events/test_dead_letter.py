"""Dead-letter records keep enough of a rejected payload to replay or fix it, and match their schema."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

from ssi_stream.events.dead_letter import PayloadSource, dead_letter_record
from ssi_stream.events.decode import decode
from ssi_stream.events.rejection import Rejected

from .contract_world import NOW, validator_for

KAFKA = PayloadSource.kafka("ssi.events", 3, 1844)
AT = datetime(2026, 3, 2, 10, 15, 1, 204000, tzinfo=timezone(timedelta(hours=1)))


def _record(raw: bytes, source: PayloadSource = KAFKA, **kwargs: int) -> dict:
    rejected = decode(raw, now=NOW)
    assert isinstance(rejected, Rejected)
    record = dead_letter_record(raw, rejected, source=source, rejected_at=AT, **kwargs)
    validator_for("records/dead_letter.json").validate(record)
    return record


def test_a_text_payload_is_kept_whole_with_its_reason_and_source() -> None:
    raw = b'{"event_id":"e-1","type":"group_joined","member_id":"m-1","occurred_at":"2026-13-01T00:00:00Z"}'
    record = _record(raw)
    assert record["reason"] == "bad_timestamp" and record["field"] == "occurred_at"
    assert record["payload"].encode() == raw and record["payload_encoding"] == "utf8"
    assert (record["payload_truncated"], record["payload_size"]) == (False, len(raw))
    assert record["source"] == {
        "topic": "ssi.events",
        "partition": 3,
        "offset": 1844,
        "file": None,
        "line": None,
    }
    assert record["rejected_at"] == "2026-03-02T09:15:01.204000Z"


def test_a_binary_payload_is_kept_as_base64() -> None:
    raw = b"\xff\xfe{garbage"
    record = _record(raw, PayloadSource.file_line(17, "events.jsonl"))
    assert record["reason"] == "invalid_utf8" and record["payload_encoding"] == "base64"
    assert base64.b64decode(record["payload"]) == raw
    assert record["source"] == {
        "topic": None,
        "partition": None,
        "offset": None,
        "file": "events.jsonl",
        "line": 17,
    }


def test_a_huge_payload_is_cut_to_the_excerpt_on_a_character_boundary() -> None:
    raw = b'{"note": "' + "é".encode() * 50_000 + b'"}'
    record = _record(raw, excerpt_limit=4097)  # 4097 falls inside a two-byte character
    assert record["reason"] == "too_large" and record["payload_truncated"] is True
    assert record["payload_size"] == len(raw)
    kept = record["payload"].encode()
    assert len(kept) <= 4097 and raw.startswith(kept) and len(kept) >= 4095


def test_a_huge_binary_payload_is_cut_to_the_excerpt() -> None:
    raw = b"\xff" * 100_000
    record = _record(raw, excerpt_limit=1000)
    assert base64.b64decode(record["payload"]) == raw[:1000] and record["payload_truncated"] is True


def test_the_record_is_the_same_for_the_same_inputs() -> None:
    raw = b"[1, 2]"
    assert _record(raw) == _record(raw)
    assert _record(raw)["rejected_at"] == AT.astimezone(UTC).isoformat().replace("+00:00", "Z")
