import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.timeline.days import SECONDS_PER_DAY, day_of
from ssi_stream.timeline.source_clock import SourceClock

DAY = SECONDS_PER_DAY
HOUR = 3600
D0 = 20_000 * DAY  # some day's midnight


def test_an_event_within_grace_counts_in_its_own_day() -> None:
    clock = SourceClock(grace_seconds=HOUR)
    clock.place(D0 + DAY + 30 * 60, 0)  # 00:30 on day 1: day 0 still open (grace 1 h)
    placement, _ = clock.place(D0 + 23 * HOUR, 1)
    assert (placement.day, placement.late) == (day_of(D0), False)


def test_an_event_later_than_grace_is_late_and_counts_in_the_first_open_day() -> None:
    clock = SourceClock(grace_seconds=HOUR)
    clock.place(D0 + 3 * DAY + 2 * HOUR, 0)  # days 0..2 closable
    placement, _ = clock.place(D0 + 5, 1)
    assert placement.late
    assert placement.day == day_of(D0) + 3
    assert clock.closable_through() == day_of(D0) + 2


def test_mark_changes_only_when_a_day_boundary_is_crossed() -> None:
    clock = SourceClock(grace_seconds=HOUR)
    changes = [clock.place(D0 + minute * 60, offset)[1] for offset, minute in enumerate(range(0, 3000, 7))]
    # The first event sets the clock; then the closable day moves at 01:00 (grace) and the top day at
    # midnight: minutes 60, 1440, 1500, 2880 and 2940 -- the first event at or after each of them.
    changed_at = [minute for minute, changed in zip(range(0, 3000, 7), changes, strict=True) if changed]
    assert changed_at == [0, 63, 1442, 1505, 2884, 2940]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), crash_after=st.integers(1, 399), rewind=st.integers(0, 120))
def test_a_restart_from_a_committed_offset_places_every_event_as_the_uninterrupted_run(
    seed: int, crash_after: int, rewind: int
) -> None:
    rng = random.Random(seed)
    t = D0
    times = []
    for _ in range(400):
        t += rng.randint(0, 40 * 60)
        times.append(t - rng.randint(0, 3 * HOUR))  # jitter, some of it beyond grace
    reference = SourceClock(grace_seconds=HOUR)
    expected = [reference.place(at, offset)[0] for offset, at in enumerate(times)]

    before_crash = SourceClock(grace_seconds=HOUR)
    for offset in range(crash_after):
        before_crash.place(times[offset], offset)
    restored = SourceClock.from_bytes(before_crash.to_bytes())  # what the changelog kept
    committed = max(0, crash_after - rewind)  # the consumer resumes from its last commit
    replayed = [restored.place(times[offset], offset)[0] for offset in range(committed, len(times))]
    assert replayed == expected[committed:]
