from ssi_stream.timeline.close_gate import CloseGate
from ssi_stream.timeline.source_clock import SourceMark


def mark(
    source: int,
    closable: int | None,
    top: int | None,
    *,
    idle: bool = False,
    offset: int = 0,
    first: int | None = None,
) -> SourceMark:
    return SourceMark(source, closable, top, idle, offset, first)


def test_a_day_closes_only_when_every_active_source_has_finished_it() -> None:
    gate = CloseGate(expected_sources=2)
    gate.observe(mark(0, 12, 13, first=10))
    assert gate.closable() is None  # source 1 never reported: it holds every day open
    gate.observe(mark(1, 11, 12, first=11))
    assert list(gate.days_to_close()) == [10, 11]  # from the earliest day any source placed an effect in


def test_idle_sources_do_not_hold_days_open_and_all_idle_closes_through_the_newest_day() -> None:
    gate = CloseGate(expected_sources=2)
    gate.observe(mark(0, 6, 7, offset=3, first=5))
    gate.observe(mark(1, None, None, idle=True))
    assert gate.closable() == 6
    assert list(gate.days_to_close()) == [5, 6]
    gate.observe(mark(0, 6, 7, idle=True, offset=3))
    assert gate.closable() == 7


def test_nothing_closes_before_any_source_placed_an_effect() -> None:
    gate = CloseGate(expected_sources=1)
    gate.observe(mark(0, None, None, idle=True))
    assert list(gate.days_to_close()) == []


def test_a_stale_mark_is_ignored_and_marks_never_go_back() -> None:
    gate = CloseGate(expected_sources=1)
    gate.observe(mark(0, 9, 10, offset=50, first=4))
    gate.observe(mark(0, 4, 5, offset=20, first=2))  # redelivered after a restart
    assert gate.closable() == 9
    assert gate.first_day == 4
    gate.observe(mark(0, 9, 10, offset=60, first=None))
    assert gate.first_day == 4  # first days only move back


def test_an_effect_for_a_closed_day_counts_in_the_first_open_day() -> None:
    gate = CloseGate()
    assert gate.count_day(3) == 3
    gate.closed_through = 4
    assert gate.count_day(2) == 5
    assert gate.count_day(6) == 6


def test_round_trip_keeps_everything() -> None:
    gate = CloseGate(expected_sources=3)
    gate.observe(mark(2, 8, 9, offset=4, first=7))
    gate.closed_through = 7
    copy = CloseGate.from_bytes(gate.to_bytes())
    assert (copy.expected_sources, copy.first_day, copy.closed_through, copy.marks) == (3, 7, 7, gate.marks)
