"""Schema Registry framing (magic byte 0, a 4-byte big-endian schema id, then the JSON): refused with its
own reason by default, taken off with `skip`, taken off for the configured ids only with `check`; a plain
event decodes the same whatever the mode, and a framed one as its JSON would."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.decode import decode
from ssi_stream.events.framing import MAX_SCHEMA_ID, FramingMode, SchemaRegistryFraming
from ssi_stream.events.limits import DecodeLimits
from ssi_stream.events.rejection import Rejected, RejectionCode

from .contract_world import NOW, example_events, valid_events
from .test_decode_fuzz import check_answer, mutated_payloads

REJECT = DecodeLimits()
SKIP = DecodeLimits(framing=SchemaRegistryFraming(FramingMode.SKIP))
ACCEPTED_IDS = frozenset({7, 1001})
CHECK = DecodeLimits(framing=SchemaRegistryFraming(FramingMode.CHECK, ACCEPTED_IDS))
MODES = (REJECT, SKIP, CHECK)
EXAMPLE = orjson.dumps(example_events()["invite_sent"])
schema_ids = st.integers(0, 2**32 - 1)  # what 4 bytes can hold, past the ids a registry gives out


def framed(schema_id: int, body: bytes) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def test_the_default_refuses_a_framed_event_with_its_own_reason_naming_the_setting() -> None:
    rejected = decode(framed(7, EXAMPLE), now=NOW)
    assert isinstance(rejected, Rejected)
    assert (rejected.code, rejected.field) == (RejectionCode.SCHEMA_REGISTRY_FRAMED, None)
    assert "schema id 7" in rejected.detail and "SSI_SCHEMA_REGISTRY_FRAMING" in rejected.detail


def test_skip_reads_the_json_after_the_framing_whatever_the_id() -> None:
    for schema_id in (0, 7, MAX_SCHEMA_ID, 2**32 - 1):
        assert decode(framed(schema_id, EXAMPLE), now=NOW, limits=SKIP) == decode(EXAMPLE, now=NOW)


def test_check_reads_only_the_configured_ids() -> None:
    assert decode(framed(1001, EXAMPLE), now=NOW, limits=CHECK) == decode(EXAMPLE, now=NOW)
    rejected = decode(framed(8, EXAMPLE), now=NOW, limits=CHECK)
    assert isinstance(rejected, Rejected) and rejected.code is RejectionCode.UNKNOWN_SCHEMA_ID
    assert "schema id 8" in rejected.detail and "7, 1001" in rejected.detail


def test_a_value_too_short_for_the_framing_is_not_json_in_every_mode() -> None:
    for limits in MODES:
        for raw in (b"\x00", b"\x00\x00\x00\x07"):
            rejected = decode(raw, now=NOW, limits=limits)
            assert isinstance(rejected, Rejected) and rejected.code is RejectionCode.NOT_JSON


def test_the_size_limit_counts_the_framing_and_rejections_after_it_point_into_the_whole_value() -> None:
    tight = DecodeLimits(max_bytes=len(EXAMPLE) + 4, framing=SchemaRegistryFraming(FramingMode.SKIP))
    too_large = decode(framed(7, EXAMPLE), now=NOW, limits=tight)
    assert isinstance(too_large, Rejected) and too_large.code is RejectionCode.TOO_LARGE
    bad_byte = decode(framed(7, b'{"a": "\xff"}'), now=NOW, limits=SKIP)
    assert isinstance(bad_byte, Rejected) and bad_byte.code is RejectionCode.INVALID_UTF8
    assert "offset 12" in bad_byte.detail  # 5 framing bytes + 7 into the JSON
    not_json = decode(framed(7, b"{oops"), now=NOW, limits=SKIP)
    assert isinstance(not_json, Rejected) and "after 5 bytes of Schema Registry framing" in not_json.detail


@pytest.mark.parametrize(
    ("mode", "ids", "message"),
    [
        (FramingMode.CHECK, frozenset(), "needs the schema ids"),
        (FramingMode.SKIP, frozenset({7}), "only used by framing 'check'"),
        (FramingMode.CHECK, frozenset({-1}), "from 0 to 2147483647"),
        (FramingMode.CHECK, frozenset({2**31}), "from 0 to 2147483647"),
    ],
)
def test_an_unusable_framing_rule_is_refused(mode: FramingMode, ids: frozenset[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SchemaRegistryFraming(mode, ids)


# -- fuzz ------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(event=valid_events(), schema_id=schema_ids)
def test_a_framed_event_decodes_as_its_json_or_is_refused_for_its_framing(
    event: dict, schema_id: int
) -> None:
    body = orjson.dumps(event)
    plain = decode(body, now=NOW)
    value = framed(schema_id, body)
    refused = decode(value, now=NOW, limits=REJECT)
    assert isinstance(refused, Rejected) and refused.code is RejectionCode.SCHEMA_REGISTRY_FRAMED
    assert decode(value, now=NOW, limits=SKIP) == plain
    checked = decode(value, now=NOW, limits=CHECK)
    if schema_id in ACCEPTED_IDS:
        assert checked == plain
    else:
        assert isinstance(checked, Rejected) and checked.code is RejectionCode.UNKNOWN_SCHEMA_ID


@settings(max_examples=1500, deadline=None)
@given(schema_id=schema_ids, body=st.binary(max_size=200), mode=st.sampled_from(MODES))
def test_any_framed_value_gets_the_answer_its_mode_and_id_give(
    schema_id: int, body: bytes, mode: DecodeLimits
) -> None:
    result = decode(framed(schema_id, body), now=NOW, limits=mode)
    check_answer(result)
    refused = {REJECT: RejectionCode.SCHEMA_REGISTRY_FRAMED, CHECK: RejectionCode.UNKNOWN_SCHEMA_ID}
    if mode is REJECT or (mode is CHECK and schema_id not in ACCEPTED_IDS):
        assert isinstance(result, Rejected) and result.code is refused[mode]
    else:
        after = decode(body, now=NOW)
        if isinstance(after, Rejected) and after.code in (RejectionCode.INVALID_UTF8, RejectionCode.NOT_JSON):
            assert isinstance(result, Rejected) and result.code is after.code  # offsets shift by 5
        elif not (body[:1] == b"\x00" and len(body) >= 5):  # framed twice: the inner framing is refused
            assert result == after


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200).filter(lambda raw: raw[:1] != b"\x00"))
def test_an_unframed_value_decodes_the_same_in_every_mode(raw: bytes) -> None:
    results = [decode(raw, now=NOW, limits=limits) for limits in MODES]
    assert results[0] == results[1] == results[2]


def test_mutated_payloads_decode_the_same_in_every_mode_unless_framed() -> None:
    for raw in mutated_payloads(seed=7, count=3000):
        results = [decode(raw, now=NOW, limits=limits) for limits in MODES]
        if raw[:1] == b"\x00" and len(raw) >= 5:
            assert results[0].code is RejectionCode.SCHEMA_REGISTRY_FRAMED  # type: ignore[union-attr]
        else:
            assert results[0] == results[1] == results[2], raw
