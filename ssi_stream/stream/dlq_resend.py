"""`ssi-stream dlq resend`: read dead letters from the DLQ topic (or a file) and send the original records
back to the events topic, after a fix; `events.resend` decides what to send.

The DLQ topic is read from its beginning to the end it had when the command started, without a consumer
group (nothing is committed: the topic is not changed, and a second run reads the same dead letters).
Re-sending a dead letter twice is harmless while the copies fall within the dedup horizon: an event is
recognised by its `event_id` (docs/events.md, "Duplicates and redelivery").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from ssi_stream.events.resend import (
    DeadLetter,
    Outgoing,
    ResendFilter,
    ResendTally,
    Skipped,
    plan_resend,
    read_dead_letter,
)
from ssi_stream.ops.kafka_security import KafkaSecurity, kafka_consumer, kafka_errors, kafka_producer
from ssi_stream.ops.topic_snapshot import TopicSnapshot, TopicSnapshotError

__all__ = ["ResendError", "dead_letters_in_file", "dead_letters_on_topic", "describe", "resend"]


class ResendError(RuntimeError):
    """The DLQ topic or the events topic cannot be used (missing, unreadable in time); one line."""


def dead_letters_in_file(lines: IO[bytes], name: str, tally: ResendTally) -> Iterator[DeadLetter | Skipped]:
    """The dead-letter records of a JSON-lines file (what `replay --dlq` writes); blank lines skipped."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        tally.read += 1
        yield read_dead_letter(line, f"{name}:{number}")


def dead_letters_on_topic(
    bootstrap: str, security: KafkaSecurity, topic: str, tally: ResendTally, *, timeout: float
) -> Iterator[DeadLetter | Skipped]:
    """Every message of `topic` up to the ends it had when this started (`TopicSnapshot`), each
    partition's in offset order; ResendError if the topic does not exist or a read makes no progress for
    `timeout` seconds."""
    try:
        with TopicSnapshot(
            bootstrap, security, topic, timeout=timeout, client_id="ssi-stream-dlq-resend"
        ) as snapshot:
            for message in snapshot.records():
                tally.read += 1
                yield read_dead_letter(
                    message.value,
                    f"{message.topic}[{message.partition}]@{message.offset}",
                    key=message.key,
                    headers=message.headers,
                )
    except TopicSnapshotError as exc:
        raise ResendError(f"{exc} (the DLQ topic: SSI_DLQ_TOPIC)") from None


def topic_partitions(bootstrap: str, security: KafkaSecurity, topic: str) -> set[int]:
    """The partitions of `topic` (empty when it does not exist), asked without creating it."""
    consumer = kafka_consumer(bootstrap, security, group_id=None, client_id="ssi-stream-dlq-resend")
    try:
        with kafka_errors(bootstrap, security, f"describing {topic}"):
            return set(consumer.partitions_for_topic(topic) or ())
    finally:
        consumer.close()


def resend(
    dead_letters: Iterable[DeadLetter | Skipped],
    selection: ResendFilter,
    tally: ResendTally,
    *,
    send: Callable[[Outgoing], None] | None,
    key_by_member_id: bool = False,
    on_item: Callable[[Outgoing | Skipped], None] = lambda item: None,
) -> ResendTally:
    """Plan the dead letters `selection` keeps and `send` each original record (None: a dry run, which
    sends nothing); `on_item` sees every record to send and every skip, in order."""
    for item in plan_resend(dead_letters, selection, key_by_member_id=key_by_member_id):
        tally.count(item)
        on_item(item)
        if isinstance(item, Outgoing):
            if send is not None:
                send(item)
            tally.sent += 1
    return tally


class EventsProducer:
    """Sends original records to the events topic in order (one request in flight) and, on `close`,
    waits until every one is delivered or raises."""

    def __init__(self, bootstrap: str, security: KafkaSecurity, topic: str) -> None:
        """ResendError if `topic` does not exist (a producer's metadata request could create it)."""
        if not topic_partitions(bootstrap, security, topic):
            raise ResendError(f"the events topic {topic} does not exist at {bootstrap} (SSI_EVENTS_TOPIC)")
        self.bootstrap = bootstrap
        self.security = security
        self.topic = topic
        self._producer = kafka_producer(
            bootstrap,
            security,
            acks="all",
            linger_ms=20,
            max_in_flight_requests_per_connection=1,
            client_id="ssi-stream-dlq-resend",
        )
        self._sent: list[Any] = []

    def __call__(self, item: Outgoing) -> None:
        headers = [(name, value) for name, value in item.headers]
        self._sent.append(self._producer.send(self.topic, key=item.key, value=item.value, headers=headers))

    def close(self) -> None:
        """Flush and close; raise ResendError naming the first failure if any record was not delivered."""
        try:
            with kafka_errors(self.bootstrap, self.security, f"writing to {self.topic}"):
                self._producer.flush()
                failed = [future for future in self._sent if future.failed()]
                if failed:
                    raise ResendError(
                        f"{len(failed)} of {len(self._sent)} records were not delivered to {self.topic}: "
                        f"{failed[0].exception!r}"
                    )
        finally:
            self._producer.close()


def describe(item: Outgoing | Skipped) -> str:
    """One line for the dry run: where the dead letter is, why it was rejected, what would be sent."""
    if isinstance(item, Skipped):
        return f"{item.position}: skipped, {item.why}"
    dead = item.dead_letter
    key = "no key" if item.key is None else f"key {item.key.decode('utf-8', 'replace')!r}"
    names = ", ".join(name for name, _ in item.headers)
    headers = f", headers {names}" if names else ""
    return f"{dead.position}: {dead.reason} (from {dead.origin}) -> {key}, {len(item.value)} bytes{headers}"
