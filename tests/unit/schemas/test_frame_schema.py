"""Frames on ssi.effects: `encode_frames` writes what schemas/v1/internal/frame.json describes, keeps every
message in order within the size limit, and `decode_frame` reads them back or says what is wrong."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
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


def test_real_frames_are_valid_against_the_schema_and_decode_to_the_messages_in_order(
    sent: dict[int, list[TargetMessage]],
) -> None:
    kinds = set()
    for messages in sent.values():
        frames = encode_frames(messages)
        decoded = [message for frame in frames for message in decode_frame(frame)]
        assert decoded == messages
        for frame in frames:
            entries = orjson.loads(frame)
            assert not list(VALIDATOR.iter_errors(entries))
            kinds |= {entry[0] for entry in entries}
    assert kinds == {"e", "m", "s"}, "effects, marks and shares were all framed"


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
