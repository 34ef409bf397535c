"""Read a range of one partition straight from Kafka: the input Faust skipped (see `OffsetGuard`).

Seeking Faust's own consumer back does not work for this: its fetch loop drops every message below
the highest offset it has handed out, so the re-read messages would be dropped again. A small side
consumer (no group, no commits) reads the range instead, and the agent processes it in order before
the message that revealed the gap.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from ssi_stream.ops.kafka_security import PLAINTEXT, KafkaSecurity, aiokafka_config

#: Give up (and crash the agent, leaving its offsets uncommitted) when a range cannot be read in this time.
READ_TIMEOUT_SECONDS = 120.0


class Backfill:
    """Reads `[start, end)` of a topic partition; created on first use, closed with `stop`."""

    def __init__(self, bootstrap: str, security: KafkaSecurity = PLAINTEXT) -> None:
        self._bootstrap = bootstrap
        self._security = security
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[ConsumerRecord]:
        """The records with offsets in `[start, end)` (offsets without a record, e.g. transaction markers,
        are simply absent)."""
        async with self._lock:  # one range at a time
            consumer = await self._started()
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, start)
            records: list[ConsumerRecord] = []
            deadline = time.monotonic() + READ_TIMEOUT_SECONDS
            while await consumer.position(tp) < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not read {topic}[{partition}] offsets {start}..{end - 1}")
                batch = await consumer.getmany(tp, timeout_ms=500, max_records=max(1, end - start))
                records.extend(r for r in batch.get(tp, ()) if start <= r.offset < end)
            return records

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                **aiokafka_config(self._security),
            )
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
