"""The internal frames' own producer: effects, marks and day shares on a Kafka connection of their own.

aiokafka keeps one produce request in flight per broker and producer. On Faust's producer, the ingest's
frames (two flushes per fetch: its effects, then the marks that promise them) queued behind whatever the
absorber had sent meanwhile: a day's ledgers, its score records, hundreds of kilobytes at a close. With a
producer of their own the ingest waits for its frames only (BENCHMARKS.md, "Session 14").
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from ssi_stream.ops.kafka_security import KafkaSecurity, aiokafka_config


class FrameProducer:
    """An aiokafka producer, started on first use, for the records one worker writes to its effects topic.

    Every record to a partition of that topic goes through it, so a partition's frames keep the order
    they were sent in (a mark after the effects it promises, a day share after them both)."""

    def __init__(
        self, bootstrap: str, security: KafkaSecurity, *, client_id: str, max_batch_size: int
    ) -> None:
        self._options: dict[str, Any] = dict(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            max_batch_size=max_batch_size,
            **aiokafka_config(security),
        )
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self._stopped = False

    async def send(
        self, topic: str, value: bytes, partition: int, headers: list[tuple[str, bytes]] | None = None
    ) -> asyncio.Future[Any]:
        """Hand a record to the producer; the future resolves once the broker has it (see `flush`)."""
        producer = await self._started()
        return await producer.send(topic, value, partition=partition, headers=headers)

    async def flush(self) -> None:
        """Wait until every record sent so far has been answered (delivered or failed: check the futures)."""
        if self._producer is not None:
            await self._producer.flush()

    async def stop(self) -> None:
        """Deliver what is pending and close the connection; a send after this raises."""
        self._stopped = True
        async with self._starting:
            producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._starting:
            if self._stopped:
                raise RuntimeError("the frame producer is stopped")
            if self._producer is None:
                producer = AIOKafkaProducer(**self._options)
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
        return self._producer
