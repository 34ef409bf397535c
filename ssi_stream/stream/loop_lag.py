"""How long the worker's event loop was held: a task that sleeps `interval` and observes how much later
than that it woke up. Everything the worker does shares one loop, so a stretch of Python that does not
return to it (a close step, an encode of many ledgers) delays every event behind it by as much.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: How often the probe wakes up: a stall shorter than this can hide between two wake-ups.
LOOP_LAG_INTERVAL_SECONDS = 0.05


async def watch_loop_lag(
    observe: Callable[[float], None],
    *,
    stopping: Callable[[], bool],
    interval: float = LOOP_LAG_INTERVAL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Until `stopping()`: sleep `interval`, then `observe` how many seconds late the loop woke it."""
    while not stopping():
        started = clock()
        await asyncio.sleep(interval)
        observe(max(0.0, clock() - started - interval))
