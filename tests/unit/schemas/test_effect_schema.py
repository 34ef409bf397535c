"""Effects on ssi.effects: `encode_effect` writes what schemas/v1/internal/effect.json describes, and
`decode_effect` accepts exactly the messages the schema accepts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssi_stream.events.decode import decode
from ssi_stream.events.rejection import Rejected
from ssi_stream.events.types import Seniority
from ssi_stream.scoring.effects import Effect, EffectKind, decode_effect, effects_of, encode_effect
from ssi_stream.simulation import SimulationConfig, generate
from ssi_stream.stream.wire import placement_headers
from ssi_stream.timeline.source_clock import Placement, SourceClock
from tests.unit.events.contract_world import load_schema, validator_for

NAME = "internal/effect.json"
SCHEMA = load_schema(NAME)
PROPERTIES = SCHEMA["properties"]
VALIDATOR = validator_for(NAME)
AGREEMENT = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Jitter beyond the 1 h grace makes some events late; duplicates are redeliveries with the same event_id;
#: outcome events give the OUTCOME effects.
LOG = SimulationConfig(
    members=60, days=5, seed=3, jitter_seconds=4 * 3600, duplicate_rate=0.02, outcomes=True
)


@pytest.fixture(scope="module")
def simulated() -> list[tuple[Effect, Placement]]:
    """Every effect of a realistic log, with where its source partition placed it (one partition)."""
    now = datetime.combine(LOG.start, time(), tzinfo=UTC) + timedelta(days=LOG.days + 1)
    clock = SourceClock(grace_seconds=3600)
    placed = []
    for offset, event in enumerate(generate(LOG)):
        decoded = decode(orjson.dumps(event), now=now)
        assert not isinstance(decoded, Rejected), (event, decoded)
        placement, _ = clock.place(int(decoded.occurred_at.timestamp()), offset)
        placed.extend((effect, placement) for effect in effects_of(decoded))
    return placed


def test_every_effect_of_a_simulated_log_is_valid_against_the_schema(
    simulated: list[tuple[Effect, Placement]],
) -> None:
    wires = [orjson.loads(encode_effect(effect)) for effect, _ in simulated]
    for wire in wires:
        assert not list(VALIDATOR.iter_errors(wire)), wire
    assert {wire["k"] for wire in wires} == set(EffectKind), "every kind was exercised"
    assert all(any(key in wire for wire in wires) for key in "fsx"), "every optional key was exercised"


def test_every_effect_header_of_a_simulated_log_is_valid_against_the_schema(
    simulated: list[tuple[Effect, Placement]],
) -> None:
    described = VALIDATOR.evolve(schema=SCHEMA["$defs"]["kafka_headers"])  # exactly these names
    placements = {placement for _, placement in simulated}
    assert {placement.late for placement in placements} == {False, True}
    for placement in placements:
        sent = placement_headers(placement)
        headers = {name: value.decode("ascii") for name, value in sent}
        assert len(headers) == len(sent), "a header sent twice"
        assert not list(described.iter_errors(headers)), headers


def test_kind_and_seniority_enums_are_the_code_enums() -> None:
    assert sorted(PROPERTIES["k"]["enum"]) == sorted(kind.value for kind in EffectKind)
    assert all(f"{kind.value} {kind.name}" in PROPERTIES["k"]["description"] for kind in EffectKind)
    assert PROPERTIES["s"]["enum"] == [level.value for level in Seniority]


def test_every_example_decodes_and_encodes_back_unchanged() -> None:
    for example in SCHEMA["examples"]:
        assert orjson.loads(encode_effect(decode_effect(orjson.dumps(example)))) == example


# --- agreement on arbitrary messages ------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_INT64 = st.integers(-(2**63), 2**63 - 1)
#: JSON values of every type but the one named; integral floats are left out (see the test below).
_NOT = {
    "string": st.one_of(st.none(), st.booleans(), _INT64, st.lists(_TEXT, max_size=2)),
    "integer": st.one_of(
        st.none(),
        st.booleans(),
        _TEXT,
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
        st.dictionaries(_TEXT, _INT64, max_size=2),
    ),
}
_TYPE_OF = dict.fromkeys("mesx", "string") | dict.fromkeys("ktf", "integer")


@st.composite
def valid_wires(draw: st.DrawFn) -> dict[str, Any]:
    """An effect message drawn from the schema's shape: its types and enums, optional keys present or not."""
    wire = {
        "m": draw(_TEXT),
        "e": draw(_TEXT),
        "k": draw(st.sampled_from(PROPERTIES["k"]["enum"])),
        "t": draw(st.integers(PROPERTIES["t"]["minimum"], PROPERTIES["t"]["maximum"])),
    }
    optional = {
        "f": st.integers(0, PROPERTIES["f"]["maximum"]),
        "s": st.sampled_from(PROPERTIES["s"]["enum"]),
        "x": _TEXT,
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            wire[key] = draw(values)
    return dict(draw(st.permutations(list(wire.items()))))


@st.composite
def broken_wires(draw: st.DrawFn) -> dict[str, Any]:
    """A valid message with one fault: a missing or unknown key, a wrong type, a value outside its enum."""
    wire = draw(valid_wires())
    fault = draw(st.sampled_from(["missing", "unknown", "type", "enum"]))
    if fault == "missing":
        del wire[draw(st.sampled_from(SCHEMA["required"]))]
    elif fault == "unknown":
        wire[draw(_TEXT.filter(lambda key: key not in PROPERTIES))] = draw(_INT64)
    elif fault == "type":
        key = draw(st.sampled_from(sorted(PROPERTIES)))
        wire[key] = draw(_NOT[_TYPE_OF[key]].filter(lambda value: not (value is None and key in "sx")))
    else:
        key, value = draw(
            st.one_of(
                st.tuples(st.just("k"), _INT64.filter(lambda n: n not in PROPERTIES["k"]["enum"])),
                st.tuples(st.just("s"), _TEXT.filter(lambda s: s not in PROPERTIES["s"]["enum"])),
                st.tuples(st.just("f"), st.integers(-(2**63), -1)),
            )
        )
        wire[key] = value
    return wire


def _decoder_accepts(wire: object) -> bool:
    try:
        decode_effect(orjson.dumps(wire))
    except ValueError:
        return False
    return True


@AGREEMENT
@given(wire=valid_wires())
def test_decode_effect_accepts_every_valid_message_and_encodes_it_back(wire: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(wire)
    expected = {key: value for key, value in wire.items() if (key, value) != ("f", 0)}  # 0 is omitted
    assert orjson.loads(encode_effect(decode_effect(orjson.dumps(wire)))) == expected


@AGREEMENT
@given(wire=broken_wires())
def test_decode_effect_rejects_every_message_the_schema_rejects(wire: dict[str, Any]) -> None:
    assert not VALIDATOR.is_valid(wire)
    assert not _decoder_accepts(wire)


def test_integral_floats_are_integers_to_the_schema_but_not_to_the_decoder() -> None:
    """The one rule JSON Schema cannot state (1.0 is the integer 1 to it): the decoder wants `1`."""
    for key in "ktf":
        wire = {"m": "m-1", "e": "e-1/a", "k": 1, "t": 1772442900} | {key: 1.0}
        assert VALIDATOR.is_valid(wire)
        assert not _decoder_accepts(wire)


@pytest.mark.parametrize("key", ["s", "x"])
def test_decode_effect_rejects_a_null_optional_key_as_the_schema_does(key: str) -> None:
    wire = {"m": "m-1", "e": "e-1/a", "k": 1, "t": 1772442900, key: None}
    assert not VALIDATOR.is_valid(wire)
    assert not _decoder_accepts(wire)
