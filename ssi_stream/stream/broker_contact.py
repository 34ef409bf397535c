"""Whether the Kafka cluster answers this worker: what `/readyz` says when the broker is unreachable.

Nothing Faust exposes says so: its group membership and the fetcher's last metadata stay as they were
while every request fails (the worker answered ready for the 40-49 s a broker was down). A timer sends a
metadata request for the events topic every `PROBE_SECONDS` through the worker's own producer client,
so over the same connections, listeners and credentials as the records it writes. A worker whose probes
have all failed for `SILENT_AFTER_SECONDS` is not ready; a worker too busy to probe is not counted as cut
off (no probe, no failure).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from faust.exceptions import NotReady
from faust.types import AppT

log = logging.getLogger(__name__)

#: How often the worker asks the broker for the events topic's metadata.
PROBE_SECONDS = 2.0
#: A probe not answered in this time failed.
PROBE_TIMEOUT_SECONDS = 5.0
#: The worker is not ready when every probe failed for this long (several probes in a row).
SILENT_AFTER_SECONDS = 10.0


class BrokerContact:
    """Whether the cluster answers this worker's metadata requests, probed by a timer on `app`."""

    def __init__(self, app: AppT, topic: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.topic = topic
        self.clock = clock
        self.started = clock()
        #: When a probe was last answered (None: not yet).
        self.last_answer: float | None = None
        #: When the current run of failed probes began (None: the last probe was answered).
        self.failing_since: float | None = None
        app.timer(PROBE_SECONDS, name="probe-broker")(self.probe)

    async def probe(self) -> None:
        """Ask one broker for the events topic's metadata; note whether it answered."""
        began = self.clock()
        try:
            client = self._client()
            node = client.get_random_node()  # from the client's metadata: any live broker will do
            if node is None:
                raise OSError("no broker known")
            await asyncio.wait_for(
                client.send(node, MetadataRequest([self.topic], allow_auto_topic_creation=False)),
                PROBE_TIMEOUT_SECONDS,
            )
        except asyncio.CancelledError:
            raise
        except (KafkaError, NotReady, OSError, TimeoutError) as exc:
            log.debug("broker probe failed: %r", exc)
            if self.failing_since is None:
                self.failing_since = began
            return
        self.last_answer = self.clock()
        self.failing_since = None

    def unreachable(self) -> str | None:
        """Why the broker counts as unreachable, or None while it answers."""
        now = self.clock()
        if self.failing_since is None or now - self.failing_since < SILENT_AFTER_SECONDS:
            return None
        if self.last_answer is None:
            return f"broker unreachable: no answer since the worker started {now - self.started:.0f} s ago"
        return f"broker unreachable: no answer for {now - self.last_answer:.0f} s"

    def _client(self) -> Any:
        """The aiokafka client under Faust's producer (started before the timers)."""
        return self.app.producer._ensure_producer().client  # type: ignore[attr-defined]
