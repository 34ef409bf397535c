"""The frames' own producer: effects, marks, day shares and dead letters on a Kafka connection of their own.

aiokafka keeps one produce request in flight per broker and producer. On Faust's producer, the ingest's
frames (two flushes per fetch: its effects and dead letters, then the marks that promise them) queued
behind whatever the absorber had sent meanwhile: a day's ledgers, its score records, hundreds of
kilobytes at a close. With a producer of their own the ingest waits for its own sends only
(BENCHMARKS.md, "Session 14").
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from ssi_stream.ops.kafka_security import KafkaSecurity, aiokafka_config


class FrameProducer:
    """An aiokafka producer, started on first use, for what one worker writes to its effects topic (and
    the dead letters its ingest sends with its effects).

    Every record this worker sends to a partition of that topic goes through it, so the partition gets
    them in the order they were sent (a source's mark after the effects it promises)."""

    def __init__(
        self,
        bootstrap: str,
        security: KafkaSecurity,
        *,
        client_id: str,
        max_batch_size: int,
        request_timeout_ms: int,
    ) -> None:
        """`client_id`, `max_batch_size` and `request_timeout_ms` as Faust's producer has them."""
        self._options: dict[str, Any] = dict(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            max_batch_size=max_batch_size,
            request_timeout_ms=request_timeout_ms,
            **aiokafka_config(security),
        )
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self._stopped = False

    async def send(
        self,
        topic: str,
        value: bytes,
        partition: int | None,
        headers: list[tuple[str, bytes]] | None = None,
        key: bytes | None = None,
    ) -> asyncio.Future[Any]:
        """Hand a record to the producer (to `partition`, or the key's: Kafka's default partitioner); the
        future resolves once the broker has it (see `flush`)."""
        producer = await self._started()
        return await producer.send(topic, value, key=key, partition=partition, headers=headers)

    async def flush(self) -> None:
        """Wait until every record sent so far has been answered (delivered or failed: check the futures)."""
        if self._producer is not None:
            await self._producer.flush()

    async def stop(self) -> None:
        """Send what is pending and close the connection; a send after this raises. It reports no failed
        delivery: flush and check the futures first."""
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
