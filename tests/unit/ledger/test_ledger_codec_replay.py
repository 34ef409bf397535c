"""The ledger codec over ledgers a replay really builds: every one reads back and writes the same bytes,
every cut or corrupt one is refused with a reason; the sparse arrays inside agree with their plain
definition (mask of the non-zero slots, then their values) and with `fill`."""

from __future__ import annotations

import struct
from array import array
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    UnreadableLedger,
    decode_ledger,
    encode_ledger,
    read_ledger,
)
from ssi_stream.replay import Replay
from ssi_stream.scoring.codec import decode_state, encode_state
from ssi_stream.scoring.model import load_model
from ssi_stream.scoring.sparse import fill, sparse, sparse_array, sparse_values
from ssi_stream.scoring.state import N_LEVELS, N_SIGNALS, N_SLOTS
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings

TIMELINE = TimelineSettings(partitions=4, grace_seconds=3600)
POLICY = TIMELINE.dedup
#: Jitter past the grace period makes late effects and members with two open days; outcomes a v5 section.
CONFIG = SimulationConfig(
    members=120, days=10, seed=5, jitter_seconds=4 * 3600, duplicate_rate=0.02, outcomes=True
)
_STATE_AT = struct.calcsize("<BIIHHHBIBB")  # the v5 ledger header: the state section follows it
_STATE_LENGTH = struct.Struct("<I")  # at offset 1 of the ledger header


@pytest.fixture(scope="module")
def ledgers() -> list[tuple[bytes, MemberLedger]]:
    """Every distinct ledger (its bytes, and the ledger itself) a replay of CONFIG held after each batch
    of 100 lines and at the end: open days, pending connections, late counts, ranks, outcomes."""
    scorer = Replay(load_model(), timeline=TIMELINE, now=datetime(2026, 6, 1, tzinfo=UTC))
    lines = [(number, raw) for number, (_, raw) in enumerate(iter_encoded(CONFIG), start=1)]
    seen: dict[bytes, MemberLedger] = {}

    def keep() -> None:
        for _, ledger in scorer.ledgers():
            raw = encode_ledger(ledger)
            if raw not in seen:
                seen[raw] = decode_ledger(raw, POLICY)  # a copy: the replay goes on changing its own
                assert encode_ledger(ledger) == raw

    for start in range(0, len(lines), 100):
        scorer.feed(lines[start : start + 100])
        keep()
    scorer.finish()
    keep()
    return list(seen.items())


def test_every_replayed_ledger_reads_back_and_writes_the_same_bytes(
    ledgers: list[tuple[bytes, MemberLedger]],
) -> None:
    for raw, ledger in ledgers:
        assert encode_ledger(decode_ledger(raw, POLICY)) == raw
        assert encode_ledger(read_ledger("m", raw, POLICY)) == raw
        assert decode_state(encode_state(ledger.state)) == ledger.state
    decoded = [ledger for _, ledger in ledgers]
    # the world holds every part of the layout, so the round trip above covers them all
    assert any(len(ledger.state.open_days) > 1 for ledger in decoded)
    assert any(o.profile is not None for ledger in decoded for o in ledger.state.open_days)
    assert any(ledger.late for ledger in decoded) and any(ledger.closed_late for ledger in decoded)
    assert any(ledger.connections.pending for ledger in decoded)
    assert any(ledger.outcomes is not None for ledger in decoded)
    assert any(ledger.ranks is not None and ledger.ranks.network is not None for ledger in decoded)
    assert any(ledger.emitted_before is not None for ledger in decoded)
    assert any(ledger.state.profile.industry is None for ledger in decoded)


def test_every_cut_of_a_replayed_ledger_is_unreadable(ledgers: list[tuple[bytes, MemberLedger]]) -> None:
    raws = sorted(raw for raw, _ in ledgers)[::400]
    for raw in raws:
        for cut in range(len(raw)):
            with pytest.raises(UnreadableLedger):
                read_ledger("m-1", raw[:cut], POLICY)


def test_a_rank_among_no_members_is_unreadable(ledgers: list[tuple[bytes, MemberLedger]]) -> None:
    """A corrupt population of 0 is refused as unreadable (it once escaped as a ZeroDivisionError)."""
    ranked = next(ledger for _, ledger in ledgers if ledger.ranks is not None and ledger.ranks.industry)
    raw = encode_ledger(ranked)
    standing = struct.pack("<II", ranked.ranks.industry.position, ranked.ranks.industry.population)
    assert raw.count(standing) == 1
    corrupt = raw.replace(standing, struct.pack("<II", ranked.ranks.industry.position, 0))
    with pytest.raises(UnreadableLedger, match="among 0 members"):
        read_ledger("m-1", corrupt, POLICY)


def _with_state(raw: bytes, state: bytes) -> bytes:
    """`raw` (a ledger) with its state section replaced by `state`."""
    (length,) = _STATE_LENGTH.unpack_from(raw, 1)
    out = bytearray(raw[:_STATE_AT] + state + raw[_STATE_AT + length :])
    _STATE_LENGTH.pack_into(out, 1, len(state))
    return bytes(out)


def test_a_corrupt_state_is_refused_naming_the_problem(ledgers: list[tuple[bytes, MemberLedger]]) -> None:
    raw = next(raw for raw, ledger in ledgers if ledger.state.open_days and ledger.state.profile.industry)
    state = encode_state(decode_ledger(raw, POLICY).state)
    levels_at = 13 + 4 * sum(1 for value in decode_state(state).decayed if value)
    assert levels_at > 13, "the member has decayed signals"
    wide_levels = bytearray(state)
    wide_levels[levels_at] |= 1 << N_LEVELS
    problems = {
        b"\x09" + state[1:]: "unknown encoding version 9",
        state + b"\x00": "1 unexpected trailing bytes",
        state[: levels_at - 1]: "member state: cut short",  # inside the signals' values
        bytes(wide_levels): f"mask {wide_levels[levels_at]:#x} has bits beyond {N_LEVELS} slots",
        state[:levels_at]: "corrupt encoding",  # the levels' mask is missing
    }
    for corrupt, problem in problems.items():
        with pytest.raises(ValueError, match=problem):
            decode_state(corrupt)
        with pytest.raises(UnreadableLedger, match=problem) as refused:
            read_ledger("m-2", _with_state(raw, corrupt), POLICY)
        assert refused.value.member_id == "m-2"


def test_an_open_day_mask_past_its_slots_and_bad_utf8_are_refused() -> None:
    header = struct.pack("<BiiIB", 1, 20_500, -(2**31), 0, 0) + b"\x00"  # nothing decayed, no levels, profile
    day = struct.pack("<iQ", 20_500, 1 << N_SLOTS)
    with pytest.raises(ValueError, match=f"has bits beyond {N_SLOTS} slots"):
        decode_state(header + b"\x01" + day)
    industry = b"\x04" + struct.pack("<qH", 5, 2) + b"\xff\xfe"
    with pytest.raises(ValueError, match="member state: corrupt encoding"):
        decode_state(struct.pack("<BiiIB", 1, 20_500, -(2**31), 0, 0) + industry + b"\x00")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_sparse_array_is_its_mask_and_non_zero_values_and_reads_back_as_fill_does(
    data: st.DataObject,
) -> None:
    typecode = data.draw(st.sampled_from("ifI"), label="typecode")
    length = data.draw(st.sampled_from([0, 1, N_LEVELS, 8, 9, N_SIGNALS, N_SLOTS, 64]), label="length")
    items = {
        "i": st.integers(-(2**31), 2**31 - 1),
        "I": st.integers(0, 2**32 - 1),
        "f": st.floats(width=32, allow_nan=False),
    }[typecode]
    values = array(
        typecode, data.draw(st.lists(st.one_of(st.just(0), items), min_size=length, max_size=length))
    )
    mask, present = sparse_values(values)
    assert mask == sum(1 << index for index, value in enumerate(values) if value)
    assert present == array(typecode, [value for value in values if value]).tobytes()
    assert sparse(values) == (mask, [value for value in values if value])
    view = memoryview(b"\x00" + present)
    read, end = sparse_array(view, 1, length, mask, typecode, "test")
    filled = array(typecode, bytes(values.itemsize * length))
    assert fill(view, 1, filled, mask, typecode, "test") == end == len(view)
    assert read == filled == array(typecode, [value if value else 0 for value in values])
    if present:
        with pytest.raises(ValueError, match="test: cut short"):
            sparse_array(view[:-1], 1, length, mask, typecode, "test")
    with pytest.raises(ValueError, match=f"test: mask .* has bits beyond {length} slots"):
        sparse_array(view, 1, length, mask | 1 << length, typecode, "test")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_state_read_from_flipped_bytes_is_refused_or_writes_bytes_that_read_back_the_same(
    ledgers: list[tuple[bytes, MemberLedger]], data: st.DataObject
) -> None:
    raw = data.draw(st.sampled_from([raw for raw, _ in ledgers[::50]]), label="ledger")
    state = bytearray(encode_state(decode_ledger(raw, POLICY).state))
    for _ in range(data.draw(st.integers(1, 3), label="flips")):
        state[data.draw(st.integers(0, len(state) - 1))] = data.draw(st.integers(0, 255))
    try:
        decoded = decode_state(bytes(state))
    except ValueError:
        return
    again = encode_state(decoded)
    assert encode_state(decode_state(again)) == again
