"""A dead letter gives back the record that was rejected, as it came: its value, key and headers, without
the error headers dead-lettering added; version 1 records (workers before version 2) are read too; the
filter selects by reason, partition, offsets and time."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.dead_letter import PayloadSource, dead_letter_headers, dead_letter_record
from ssi_stream.events.decode import decode
from ssi_stream.events.rejection import Rejected, RejectionCode
from ssi_stream.events.resend import (
    DeadLetter,
    Outgoing,
    ResendFilter,
    ResendTally,
    Skipped,
    member_id_of,
    plan_resend,
    read_dead_letter,
)

from .contract_world import DEAD_LETTER, NOW, example_events, load_schema, validator_for
from .test_decode_fuzz import mutated_payloads

AT = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
KAFKA = PayloadSource.kafka("ssi.events", 3, 1844)
EVENT = orjson.dumps(example_events()["group_joined"])
MEMBER = orjson.loads(EVENT)["member_id"]
header_lists = st.lists(st.tuples(st.text(max_size=8), st.none() | st.binary(max_size=16)), max_size=4)


def dead_letter_message(
    raw: bytes | None,
    rejection: Rejected,
    *,
    key: bytes | None = None,
    headers: list[tuple[str, bytes | None]] | None = None,
    source: PayloadSource = KAFKA,
    at: datetime = AT,
) -> DeadLetter:
    """The DLQ message a worker sends for `raw`, read back as `dlq resend` reads it."""
    record = dead_letter_record(
        raw or b"", rejection, source=source, rejected_at=at, key=key, headers=headers or ()
    )
    value = orjson.dumps(record)
    validator_for(DEAD_LETTER).validate(orjson.loads(value))
    message_headers = dead_letter_headers(record, app_id="ssi", worker_id="w1")
    dead = read_dead_letter(value, "ssi.events.dlq[0]@5", key=key, headers=message_headers)
    assert isinstance(dead, DeadLetter)
    return dead


def rejected(reason: RejectionCode) -> Rejected:
    return Rejected(reason, None, f"{reason}: for the test")


@settings(max_examples=600, deadline=None)
@given(
    raw=st.sampled_from(list(mutated_payloads(seed=3, count=400))) | st.binary(max_size=300),
    key=st.none() | st.binary(max_size=20),
    headers=header_lists,
)
def test_a_dead_letter_gives_back_its_value_key_and_headers(
    raw: bytes, key: bytes | None, headers: list[tuple[str, bytes | None]]
) -> None:
    result = decode(raw, now=NOW)
    rejection = result if isinstance(result, Rejected) else rejected(RejectionCode.WRONG_KEY)
    dead = dead_letter_message(raw, rejection, key=key, headers=headers)
    (outgoing,) = plan_resend([dead], ResendFilter())
    assert isinstance(outgoing, Outgoing)
    originals = [(name, value) for name, value in headers if not name.startswith("__connect.errors.")]
    assert (outgoing.key, outgoing.value, outgoing.headers) == (
        key,
        raw,
        [(name, value) for name, value in originals if name != "ssi-dlq-reason"],
    )


def test_error_headers_never_go_back_to_the_events_topic() -> None:
    dead = dead_letter_message(
        EVENT,
        rejected(RejectionCode.FUTURE_TIMESTAMP),
        key=MEMBER.encode(),
        headers=[("traceparent", b"00-1"), ("__connect.errors.topic", b"up")],
    )
    assert any(name.startswith("__connect.errors.") for name, _ in dead.message_headers)
    (outgoing,) = plan_resend([dead], ResendFilter())
    assert isinstance(outgoing, Outgoing) and outgoing.headers == [("traceparent", b"00-1")]


def test_a_version_1_record_is_resent_with_the_dlq_message_key_and_headers() -> None:
    example = copy.deepcopy(load_schema("records/dead_letter.json")["examples"][0])  # as old workers wrote
    example["payload"] = EVENT.decode()
    headers = [("traceparent", b"00-2"), ("__connect.errors.offset", b"1844")]
    dead = read_dead_letter(orjson.dumps(example), "dlq[1]@2", key=b"m-7", headers=headers)
    assert isinstance(dead, DeadLetter) and dead.record["schema_version"] == 1
    (outgoing,) = plan_resend([dead], ResendFilter())
    assert isinstance(outgoing, Outgoing)
    assert (outgoing.key, outgoing.value, outgoing.headers) == (b"m-7", EVENT, [("traceparent", b"00-2")])


def test_a_truncated_payload_or_a_tombstone_is_skipped_saying_why() -> None:
    example = copy.deepcopy(load_schema("records/dead_letter.json")["examples"][0])
    example["payload_truncated"] = True
    truncated = read_dead_letter(orjson.dumps(example), "dlq[0]@1")
    tombstone = dead_letter_message(None, decode(None, now=NOW))  # type: ignore[arg-type]
    skipped = list(plan_resend([truncated, tombstone], ResendFilter()))  # type: ignore[list-item]
    assert [item.why for item in skipped] == [  # type: ignore[union-attr]
        "payload truncated (too large to keep whole)",
        "a tombstone (nothing to send)",
    ]


def test_what_is_no_dead_letter_record_is_skipped() -> None:
    for value in (b"not json", b"[]", b'{"schema_version": 3}', b'{"schema_version": 2}', None):
        assert read_dead_letter(value, "dlq[0]@9") == Skipped("dlq[0]@9", "not a dead-letter record")


def test_a_line_of_a_replayed_file_is_keyed_by_its_member_id() -> None:
    dead = dead_letter_message(
        EVENT, rejected(RejectionCode.FUTURE_TIMESTAMP), source=PayloadSource.file_line(4, "events.jsonl")
    )
    (outgoing,) = plan_resend([dead], ResendFilter())
    assert isinstance(outgoing, Outgoing) and outgoing.key == MEMBER.encode()
    assert dead.origin == "events.jsonl:4"


def test_key_by_member_id_rekeys_a_wrong_key_and_skips_a_payload_without_one() -> None:
    wrong = dead_letter_message(EVENT, rejected(RejectionCode.WRONG_KEY), key=b"someone-else")
    garbage = dead_letter_message(b"{oops", decode(b"{oops", now=NOW))  # type: ignore[arg-type]
    planned = list(plan_resend([wrong, garbage], ResendFilter(), key_by_member_id=True))
    assert isinstance(planned[0], Outgoing) and planned[0].key == MEMBER.encode()
    assert planned[1] == Skipped("ssi.events.dlq[0]@5", "no member_id to key it by")
    assert member_id_of(b"\x00\x00\x00\x00\x07" + EVENT) == MEMBER  # framed: read after the framing


def test_the_filter_selects_by_reason_partition_offsets_and_time() -> None:
    def at(partition: int, offset: int, reason: RejectionCode, hours: int) -> DeadLetter:
        return dead_letter_message(
            EVENT,
            rejected(reason),
            key=MEMBER.encode(),
            source=PayloadSource.kafka("ssi.events", partition, offset),
            at=AT + timedelta(hours=hours),
        )

    letters = [
        at(0, 10, RejectionCode.WRONG_KEY, 0),
        at(0, 20, RejectionCode.SCHEMA_REGISTRY_FRAMED, 1),
        at(1, 15, RejectionCode.SCHEMA_REGISTRY_FRAMED, 2),
        at(1, 30, RejectionCode.DUPLICATE_KEY, 3),
    ]
    file_line = dead_letter_message(
        EVENT, rejected(RejectionCode.WRONG_KEY), source=PayloadSource.file_line(1)
    )

    def selected(**conditions: object) -> list[int]:
        chosen = ResendFilter(**conditions)  # type: ignore[arg-type]
        return [index for index, dead in enumerate([*letters, file_line]) if chosen.matches(dead)]

    assert selected() == [0, 1, 2, 3, 4]
    assert selected(reasons=frozenset({"schema_registry_framed", "duplicate_key"})) == [1, 2, 3]
    assert selected(partition=1) == [2, 3]
    assert selected(first_offset=15, last_offset=20) == [1, 2]
    assert selected(first_offset=20) == [1, 3]
    assert selected(partition=0, last_offset=10) == [0]
    assert selected(since=AT + timedelta(hours=1), until=AT + timedelta(hours=3)) == [1, 2]
    assert selected(since=AT + timedelta(hours=3)) == [3]


def test_the_tally_counts_and_sums_up() -> None:
    tally = ResendTally(read=4)
    for item in (
        Skipped("a", "not a dead-letter record"),
        Skipped("b", "a tombstone (nothing to send)"),
        dead_letter_message(EVENT, rejected(RejectionCode.WRONG_KEY)),
    ):
        tally.count(item if isinstance(item, Skipped) else next(plan_resend([item], ResendFilter())))
    tally.sent = 1
    assert tally.summary("dlq", "events", dry_run=True) == (
        "4 read from dlq, 2 selected, 1 would be sent to events (dry run: nothing was sent); "
        "skipped: 1 a tombstone (nothing to send), 1 not a dead-letter record"
    )


@pytest.mark.parametrize("version", [1, 2])
def test_both_versions_read_their_schema_examples(version: int) -> None:
    name = "records/dead_letter.json" if version == 1 else DEAD_LETTER
    for example in load_schema(name)["examples"]:
        dead = read_dead_letter(orjson.dumps(example), "x")
        assert isinstance(dead, DeadLetter) and dead.reason == example["reason"]
