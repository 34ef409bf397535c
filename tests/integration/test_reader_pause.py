"""A reader paused by a rebalance while its loop fetches goes on to its next assignment.

`PartitionReader.pause()` unsubscribes the reader's consumer, and a `getmany` on an unsubscribed
aiokafka consumer waits for the next assignment, which only the reader's own loop makes. In
`make faults` a worker's absorber hung that way for good after a rebalance (the events kept flowing, no
day closed). So the fetch runs under the reader's lock, and a pause waits for it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.stream.ingest import PartitionReader


def test_a_pause_waits_for_the_fetch_in_progress_and_the_reader_reads_again_once_assigned(
    kafka_bootstrap: str,
) -> None:
    topic = f"test.pause.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, [TopicSpec(topic, 2)])
    handled: list[int] = []

    async def handle(fetch: Any) -> None:
        handled.extend(record.offset for records in fetch.values() for record in records)

    async def scenario() -> tuple[bool, bool]:
        reader = PartitionReader(
            kafka_bootstrap, topic, "g", handle, lambda p: None, batch_max=10, batch_ms=1000
        )
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            reader.assign([0, 1])
            await reader._start_reading(reader._wanted)  # type: ignore[arg-type]  # as its loop does
            consumer = reader._consumer
            assert consumer is not None and reader.partitions == {0, 1}
            await asyncio.sleep(0.5)  # the consumer's fetcher takes the assignment
            fetching = asyncio.ensure_future(
                reader._fetch_and_handle()
            )  # waits up to 1 s: the topic is empty
            await asyncio.sleep(0.2)
            await asyncio.wait_for(reader.pause(), 30)
            fetch_done_first = (
                fetching.done()
            )  # the pause waited for it: never a fetch on an unsubscribed consumer
            await asyncio.wait_for(fetching, 30)
            # why: aiokafka's own call on the unsubscribed consumer waits for the next assignment
            raw = asyncio.ensure_future(consumer.getmany(TopicPartition(topic, 0), timeout_ms=50))
            done, _ = await asyncio.wait([raw], timeout=3.0)
            raw.cancel()
            # and the reader reads again once assigned again, as its loop does next
            await producer.send_and_wait(topic, b"v", partition=1)
            reader.assign([0, 1])
            await reader._start_reading(reader._wanted)  # type: ignore[arg-type]
            for _ in range(100):
                await asyncio.wait_for(reader._fetch_and_handle(), 30)
                if handled:
                    break
            return fetch_done_first, not done
        finally:
            await producer.stop()
            await reader.stop()

    fetch_done_first, raw_waits = asyncio.run(scenario())
    assert fetch_done_first
    assert raw_waits, "aiokafka no longer waits for an assignment here: the fetch need not hold the lock"
    assert handled == [0]
