"""The complete flush: waits for every write put in before it, and fails on a failed write."""

from __future__ import annotations

import asyncio

import pytest

from ssi_stream.stream.delivery import ensure_complete_flush


class Buffer:
    """The two methods of Faust's ProducerBuffer the flush uses; its own drain gives up at once."""

    def __init__(self) -> None:
        self.queued: list[asyncio.Future[None]] = []

    def put(self, fut: asyncio.Future[None]) -> None:
        self.queued.append(fut)

    async def flush_atmost(self, max_messages: int | None) -> int:
        return 0  # like Faust's after 0.1 s without progress: returns with messages still pending


class Producer:
    def __init__(self) -> None:
        self.buffer = Buffer()


def test_flush_waits_for_delivery_of_what_was_put_in_before_it() -> None:
    async def scenario() -> list[str]:
        producer = Producer()
        ensure_complete_flush(producer, timeout_seconds=5)
        loop = asyncio.get_running_loop()
        before, after = loop.create_future(), loop.create_future()
        producer.buffer.put(before)
        events: list[str] = []
        loop.call_later(0.05, lambda: (events.append("delivered"), before.set_result(None)))
        flushing = asyncio.ensure_future(producer.buffer.flush())
        await asyncio.sleep(0.01)
        producer.buffer.put(after)  # written while the flush waits: not its business
        await flushing
        events.append("flushed")
        assert not after.done()
        return events

    assert asyncio.run(scenario()) == ["delivered", "flushed"]


def test_a_failed_write_makes_the_flush_fail() -> None:
    async def scenario() -> None:
        producer = Producer()
        ensure_complete_flush(producer, timeout_seconds=5)
        fut = asyncio.get_running_loop().create_future()
        producer.buffer.put(fut)
        fut.set_exception(OSError("MessageSizeTooLarge"))
        await producer.buffer.flush()

    with pytest.raises(RuntimeError, match=r"1 producer writes failed.*MessageSizeTooLarge"):
        asyncio.run(scenario())


def test_a_write_never_delivered_fails_the_flush_after_the_timeout() -> None:
    async def scenario() -> None:
        producer = Producer()
        ensure_complete_flush(producer, timeout_seconds=0.05)
        producer.buffer.put(asyncio.get_running_loop().create_future())
        await producer.buffer.flush()

    with pytest.raises(RuntimeError, match="undelivered after"):
        asyncio.run(scenario())


def test_patching_twice_keeps_one_tracker() -> None:
    producer = Producer()
    assert ensure_complete_flush(producer) is ensure_complete_flush(producer)
