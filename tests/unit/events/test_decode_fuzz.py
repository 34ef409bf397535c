"""`decode` answers every byte string with an Event or a Rejected, and never raises.

A seeded mutator breaks realistic payloads at the byte and at the JSON level (30,000 payloads); hypothesis
adds arbitrary bytes. Whatever is accepted must round-trip through `encode`, and whatever is rejected must
make a dead-letter record.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.dead_letter import PayloadSource, dead_letter_record
from ssi_stream.events.decode import decode
from ssi_stream.events.encode import encode
from ssi_stream.events.rejection import Rejected, RejectionCode
from ssi_stream.events.types import Event

from .contract_world import DEAD_LETTER, NOW, example_events, validator_for

SEEDS = list(example_events().values())
PAYLOADS = 30_000
SPLICE = [
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"null",
    b"1e999",
    b"-0",
    b"\x00",
]
SPLICE += [
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x98\x80",
    "é".encode(),
    b"9" * 30,
    b"[" * 40,
    b"{" * 1100,
]
ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**64,
    1.5,
    1e308,
    "",
    "x" * 200,
    [],
    {},
    ["photo"] * 3,
    {"a": [{}]},
]
ODD_VALUES += ["2026-02-30T00:00:00Z", "9999-12-31T23:59:59-23:59", "2000-01-01T00:00:00+14:00", "ceo", "🙂"]


def _byte_mutation(rng: random.Random, raw: bytes) -> bytes:
    at = rng.randrange(len(raw) + 1)
    choice = rng.randrange(7)
    if choice == 0:  # flip a bit
        at = min(at, len(raw) - 1)
        return raw[:at] + bytes([raw[at] ^ (1 << rng.randrange(8))]) + raw[at + 1 :]
    if choice == 1:  # delete a span
        return raw[:at] + raw[at + rng.randrange(1, 12) :]
    if choice == 2:  # insert a token
        return raw[:at] + rng.choice(SPLICE) + raw[at:]
    if choice == 3:  # truncate
        return raw[:at]
    if choice == 4:  # duplicate a span
        end = min(len(raw), at + rng.randrange(1, 40))
        return raw[:end] + raw[at:end] + raw[end:]
    if choice == 5:  # splice with another payload
        other = orjson.dumps(rng.choice(SEEDS))
        return raw[:at] + other[rng.randrange(len(other)) :]
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))  # noise


def _json_mutation(rng: random.Random, event: dict[str, Any]) -> bytes:
    event = dict(event)
    for _ in range(rng.randrange(1, 4)):
        name = rng.choice([*event, "extra", "schema_version"])
        choice = rng.randrange(4)
        if choice == 0:
            event.pop(name, None)
        elif choice == 1:
            event[name] = rng.choice(ODD_VALUES)
        elif choice == 2:
            event[name] = rng.choice(list(rng.choice(SEEDS).values()))
        else:
            value: Any = rng.choice(ODD_VALUES)
            for _ in range(rng.randrange(1, 12)):
                value = [value] if rng.random() < 0.5 else {"k": value}
            event[name] = value
    return json.dumps(event, ensure_ascii=rng.random() < 0.5).encode("utf-8")


def mutated_payloads(seed: int, count: int) -> Iterator[bytes]:
    """`count` payloads, half broken at the byte level (stacked up to 3 times), half at the JSON level."""
    rng = random.Random(seed)
    for _ in range(count):
        event = rng.choice(SEEDS)
        if rng.random() < 0.5:
            raw = orjson.dumps(event)
            for _ in range(rng.randrange(1, 4)):
                raw = _byte_mutation(rng, raw) or b" "
            yield raw
        else:
            yield _json_mutation(rng, event)


def check_answer(result: Event | Rejected, now: datetime = NOW) -> None:
    """The laws every answer obeys, whatever the input."""
    if isinstance(result, Rejected):
        assert isinstance(result.code, RejectionCode) and result.detail
        assert result.field is None or isinstance(result.field, str)
    else:
        assert isinstance(result, Event)
        assert result.occurred_at.tzinfo is UTC
        assert decode(encode(result), now=now) == result


def test_decode_never_raises_on_thirty_thousand_mutated_payloads() -> None:
    codes: Counter[str] = Counter()
    dead_letters = validator_for(DEAD_LETTER)
    for index, raw in enumerate(mutated_payloads(seed=20260302, count=PAYLOADS)):
        result = decode(raw, now=NOW)
        check_answer(result)
        codes[result.code if isinstance(result, Rejected) else "accepted"] += 1
        if isinstance(result, Rejected) and index % 50 == 0:
            record = dead_letter_record(
                raw, result, source=PayloadSource.file_line(index + 1, "fuzz.jsonl"), rejected_at=NOW
            )
            dead_letters.validate(record)
    assert sum(codes.values()) == PAYLOADS
    # The corpus is not vacuous: it reaches most rules, and some mutants stay valid.
    assert codes["accepted"] > 500, codes
    reached = {code for code in codes if code != "accepted"}
    assert len(reached) >= 13, sorted(set(RejectionCode) - reached)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=300))
def test_decode_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    check_answer(decode(raw, now=NOW))


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=200))
def test_decode_never_raises_on_arbitrary_text(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    check_answer(decode(raw, now=NOW))


def test_decode_never_raises_on_odd_clocks() -> None:
    raw = orjson.dumps(SEEDS[0] | {"occurred_at": "9999-12-31T23:59:59-23:59"})
    for now in (
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
    ):
        check_answer(decode(raw, now=now), now)
