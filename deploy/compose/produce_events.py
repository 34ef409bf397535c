"""Send JSON-lines events from stdin to the events topic, keyed by `member_id`, at a steady rate.

The compose `simulator` service runs `ssi-stream simulate ... | python produce_events.py` until
`ssi-stream simulate --kafka` exists. Broker and topic come from SSI_BROKER and SSI_EVENTS_TOPIC.
A line that is not a JSON object with a string `member_id` is sent with no key: the worker dead-letters it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable

import orjson
from kafka import KafkaProducer

from ssi_stream.ops.settings import Settings


def member_key(line: bytes) -> bytes | None:
    """The record key for one event line: its `member_id` as UTF-8, or None when it has none."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    member_id = event.get("member_id") if isinstance(event, dict) else None
    return member_id.encode() if isinstance(member_id, str) and member_id else None


def produce(lines: Iterable[bytes], producer: KafkaProducer, topic: str, rate: float) -> int:
    """Send each non-blank line; sleep to stay near `rate` events/s (0: as fast as possible)."""
    sent = 0
    started = time.monotonic()
    for line in lines:
        value = line.rstrip(b"\r\n")
        if not value.strip():
            continue
        producer.send(topic, key=member_key(value), value=value)
        sent += 1
        if rate > 0:
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0.05:
                time.sleep(ahead)
    producer.flush()
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="events per second (0: no limit)")
    args = parser.parse_args()
    settings = Settings.from_env()
    if not settings.broker:
        print("produce_events: set SSI_BROKER to the Kafka bootstrap servers", file=sys.stderr)
        return 2
    producer = KafkaProducer(bootstrap_servers=settings.broker, linger_ms=20, acks="all")
    try:
        sent = produce(sys.stdin.buffer, producer, settings.events_topic, args.rate)
    finally:
        producer.close()
    print(f"produce_events: {sent} events sent to {settings.events_topic}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
