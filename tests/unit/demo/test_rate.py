"""The demo's events/s: sends acknowledged in bursts still read as a steady rate."""

from __future__ import annotations

from collections import deque

from ssi_stream.demo.runner import RATE_WINDOW_SECONDS, _rate


def test_bursts_of_acknowledgements_read_as_the_steady_rate_they_average() -> None:
    marks: deque[tuple[float, int]] = deque([(0.0, 0)])
    rates = []
    sent = 0
    for tick in range(1, 41):  # a line every 0.5 s; 2,000 events acknowledged every other second
        now = tick * 0.5
        if tick % 4 == 0:
            sent += 2_000
        rates.append(_rate(marks, now, sent))
    steady = rates[int(2 * RATE_WINDOW_SECONDS) :]
    assert all(800 <= rate <= 1_200 for rate in steady), steady  # 1,000 events/s, never 0 or 4,000
    assert len(marks) <= 2 * RATE_WINDOW_SECONDS + 2  # the window is all it keeps
