"""A topic as it stood when the reading began: every partition from its earliest offset up to the end
offset it had then, in large polls, without a consumer group (nothing is committed, the topic is not
changed). Records written while it reads are left for the next reading.

`ssi-stream report --scores-topic` reads the scores topic this way (a report is a snapshot), and
`ssi-stream dlq resend` the dead-letter topic.
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from ssi_stream.ops.kafka_security import KafkaSecurity, kafka_consumer, kafka_errors

#: Records per poll, and bytes per partition per fetch: a score record is a few hundred bytes, so a poll
#: holds some thousands of them (kafka-python's defaults: 500 records, 1 MiB).
POLL_RECORDS = 10_000
PARTITION_FETCH_BYTES = 8 * 1024 * 1024
#: Whether to verify each record batch's CRC-32C by default: only with the `crc32c` package, which
#: kafka-python then uses. Its own CRC-32C is pure Python and makes a snapshot several times slower
#: (bench/report_topic_bench.py); the broker checked every batch when it was written.
CHECK_CRCS = importlib.util.find_spec("crc32c") is not None


class TopicSnapshotError(RuntimeError):
    """The topic cannot be read: missing, not visible to this client, or no progress in time; one line."""


class TopicSnapshot:
    """The records of `topic` up to the end offsets it had on opening, each partition's in offset order
    (`records`), or their values (`values`: empty ones, tombstones, are counted in `empty`, not handed
    out).

    Use it as a context manager: the consumer is closed on exit.
    """

    def __init__(
        self,
        bootstrap: str,
        security: KafkaSecurity,
        topic: str,
        *,
        timeout: float = 30.0,
        client_id: str = "ssi-stream-snapshot",
        check_crcs: bool = CHECK_CRCS,
    ) -> None:
        from kafka import TopicPartition

        self.bootstrap, self.security, self.topic, self.timeout = bootstrap, security, topic, timeout
        #: Empty values (None: a tombstone, or b"") passed over.
        self.empty = 0
        #: Where the last value handed out (or passed over) is; None before the first.
        self.partition: int | None = None
        self.offset: int | None = None
        with self._errors():
            self._consumer = kafka_consumer(
                bootstrap,
                security,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",  # a segment deleted under the reading: on from the new start
                isolation_level="read_committed",
                client_id=client_id,
                max_poll_records=POLL_RECORDS,
                max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
                check_crcs=check_crcs,
            )
        try:
            with self._errors():
                partitions = self._consumer.partitions_for_topic(topic)
                if not partitions:
                    raise TopicSnapshotError(
                        f"the topic {topic} does not exist at {bootstrap}"
                        " (or this client may not describe it)"
                    )
                self._partitions = [TopicPartition(topic, partition) for partition in sorted(partitions)]
                self._consumer.assign(self._partitions)
                self._begins = self._consumer.beginning_offsets(self._partitions)
                self._ends = self._consumer.end_offsets(self._partitions)
        except BaseException:
            self._consumer.close()
            raise

    @property
    def position(self) -> str:
        """`topic[partition]@offset` of the last value read."""
        return f"{self.topic}[{self.partition}]@{self.offset}"

    @property
    def partitions(self) -> int:
        return len(self._partitions)

    @property
    def total(self) -> int:
        """How many offsets the snapshot spans (an upper bound on its values: compaction and
        transaction markers leave gaps)."""
        return sum(self._ends[tp] - self._begins[tp] for tp in self._partitions)

    def values(self) -> Iterator[bytes]:
        """Every non-empty value up to the end offsets (see `records`)."""
        for record in self.records():
            if not record.value:
                self.empty += 1
                continue
            yield record.value

    def records(self) -> Iterator[Any]:
        """Every record (kafka-python's, with its key and headers) up to the end offsets, each partition's
        in offset order; TopicSnapshotError if a poll brings nothing for `timeout` seconds while some
        partition is short of its end."""
        consumer, ends = self._consumer, self._ends
        waiting = {tp: ends[tp] for tp in self._partitions if ends[tp] > self._begins[tp]}
        with self._errors():
            for tp in self._partitions:
                consumer.seek(tp, self._begins[tp])
            consumer.pause(*(tp for tp in self._partitions if tp not in waiting))
            deadline = time.monotonic() + self.timeout
            while waiting:
                batches = consumer.poll(timeout_ms=500)
                for tp, messages in batches.items():
                    end = waiting.get(tp)
                    if end is None:
                        continue
                    for message in messages:
                        if message.offset >= end:
                            break
                        self.partition, self.offset = tp.partition, message.offset
                        yield message
                done = [tp for tp, end in waiting.items() if consumer.position(tp) >= end]
                if done:
                    consumer.pause(*done)
                    for tp in done:
                        del waiting[tp]
                if batches or done:
                    deadline = time.monotonic() + self.timeout
                elif time.monotonic() > deadline:
                    raise TopicSnapshotError(self._stalled(waiting))

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """A refusal as KafkaAccessError (naming the ACLs), any other client error as TopicSnapshotError."""
        from kafka.errors import KafkaError

        try:
            with kafka_errors(self.bootstrap, self.security, f"reading {self.topic}"):
                yield
        except KafkaError as exc:
            raise TopicSnapshotError(f"{self.topic} at {self.bootstrap}: {exc!r}") from None

    def _stalled(self, waiting: dict[Any, int]) -> str:
        short = ", ".join(
            f"[{tp.partition}] at {self._consumer.position(tp)} of {end}" for tp, end in waiting.items()
        )
        return f"{self.topic}: nothing read for {self.timeout:.0f} s, partitions short of their end: {short}"

    def close(self) -> None:
        self._consumer.close()

    def __enter__(self) -> TopicSnapshot:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["CHECK_CRCS", "PARTITION_FETCH_BYTES", "POLL_RECORDS", "TopicSnapshot", "TopicSnapshotError"]
