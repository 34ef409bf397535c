"""A reader paused by a rebalance while its loop fetches goes on to its next assignment.

`PartitionReader.pause()` unsubscribes the reader's consumer; a `getmany` on an unsubscribed aiokafka
consumer waits for the next assignment, which only the reader's own loop makes. In `make faults` a
worker's absorber hung that way for good after a rebalance (the events kept flowing, no day closed).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.stream.ingest import PartitionReader


async def _nothing(fetch: Any) -> None:
    return None


def test_a_fetch_on_a_paused_consumer_returns_instead_of_waiting_for_an_assignment(
    kafka_bootstrap: str,
) -> None:
    topic = f"test.pause.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [TopicSpec(topic, 2)])

    async def scenario() -> tuple[bool, dict, list[int]]:
        reader = PartitionReader(
            kafka_bootstrap, topic, "g", _nothing, lambda p: None, batch_max=10, batch_ms=50
        )
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            consumer = await reader._started()  # the reader's own consumer, as `_start_reading` gets it
            tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
            consumer.assign(tps)
            await asyncio.sleep(0.5)  # the consumer's fetcher takes the assignment, as while reading
            consumer.unsubscribe()  # what pause() does, between the loop's check and its fetch
            raw = asyncio.ensure_future(consumer.getmany(*tps, timeout_ms=50))
            done, _ = await asyncio.wait([raw], timeout=3.0)
            raw_waits = not done  # aiokafka's own call: still waiting after 60 times its timeout
            raw.cancel()
            fetched = await asyncio.wait_for(reader._getmany(consumer, tps, 50, 10), 30)
            # and the consumer reads again once assigned again, as the reader's loop does next
            await producer.send_and_wait(topic, b"v", partition=1)
            consumer.assign(tps)
            got: list[int] = []
            for _ in range(100):
                batch = await reader._getmany(consumer, tps, 200, 10)
                got += [record.offset for records in batch.values() for record in records]
                if got:
                    break
            return raw_waits, fetched, got
        finally:
            await producer.stop()
            await reader.stop()

    raw_waits, fetched, got = asyncio.run(scenario())
    assert raw_waits, "aiokafka no longer waits for an assignment here: PartitionReader._getmany may go"
    assert fetched == {}
    assert got == [0]
