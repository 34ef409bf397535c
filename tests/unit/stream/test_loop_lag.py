"""The event-loop lag probe (`stream.loop_lag`): a stretch that does not return to the loop is observed
as about its length; an idle loop as about nothing."""

from __future__ import annotations

import asyncio
import time

import pytest

from ssi_stream.stream.loop_lag import watch_loop_lag


def test_a_blocking_stretch_is_observed_as_the_loop_lag_and_an_idle_loop_as_none() -> None:
    observed: list[float] = []
    done = {"stop": False}

    async def run() -> None:
        probe = asyncio.ensure_future(
            watch_loop_lag(observed.append, stopping=lambda: done["stop"], interval=0.01)
        )
        await asyncio.sleep(0.2)  # idle: the probe wakes on time (give or take a busy machine)
        idle = len(observed)
        time.sleep(0.3)  # a stretch of work that holds the loop
        await asyncio.sleep(0.05)
        done["stop"] = True
        await asyncio.wait_for(probe, 5)
        assert idle >= 3

    asyncio.run(run())
    assert max(observed) >= 0.25  # the 0.3 s stretch, less the rest of the probe's 10 ms sleep
    assert sorted(observed)[len(observed) // 2] < 0.1  # most wake-ups were not held


def test_the_lag_is_the_time_past_the_sleep_asked_for() -> None:
    ticks = iter([10.0, 10.08, 20.0, 20.01])  # woke 30 ms late, then on time (a clock a little fast)
    observed: list[float] = []
    asyncio.run(
        watch_loop_lag(
            observed.append, stopping=lambda: len(observed) == 2, interval=0.05, clock=lambda: next(ticks)
        )
    )
    assert observed == [pytest.approx(0.03), 0.0]
