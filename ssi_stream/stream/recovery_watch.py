"""A watch over Faust's table recovery: a changelog partition it waits for in vain is read again.

After a rebalance Faust reads each table's changelog partitions this worker now owns, from the start
(memory store) or from the offset it stored, up to their end, and only then lets the worker go on. Its
consumer can fetch a changelog partition's records just before the recovery seeks it and resumes it,
and drop them (a fetch in flight across the rebalance, with the flow stopped): the position is then
past records the recovery never got, it waits for them for good, and the worker never reads input again
(seen with two workers joining seconds apart: the last day never closed).

`RecoveryWatch.check` runs on a timer. While a recovery is in progress, an active changelog partition
that still has records to read and has not moved for `stall_seconds` is sought to the next offset the
recovery needs: records it already applied are skipped (it keeps only offsets past the one it holds),
so a partition that was merely slow loses nothing either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: How long an active changelog partition may show no progress in a recovery before it is read again.
RECOVERY_STALL_SECONDS = 15.0


class RecoveryState(Protocol):
    """What the watch reads of Faust's `Recovery` service (`app.tables.recovery`)."""

    in_recovery: bool
    active_offsets: Mapping[Any, int]

    def active_remaining(self) -> Mapping[Any, int]: ...


class RecoveryWatch:
    """Seek the active changelog partitions a recovery waits for in vain (see the module docstring)."""

    def __init__(
        self,
        recovery: Callable[[], RecoveryState],
        seek: Callable[[dict[Any, int]], Awaitable[None]],
        generation: Callable[[], int],
        *,
        stall_seconds: float = RECOVERY_STALL_SECONDS,
        on_reseek: Callable[[int], None] = lambda count: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`recovery()` gives the recovery service, `seek(offsets)` moves the app consumer's positions,
        `generation()` is the group generation the consumer is in, `on_reseek(n)` counts partitions
        sought again."""
        self._recovery = recovery
        self._seek = seek
        self._generation = generation
        self._seen_generation: int | None = None
        self._stall_seconds = stall_seconds
        self._on_reseek = on_reseek
        self._clock = clock
        #: Partition -> (offset the recovery held, when it was first seen there).
        self._seen: dict[Any, tuple[int, float]] = {}

    def stalled(self) -> dict[Any, int]:
        """The partitions to read again, each with the offset to read from; notes the progress of the rest."""
        recovery = self._recovery()
        generation = self._generation()
        if generation != self._seen_generation:
            # a rebalance restarts the recovery (Faust's flag can stay set while it waits for the next
            # assignment): time spent before it counts for nothing
            self._seen.clear()
            self._seen_generation = generation
        if not recovery.in_recovery:
            self._seen.clear()
            return {}
        now = self._clock()
        offsets = recovery.active_offsets
        due: dict[Any, int] = {}
        waiting = {tp for tp, left in recovery.active_remaining().items() if left > 0}
        for tp in waiting:
            offset = offsets.get(tp)
            if offset is None:
                continue
            seen = self._seen.get(tp)
            if seen is None or seen[0] != offset:
                self._seen[tp] = (offset, now)
            elif now - seen[1] >= self._stall_seconds:
                due[tp] = offset + 1  # the last offset applied, -1 if none
                self._seen[tp] = (offset, now)  # give the seek as long again
        for tp in set(self._seen) - waiting:
            del self._seen[tp]
        return due

    async def check(self) -> None:
        """Seek every stalled partition to where the recovery needs to go on (errors only logged)."""
        due = self.stalled()
        if not due:
            return
        log.warning(
            "table recovery got nothing from %d changelog partitions for %.0f s: reading them again from %s",
            len(due),
            self._stall_seconds,
            ", ".join(sorted(f"{_name(tp)}@{offset}" for tp, offset in due.items())),
        )
        try:
            await self._seek(due)
        except Exception as exc:  # a rebalance moved them meanwhile: the next recovery seeks them itself
            log.warning("could not seek the stalled changelog partitions: %r", exc)
            return
        self._on_reseek(len(due))


def _name(tp: Any) -> str:
    return f"{getattr(tp, 'topic', tp)}[{getattr(tp, 'partition', '?')}]"
