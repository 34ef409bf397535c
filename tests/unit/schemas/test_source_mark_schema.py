"""Source marks on ssi.effects: what `SourceClock.mark` and `encode_mark` send is valid against
schemas/v1/internal/source_mark.json, and `decode_mark` accepts exactly the marks the schema accepts."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.stream.wire import decode_mark, encode_mark, mark_headers
from ssi_stream.timeline.days import SECONDS_PER_DAY
from ssi_stream.timeline.source_clock import SourceClock
from tests.unit.events.contract_world import load_schema, validator_for

NAME = "internal/source_mark.json"
SCHEMA = load_schema(NAME)
VALIDATOR = validator_for(NAME)
D0 = 20_500 * SECONDS_PER_DAY


@settings(max_examples=150, deadline=None)
@given(
    source=st.integers(0, 255),
    steps=st.lists(st.tuples(st.integers(-6 * 3600, 9 * 3600), st.booleans()), max_size=60),
    grace=st.integers(0, 2 * SECONDS_PER_DAY),
)
def test_every_mark_a_clock_sends_is_valid_and_decodes_to_itself(
    source: int, steps: list[tuple[int, bool]], grace: int
) -> None:
    clock = SourceClock(grace_seconds=grace)
    marks = [clock.mark(source, clock.mark_offset, idle=True)]  # idle before any input: offset -1
    at = D0
    for offset, (step, idle) in enumerate(steps):
        at += step
        clock.place(at, offset)
        marks.append(clock.mark(source, offset, idle=idle))
    for mark in marks:
        raw = encode_mark(mark)
        assert not list(VALIDATOR.iter_errors(orjson.loads(raw))), raw
        assert decode_mark(raw) == mark


def test_mark_headers_are_the_described_headers() -> None:
    described = VALIDATOR.evolve(schema=SCHEMA["$defs"]["kafka_headers"])  # exactly these names
    sent = mark_headers()
    headers = {name: value.decode("ascii") for name, value in sent}
    assert len(headers) == len(sent), "a header sent twice"
    assert not list(described.iter_errors(headers)), headers


def test_every_example_decodes_and_encodes_back_unchanged() -> None:
    for example in SCHEMA["examples"]:
        assert orjson.loads(encode_mark(decode_mark(orjson.dumps(example)))) == example


# --- agreement on arbitrary marks ---------------------------------------------------------------------

_INT64 = st.integers(-(2**63), 2**63 - 1)
_DAYS = st.one_of(st.tuples(st.none(), st.none()), st.tuples(_INT64, _INT64))


@st.composite
def valid_wires(draw: st.DrawFn) -> dict[str, Any]:
    closable, top_day = draw(_DAYS)
    wire = {
        "source": draw(st.integers(0, 2**63 - 1)),
        "closable": closable,
        "top_day": top_day,
        "idle": draw(st.booleans()),
        "offset": draw(st.integers(-1, 2**63 - 1)),
        "first_day": draw(st.one_of(st.none(), _INT64)),
    }
    return dict(draw(st.permutations(list(wire.items()))))


#: One fault each: a missing or unknown key, a wrong type, a value out of range, one day null.
_FAULTS = st.one_of(
    st.tuples(st.sampled_from(["source", "offset", "idle"]), st.sampled_from([None, "1", [], 0.5])),
    st.tuples(st.sampled_from(["closable", "top_day", "first_day"]), st.sampled_from(["1", True, 0.5, {}])),
    st.tuples(st.just("idle"), st.sampled_from([0, 1, "true"])),
    st.tuples(st.just("source"), st.integers(-(2**63), -1)),
    st.tuples(st.just("offset"), st.integers(-(2**63), -2)),
    st.tuples(st.text(max_size=8).filter(lambda key: key not in SCHEMA["properties"]), _INT64),
)


@st.composite
def broken_wires(draw: st.DrawFn) -> dict[str, Any]:
    wire = draw(valid_wires())
    fault = draw(st.sampled_from(["missing", "value", "one day null"]))
    if fault == "missing":
        del wire[draw(st.sampled_from(SCHEMA["required"]))]
    elif fault == "value":
        key, value = draw(_FAULTS)
        wire[key] = value
    else:
        wire[draw(st.sampled_from(["closable", "top_day"]))] = None
        wire["closable" if wire["closable"] is not None else "top_day"] = draw(_INT64)
    return wire


def _decoder_accepts(raw: bytes) -> bool:
    try:
        decode_mark(raw)
    except ValueError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(wire=valid_wires())
def test_decode_mark_accepts_every_valid_mark_and_encodes_it_back(wire: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(wire)
    assert orjson.loads(encode_mark(decode_mark(orjson.dumps(wire)))) == wire


@settings(max_examples=400, deadline=None)
@given(wire=broken_wires())
def test_decode_mark_rejects_every_mark_the_schema_rejects(wire: dict[str, Any]) -> None:
    assert not VALIDATOR.is_valid(wire)
    assert not _decoder_accepts(orjson.dumps(wire))


def test_integral_floats_are_integers_to_the_schema_but_not_to_the_decoder() -> None:
    """The one rule JSON Schema cannot state (1.0 is the integer 1 to it): the decoder wants `1`."""
    for key in ("source", "closable", "top_day", "offset", "first_day"):
        wire = {"source": 1, "closable": 20513, "top_day": 20514, "idle": False, "offset": 7, "first_day": 9}
        wire |= {key: 1.0}
        assert VALIDATOR.is_valid(wire)
        assert not _decoder_accepts(orjson.dumps(wire))


def test_decode_mark_rejects_what_is_not_a_json_object() -> None:
    for raw in (b"", b"[1, 2]", b"null", b'{"source": 1'):
        assert not _decoder_accepts(raw)
