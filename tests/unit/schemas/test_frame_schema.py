"""Frames on ssi.effects: `encode_frames` writes what schemas/v1/internal/frame.json describes, keeps every
message in order within the size limit, and `decode_frame` reads them back or says what is wrong."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ssi_stream.engine import MemorySourceStore, RawEvent, SourceSide, TargetSide
from ssi_stream.engine.messages import TargetMessage
from ssi_stream.engine.target import MemoryTargetStore
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.wire import decode_frame, encode_frames
from ssi_stream.timeline.policy import TimelineSettings
from tests.unit.events.contract_world import validator_for

VALIDATOR = validator_for("internal/frame.json")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TIMELINE = TimelineSettings(partitions=3)


@pytest.fixture(scope="module")
def sent() -> dict[int, list[TargetMessage]]:
    """Everything the engine sends to each partition over a small simulated log: effects, marks, shares."""
    source = SourceSide(TIMELINE, MemorySourceStore())
    targets = [TargetSide(n, load_model(), TIMELINE, MemoryTargetStore()) for n in range(3)]
    inboxes: dict[int, list[TargetMessage]] = {n: [] for n in range(3)}
    log: dict[int, list[TargetMessage]] = {n: [] for n in range(3)}
    config = SimulationConfig(members=30, days=4, seed=2)
    raws = [RawEvent(raw, line=n) for n, (_, raw) in enumerate(iter_encoded(config), start=1)]
    steps = [*source.place(raws, NOW)]
    steps += [step for s in range(3) if (step := source.idle_mark(s)) is not None]
    while steps:
        for step in steps:
            for destination, message in step.to_targets:
                inboxes[destination].append(message)
                log[destination].append(message)
        steps = []
        for number, target in enumerate(targets):
            batch, inboxes[number] = inboxes[number], []
            steps += [*target.take(batch), target.drain()]
        steps = [step for step in steps if step]
    return log


@pytest.mark.parametrize(("frame_format", "effect_kind"), [(2, "f"), (1, "e")])
def test_real_frames_are_valid_against_the_schema_and_decode_to_the_messages_in_order(
    sent: dict[int, list[TargetMessage]], frame_format: int, effect_kind: str
) -> None:
    kinds = set()
    for messages in sent.values():
        frames = encode_frames(messages, frame_format=frame_format)
        decoded = [message for frame in frames for message in decode_frame(frame)]
        assert decoded == messages
        for frame in frames:
            entries = orjson.loads(frame)
            assert not list(VALIDATOR.iter_errors(entries))
            kinds |= {entry[0] for entry in entries}
    assert kinds == {effect_kind, "m", "s"}, "effects, marks and shares were all framed"


def test_both_formats_carry_the_same_messages_and_format_2_is_smaller(
    sent: dict[int, list[TargetMessage]],
) -> None:
    messages = sent[0]
    flat, objects = encode_frames(messages, frame_format=2), encode_frames(messages, frame_format=1)
    assert [m for f in flat for m in decode_frame(f)] == [m for f in objects for m in decode_frame(f)]
    assert sum(map(len, flat)) < sum(map(len, objects))
    with pytest.raises(ValueError, match="frame format"):
        encode_frames(messages, frame_format=3)


INT64 = st.integers(-(2**63), 2**63 - 1)


def mostly(valid: st.SearchStrategy[object], wrong: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Usually a valid value, sometimes a wrong one: most examples then have one field wrong at most."""
    return st.one_of(valid, valid, valid, wrong)


#: Effect fields as a frame might hold them, right or wrong; `s` and `x` are absent or not null (the
#: object form omits them when empty, the positional form writes null).
EFFECT_FIELDS = st.fixed_dictionaries(
    {
        "m": mostly(st.text(max_size=8), INT64),
        "e": mostly(st.text(max_size=8), st.none()),
        "k": mostly(st.integers(1, 18), st.integers(-1, 0) | st.integers(19, 20) | st.just("2")),
        "t": mostly(
            st.integers(0, 2**32 - 1), INT64 | st.floats(allow_nan=False) | st.none() | st.just(False)
        ),
    },
    optional={
        "f": mostly(st.integers(0, 2**20), st.integers(-3, -1) | INT64 | st.just(True) | st.just(1.0)),
        "s": mostly(st.sampled_from(["vp", "cxo", "entry"]), st.sampled_from(["boss", "VP"]) | INT64),
        "x": mostly(st.text(max_size=8), INT64),
    },
)


VALID = {"m": "m-1", "e": "evt-1/a", "k": 2, "t": 1772442900}


@settings(max_examples=400, deadline=None)
@example(effect={**VALID, "f": -1}, day=20514, late=0)
@example(effect={**VALID, "f": True}, day=20514, late=0)
@example(effect={**VALID, "f": 2**32}, day=20514, late=0)
@example(effect=VALID, day=49711, late=0)
@example(effect={**VALID, "t": 1.0}, day=20514, late=0)
@example(effect={**VALID, "t": -1}, day=20514, late=0)
@example(effect={**VALID, "t": 2**32}, day=20514, late=0)
@example(effect={**VALID, "k": 19}, day=20514, late=0)
@example(effect={**VALID, "s": "VP"}, day=20514, late=0)
@example(effect={**VALID, "x": 7}, day=20514, late=0)
@example(effect=VALID, day=20514, late=True)
@example(effect=VALID, day=20514, late=2)
@example(effect={**VALID, "f": 3, "s": "vp", "x": "Software"}, day=20514, late=1)
@given(
    effect=EFFECT_FIELDS,
    day=mostly(st.integers(0, 49710), INT64 | st.just(1.5)),
    late=mostly(st.sampled_from([0, 1]), st.sampled_from([2, True])),
)
def test_a_positional_effect_is_refused_exactly_when_its_object_form_is(
    effect: dict[str, object], day: object, late: object
) -> None:
    """Format 2's checks (msgspec's, from `Effect`'s types) accept and refuse what format 1's do."""
    positional = [effect.get(key) for key in "mekt"] + [effect.get("f", 0), effect.get("s"), effect.get("x")]
    verdicts = []
    for raw in (orjson.dumps([["e", day, late, effect]]), orjson.dumps([["f", day, late, positional]])):
        try:
            verdicts.append(decode_frame(raw))
        except ValueError:
            verdicts.append(None)
    object_form, flat_form = verdicts
    assert object_form == flat_form


def test_frames_are_cut_by_size_and_keep_the_order(sent: dict[int, list[TargetMessage]]) -> None:
    messages = sent[0]
    frames = encode_frames(messages, max_bytes=4096)
    assert len(frames) > 3
    biggest_message = max(len(f) for f in encode_frames(messages, max_bytes=1) if f)
    assert all(len(frame) <= max(4096, biggest_message) for frame in frames)
    assert [m for frame in frames for m in decode_frame(frame)] == messages


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"not json", "not JSON"),
        (b'{"e": 1}', "JSON array"),
        (b"[[]]", "entry 0"),
        (b'[["e", 1, 2, {}]]', "late 0 or 1"),
        (b'[["e", 1, 0, {"m": "a"}]]', "effect"),
        (b'[["m", {"source": -1}]]', "source mark"),
        (b'[["s", {}]]', "day share"),
        (b'[["x", 1]]', "not an effect, mark or share"),
        (b"[" * 100_000, "nested too deeply"),
        (b'[["e", 1, 0, {"m": "a", "e": "b", "k": 2, "t": 1}, "x"]]', "entry is malformed"),
        (b'[["f", 1, 0, ["a", "b", 2, 1], "x"]]', "entry is malformed"),
        (b'[["f", 1, 0, ["a", "b", 2, 1, 0, null, null, "x"]]]', "entry is malformed"),
        (b'[["m", {"source": 1}, 0]]', "entry is malformed"),
        (b'[["f", 1, 0, ["a", "b", 2, 1, 18446744073709551616]]]', "entry 0"),
        (b'[["f", 49711, 0, ["a", "b", 2, 1]]]', "entry 0"),
        (b'[["e", 1, 0, ' + b"[" * 5000 + b"]]", "nested too deeply"),
        (b'[["f", 1, 0, ["a", "b", 2, 99999999999999999999999]]]', "entry 0"),
        (b'[["f", 99999999999999999999999, 0, ["a", "b", 2, 1]]]', "entry 0"),
        (b'[["e", 99999999999999999999999, 0, {}]]', "entry 0"),
        (b'[["e", 1, 0, {"m": "a", "e": "b", "k": 2, "t": 99999999999999999999999}]]', "'t' must be int"),
        (b'[["m", {"source": 99999999999999999999999}]]', "source mark"),
    ],
)
def test_a_malformed_frame_is_a_value_error_that_says_why(raw: bytes, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        decode_frame(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.from_regex(rb"\[\[\"[ems]\",.{0,40}\]\]", fullmatch=True))
def test_decode_frame_never_fails_otherwise_than_with_a_value_error(raw: bytes) -> None:
    with contextlib.suppress(ValueError):
        decode_frame(raw)


def test_a_signed_frame_passes_and_a_forged_or_unsigned_one_is_refused() -> None:
    from ssi_stream.stream.wire import MAC_HEADER, check_signature, frame_headers, header_map

    key = b"0123456789abcdef"
    frame = b'[["m",{"source":0,"closable":1,"top_day":2,"idle":false,"offset":3,"first_day":1}]]'
    headers = header_map(frame_headers(frame, key))
    check_signature(frame, headers, key)
    with pytest.raises(ValueError, match="does not match"):
        check_signature(frame.replace(b"false", b"true"), headers, key)  # changed after signing
    with pytest.raises(ValueError, match="does not match"):
        check_signature(frame, header_map(frame_headers(frame, b"another key, 16+")), key)
    with pytest.raises(ValueError, match="without a ssi-mac"):
        check_signature(frame, header_map(frame_headers(frame)), key)
    assert MAC_HEADER not in header_map(frame_headers(frame))  # no key: no signature
