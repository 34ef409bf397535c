"""Sending events to Kafka from tools (the simulator, the demo): keyed by member, optionally paced."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from ssi_stream.ops.kafka_security import PLAINTEXT, KafkaSecurity, kafka_producer


def produce_events(
    bootstrap: str,
    topic: str,
    keyed: Iterable[tuple[str, bytes]],
    *,
    rate: float | None = None,
    stop: threading.Event | None = None,
    on_progress: Callable[[int], None] | None = None,
    security: KafkaSecurity = PLAINTEXT,
) -> int:
    """Send (member_id, payload) pairs in order, at about `rate` per second (None: as fast as possible).

    Keys keep each member's events on one partition, in order (one request in flight at a time).
    Returns how many were sent; stops early when `stop` is set.
    """
    producer = kafka_producer(
        bootstrap,
        security,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=1,
    )
    sent = 0
    started = time.monotonic()
    next_report = started + 1.0
    try:
        for key, value in keyed:
            if stop is not None and stop.is_set():
                break
            producer.send(topic, key=key.encode(), value=value)
            sent += 1
            if rate:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0.05:
                    time.sleep(ahead)
            if on_progress is not None and sent % 1000 == 0 and time.monotonic() >= next_report:
                next_report = time.monotonic() + 1.0
                on_progress(sent)
    finally:
        producer.flush()
        producer.close()
    if on_progress is not None:
        on_progress(sent)
    return sent
