"""Day shares on ssi.effects: what `day_shares` and `encode_share` send is valid against
schemas/v1/internal/day_share.json, and `decode_share` accepts what the schema accepts."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.ranking.exchange import MemberDay, day_shares, stand_in
from ssi_stream.stream.wire import decode_share, encode_share, share_headers
from tests.unit.events.contract_world import load_schema, validator_for

NAME = "internal/day_share.json"
SCHEMA = load_schema(NAME)
VALIDATOR = validator_for(NAME)

_MEMBERS = st.lists(
    st.builds(
        MemberDay,
        member_id=st.text(min_size=1, max_size=64),
        ssi=st.integers(0, 10_000).map(lambda hundredths: hundredths / 100),
        industry=st.none() | st.text(min_size=1, max_size=100),
        connections=st.lists(st.text(min_size=1, max_size=64), max_size=5),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(members=_MEMBERS, targets=st.integers(1, 4), max_bytes=st.integers(1, 800))
def test_every_share_sent_is_valid_and_decodes_to_itself(
    members: list[MemberDay], targets: int, max_bytes: int
) -> None:
    for parts in day_shares(3, 20_500, members, targets, max_bytes).values():
        assert [p.part for p in parts] == list(range(len(parts))) and all(
            p.parts == len(parts) for p in parts
        )
        for share in parts:
            raw = encode_share(share)
            assert not list(VALIDATOR.iter_errors(orjson.loads(raw))), raw
            assert decode_share(raw) == share


def test_a_stand_in_is_valid() -> None:
    raw = encode_share(stand_in(4, 20_500))
    assert not list(VALIDATOR.iter_errors(orjson.loads(raw))) and decode_share(raw) == stand_in(4, 20_500)


def test_share_headers_are_the_described_headers() -> None:
    described = VALIDATOR.evolve(schema=SCHEMA["$defs"]["kafka_headers"])  # exactly these names
    sent = share_headers()
    headers = {name: value.decode("ascii") for name, value in sent}
    assert len(headers) == len(sent), "a header sent twice"
    assert not list(described.iter_errors(headers)), headers


def test_every_example_decodes_and_encodes_back_unchanged() -> None:
    for example in SCHEMA["examples"]:
        assert orjson.loads(encode_share(decode_share(orjson.dumps(example)))) == example


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["source", "day", "part", "parts", "industries", "network", "closed", "extra"]),
        st.one_of(
            st.integers(-3, 3),
            st.booleans(),
            st.dictionaries(st.text(max_size=3), st.lists(st.lists(st.integers(-1, 10_001), max_size=3))),
            st.lists(st.lists(st.one_of(st.text(max_size=3), st.integers(-1, 10_001)), max_size=3)),
            st.dictionaries(
                st.sampled_from(["", "m1", "x" * 65]),
                st.lists(st.one_of(st.integers(-1, 10_001), st.text(max_size=2)), max_size=3),
            ),
            st.none(),
        ),
    )
)
def test_the_decoder_accepts_what_the_schema_accepts(wire: dict) -> None:
    valid = VALIDATOR.is_valid(wire) and wire.get("part", 0) < wire.get("parts", 1)
    raw = orjson.dumps(wire)
    try:
        decode_share(raw)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == valid, wire
