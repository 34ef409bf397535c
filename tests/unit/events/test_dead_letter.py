"""Dead-letter records keep a rejected record as it came (value up to the size limit, key, headers), so it
can be re-sent as it was; they match their schema, and their Kafka headers are Connect's."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.dead_letter import (
    CONNECT_ERROR_PREFIX,
    REASON_HEADER,
    PayloadSource,
    dead_letter_headers,
    dead_letter_record,
    decode_bytes,
    encode_bytes,
    is_error_header,
)
from ssi_stream.events.decode import decode
from ssi_stream.events.limits import DEFAULT_LIMITS
from ssi_stream.events.rejection import Rejected

from .contract_world import DEAD_LETTER, NOW, validator_for

KAFKA = PayloadSource.kafka("ssi.events", 3, 1844)
AT = datetime(2026, 3, 2, 10, 15, 1, 204000, tzinfo=timezone(timedelta(hours=1)))
BAD_TIME = b'{"event_id":"e-1","type":"group_joined","member_id":"m-1","occurred_at":"2026-13-01T00:00:00Z"}'


def _record(raw: bytes, source: PayloadSource = KAFKA, **kwargs: object) -> dict:
    rejected = decode(raw, now=NOW)
    assert isinstance(rejected, Rejected)
    record = dead_letter_record(raw, rejected, source=source, rejected_at=AT, **kwargs)  # type: ignore[arg-type]
    validator_for(DEAD_LETTER).validate(orjson.loads(orjson.dumps(record)))
    return record


def test_a_text_payload_is_kept_whole_with_its_reason_key_headers_and_source() -> None:
    headers = [("traceparent", b"00-abc-01"), ("bin", b"\xff\x00"), ("bin", None)]
    record = _record(BAD_TIME, key=b"m-1", headers=headers)
    assert record["schema_version"] == 2
    assert record["reason"] == "bad_timestamp" and record["field"] == "occurred_at"
    assert record["payload"].encode() == BAD_TIME and record["payload_encoding"] == "utf8"
    assert (record["payload_truncated"], record["payload_size"]) == (False, len(BAD_TIME))
    assert record["key"] == {"value": "m-1", "encoding": "utf8"}
    assert record["headers"] == [
        {"name": "traceparent", "value": "00-abc-01", "encoding": "utf8"},
        {"name": "bin", "value": base64.b64encode(b"\xff\x00").decode(), "encoding": "base64"},
        {"name": "bin", "value": None, "encoding": "utf8"},
    ]
    assert record["headers_truncated"] is False
    assert record["source"] == {
        "topic": "ssi.events",
        "partition": 3,
        "offset": 1844,
        "file": None,
        "line": None,
    }
    assert record["rejected_at"] == "2026-03-02T09:15:01.204000Z"


def test_a_binary_payload_is_kept_as_base64_and_a_file_line_has_no_key_or_headers() -> None:
    raw = b"\xff\xfe{garbage"
    record = _record(raw, PayloadSource.file_line(17, "events.jsonl"))
    assert record["reason"] == "invalid_utf8" and record["payload_encoding"] == "base64"
    assert base64.b64decode(record["payload"]) == raw
    assert (record["key"], record["headers"]) == (None, [])
    assert record["source"] == {
        "topic": None,
        "partition": None,
        "offset": None,
        "file": "events.jsonl",
        "line": 17,
    }


def test_a_framed_payload_is_base64_so_its_nul_and_id_bytes_survive() -> None:
    raw = b"\x00\x00\x00\x00\x07" + BAD_TIME
    record = _record(raw)
    assert record["reason"] == "schema_registry_framed" and record["payload_encoding"] == "base64"
    assert base64.b64decode(record["payload"]) == raw


def test_a_payload_up_to_the_size_limit_is_kept_whole() -> None:
    raw = b'{"note": "' + "é".encode() * 30_000 + b'"}'
    record = _record(raw)  # 60,012 bytes: not JSON-valid as an event, kept whole (v1 kept 4,096 bytes)
    assert record["payload"].encode() == raw and record["payload_truncated"] is False


def test_a_payload_over_the_limit_is_cut_to_it_on_a_character_boundary() -> None:
    raw = b'{"note": "' + "é".encode() * 50_000 + b'"}'
    record = _record(raw, limit=4097)  # 4097 falls inside a two-byte character
    assert record["reason"] == "too_large" and record["payload_truncated"] is True
    assert record["payload_size"] == len(raw)
    kept = record["payload"].encode()
    assert len(kept) <= 4097 and raw.startswith(kept) and len(kept) >= 4095


def test_a_huge_binary_payload_is_cut_to_the_limit() -> None:
    for byte in (b"\xff", b"\x80"):  # a lead-less run of continuation bytes is not cut to nothing
        raw = byte * 100_000
        record = _record(raw, limit=1000)
        assert base64.b64decode(record["payload"]) == raw[:1000] and record["payload_truncated"] is True


def test_headers_are_kept_in_order_up_to_the_size_limit_of_their_json() -> None:
    headers = [(f"h{index}", b"x" * 58) for index in range(20)]  # 100 bytes of JSON each
    assert len(orjson.dumps({"name": "h0", "value": "x" * 58, "encoding": "utf8"})) == 100
    record = _record(BAD_TIME, headers=headers, limit=1000)
    assert [header["name"] for header in record["headers"]] == [f"h{index}" for index in range(10)]
    assert record["headers_truncated"] is True
    escaped = _record(BAD_TIME, headers=[("\x01" * 100, b"")], limit=500)  # a name JSON writes 6 times over
    assert escaped["headers"] == [] and escaped["headers_truncated"] is True
    mapping = _record(BAD_TIME, headers={"a": b"1", "b": b"2"})  # a client may give a mapping
    assert [header["name"] for header in mapping["headers"]] == ["a", "b"]


def test_a_text_with_control_characters_is_base64_so_the_record_stays_within_twice_the_limit() -> None:
    assert encode_bytes(b'{"a": "\\n"}\r\n\t') == ("utf8", '{"a": "\\n"}\r\n\t')
    assert encode_bytes(b"a\x01b")[0] == "base64"
    worst = b"\x01" * 60_000  # JSON would write each as a 6-byte escape
    assert len(orjson.dumps(_record(worst))) < 2 * len(worst) + 2_000
    quotes = b'"\\' * 30_000  # the worst text: JSON doubles it
    assert len(orjson.dumps(_record(quotes))) < 2 * len(quotes) + 2_000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_encoded_bytes_decode_to_themselves(data: bytes) -> None:
    assert decode_bytes(*reversed(encode_bytes(data))) == data


def test_the_record_is_the_same_for_the_same_inputs() -> None:
    raw = b"[1, 2]"
    assert _record(raw) == _record(raw)
    assert _record(raw)["rejected_at"] == AT.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_the_kafka_headers_are_the_original_ones_then_connects_error_context() -> None:
    earlier = [("__connect.errors.topic", b"upstream"), (REASON_HEADER, b"old")]  # an earlier DLQ's
    record = _record(BAD_TIME, key=b"m-1", headers=[("traceparent", b"00-abc-01"), *earlier])
    headers = dead_letter_headers(record, app_id="ssi-prod", worker_id="w-3")
    assert headers == [
        ("traceparent", b"00-abc-01"),
        ("__connect.errors.topic", b"ssi.events"),
        ("__connect.errors.partition", b"3"),
        ("__connect.errors.offset", b"1844"),
        ("__connect.errors.connector.name", b"ssi-prod"),
        ("__connect.errors.task.id", b"w-3"),
        ("__connect.errors.stage", b"VALUE_CONVERTER"),
        ("__connect.errors.class.name", b"ssi_stream.events.decode"),
        ("__connect.errors.exception.class.name", b"ssi_stream.events.rejection.Rejected"),
        ("__connect.errors.exception.message", ("bad_timestamp: " + record["detail"]).encode()),
        (REASON_HEADER, b"bad_timestamp"),
    ]
    assert [name for name, _ in headers if is_error_header(name)] == [name for name, _ in headers[1:]]
    assert all(name.startswith(CONNECT_ERROR_PREFIX) for name, _ in headers[1:-1])


def test_a_long_detail_is_cut_in_the_message_header_only() -> None:
    event = orjson.loads(BAD_TIME) | {"occurred_at": "2026-03-01T00:00:00Z", "group_id": "g"}
    record = _record(orjson.dumps(event | {"n" * 5000: [[[[[[[[1]]]]]]]]}))
    assert record["reason"] == "too_deep"
    message = dict(dead_letter_headers(record, app_id="a", worker_id="w"))[
        "__connect.errors.exception.message"
    ]
    assert len(message) == 1000 and len(record["detail"]) > 5000


def test_a_pathological_dead_letter_stays_within_seven_times_the_size_limit() -> None:
    """docs/operations.md: a DLQ message is at most about 7 × SSI_MAX_EVENT_BYTES (448 KiB by default)."""
    limit = DEFAULT_LIMITS.max_bytes
    name = b"\\u0001" * 5000  # 30 kB of escapes: a name JSON writes back 6 times over its characters
    raw = b'{"' + name + b'": 1, "' + name + b'": 2}'
    headers = [("\x02" * 40, b'"' * 2000)] * 100  # header names JSON escapes, values it doubles
    record = _record(raw, headers=headers, key=b"\\" * 1000)
    assert record["reason"] == "duplicate_key" and len(raw) <= limit
    message = orjson.dumps(record)
    kafka_headers = dead_letter_headers(record, app_id="ssi", worker_id="w-1")
    size = len(message) + sum(len(key) + len(value or b"") for key, value in kafka_headers)
    assert size <= 7 * limit, size
