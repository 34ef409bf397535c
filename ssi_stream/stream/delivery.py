"""A producer flush that means "delivered": what Faust's commit and our marks rely on.

Faust sends table changelog writes through its producer buffer (`send_soon`), and before committing
offsets it calls `producer.flush()`, which drains that buffer and then the Kafka client. But the
buffer's drain (faust-streaming 0.15, `ProducerBuffer.flush_atmost`) gives up when no message leaves
the buffer within 0.1 s, and a message taken out of the buffer is not yet in the client while it
waits for room there. Either way `flush()` can return with changelog writes undelivered; offsets are
then committed for effects whose ledger writes a SIGKILL loses, and those effects are missed forever.

`ensure_complete_flush` makes the buffer's `flush` wait for the delivery of every message that was
put into it before the call, and raise if any failed, so Faust's flush-before-commit, and ours before
marks, gate writes and positions, hold as documented.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


class CompleteFlush:
    """Tracks the messages put into one Faust producer buffer until each is delivered or failed."""

    def __init__(self, buffer: Any, timeout_seconds: float) -> None:
        self._buffer = buffer
        self._timeout = timeout_seconds
        self._put = buffer.put
        self.pending: set[asyncio.Future[Any]] = set()
        #: Flushes that found writes still undelivered after the buffer's own drain returned.
        self.waited = 0

    def put(self, fut: asyncio.Future[Any]) -> None:
        self.pending.add(fut)
        fut.add_done_callback(self.pending.discard)
        self._put(fut)

    async def flush(self) -> None:
        """Drain the buffer, then wait until every message put in before this call is acknowledged."""
        sent_before = list(self.pending)  # not later ones: another agent may keep writing meanwhile
        await self._buffer.flush_atmost(None)
        waiting = [fut for fut in sent_before if not fut.done()]
        if waiting:
            self.waited += 1
            if self.waited == 1 or self.waited % 1000 == 0:
                log.info("producer buffer flush: waiting for %d undelivered writes", len(waiting))
            _, late = await asyncio.wait(waiting, timeout=self._timeout)
            if late:
                # Better to stop the worker (offsets stay uncommitted) than to commit past lost writes.
                raise RuntimeError(f"{len(late)} producer writes undelivered after {self._timeout:.0f} s")
        failed = [fut for fut in sent_before if not fut.cancelled() and fut.exception() is not None]
        if failed:  # Faust only logs a failed changelog write; a commit past it would lose the state
            raise RuntimeError(f"{len(failed)} producer writes failed: {failed[0].exception()!r}")


def ensure_complete_flush(producer: Any, timeout_seconds: float = 300.0) -> CompleteFlush:
    """Patch `producer.buffer` (a Faust `ProducerBuffer`) so its `flush` waits for delivery."""
    buffer = producer.buffer
    existing = getattr(buffer, "complete_flush", None)
    if isinstance(existing, CompleteFlush):
        return existing
    tracker = CompleteFlush(buffer, timeout_seconds)
    buffer.put = tracker.put
    buffer.flush = tracker.flush
    buffer.complete_flush = tracker
    return tracker
