"""The offset guard: in-order input advances, redeliveries pass, skipped input is reported as a gap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ssi_stream.stream.offset_guard import Admit, OffsetGuard


def test_a_fresh_guard_takes_whatever_comes_first_and_then_expects_the_next_offset() -> None:
    guard = OffsetGuard()
    assert guard.admit(40) is Admit.NEXT
    assert guard.next_offset == 41
    assert guard.admit(41) is Admit.NEXT
    assert guard.next_offset == 42


def test_offsets_before_the_expected_one_are_redeliveries_and_do_not_move_it() -> None:
    guard = OffsetGuard(100)
    assert guard.admit(97) is Admit.REREAD
    assert guard.admit(99) is Admit.REREAD
    assert guard.next_offset == 100


def test_an_offset_past_the_expected_one_is_a_gap_and_the_guard_moves_past_it() -> None:
    guard = OffsetGuard(4982)  # Faust acked and committed 4982 and 4983 without processing them
    assert guard.admit(4984) is Admit.GAP  # the caller reads 4982..4983 itself, then processes 4984
    assert guard.next_offset == 4985
    assert guard.admit(4985) is Admit.NEXT


@given(st.one_of(st.none(), st.integers(min_value=0, max_value=2**62)))
def test_the_position_survives_its_byte_form(position: int | None) -> None:
    assert OffsetGuard.from_bytes(OffsetGuard(position).to_bytes()).next_offset == position


def test_no_stored_position_is_a_fresh_guard() -> None:
    assert OffsetGuard.from_bytes(None).next_offset is None
    assert OffsetGuard.from_bytes(b"").next_offset is None


@given(
    st.integers(min_value=0, max_value=50),
    st.lists(st.integers(min_value=0, max_value=80), min_size=1, max_size=40),
)
def test_filling_every_gap_processes_each_offset_once_in_order(start: int, arrivals: list[int]) -> None:
    """A consumer that fills each reported gap sees every offset from `start` on exactly once, in order,
    however the messages arrive (redeliveries aside)."""
    guard = OffsetGuard(start)
    processed: list[int] = []
    for offset in arrivals:
        expected = guard.next_offset
        verdict = guard.admit(offset)
        if verdict is Admit.REREAD:
            assert offset < expected
            continue
        if verdict is Admit.GAP:
            processed.extend(range(expected, offset))  # what the worker reads back from Kafka
        processed.append(offset)
    if processed:
        assert processed == list(range(start, processed[-1] + 1))


@given(
    st.one_of(st.none(), st.integers(0, 50)),
    st.lists(st.integers(0, 60), min_size=1, max_size=12, unique=True).map(sorted),
)
def test_a_run_admitted_at_once_is_what_admitting_each_message_gives(
    expected: int | None, offsets: list[int]
) -> None:
    """`admit_run` takes a fetch whole only when every message of it would be NEXT, and then moves the
    guard where admitting them one by one would; otherwise it leaves the guard as it was."""
    one_by_one = OffsetGuard(expected)
    verdicts = [one_by_one.admit(offset) for offset in offsets]
    at_once = OffsetGuard(expected)
    taken = at_once.admit_run(offsets[0], offsets[-1], len(offsets))
    assert taken == all(verdict is Admit.NEXT for verdict in verdicts)
    assert at_once.next_offset == (one_by_one.next_offset if taken else expected)
