"""Bulk reading of the worker's input: whole fetches from aiokafka consumers inside the Faust app.

Faust's per-message stream costs ~35-40x a bare consumer's CPU per message (BENCHMARKS.md, "The Faust
cost matrix"), every event is one message, and a record reaches a Faust agent a while after it is
written (its consumer thread, its stream buffer, its batching). So the worker reads both of its input
topics itself, each with a `PartitionReader`: the events topic (the ingest, handing each fetch to the
engine's source side) and the effects topic (handing each fetch to the target sides). Faust keeps what
it is good at: the group membership, the tables and their changelogs, the web server, timers.

Which partitions: the ones whose number this worker holds on the effects topic. Faust's assignor
gives a worker partition *p* of every co-partitioned topic and of every table's changelog together, so
input partition *p* is read where its source clock (`source-clocks`, partition *p*) lives, and effects
partition *p* where its members' ledgers live. A reader is assigned by hand (no group membership of its
own); it starts reading a partition at the position the worker's state stored for it (`OffsetGuard`),
so a restarted or new owner resumes exactly where the durable state ends. It starts after the tables
are restored and stops reading before a rebalance revokes anything (the in-flight batch finishes
first). Before the first record, `on_start` runs: for the events topic the worker tells every target
that these input partitions are read again (`SourceSide.resume`), since a target may still hold an idle
mark from their previous reader.

Offsets are also committed, for lag tools, to the group `<SSI_APP_ID>-ingest` (both topics: their
partitions differ): the positions the worker's state has stored, at most every 0.2 s. The worker never
reads them back except for a partition that has no stored position yet (so a commit never runs ahead
of the stored state: the absorber stores its positions only every `SSI_STATE_WRITE_MS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from ssi_stream.ops.kafka_security import PLAINTEXT, KafkaSecurity, aiokafka_config

log = logging.getLogger(__name__)

#: How long a request for end offsets (for the lag) may take.
END_OFFSETS_TIMEOUT_SECONDS = 5.0
#: Commit the ingest group's offsets (for lag tools) at most this often.
COMMIT_INTERVAL_SECONDS = 0.2

Fetch = Mapping[int, Sequence[ConsumerRecord]]


def ingest_group(app_id: str) -> str:
    """The consumer group the worker's readers commit their offsets to, for lag tools (`<app>-ingest`)."""
    return f"{app_id}-ingest"


class PartitionReader:
    """Reads one topic's assigned partitions in whole fetches and hands each fetch to `handle`.

    `handle(fetch)` gets the records of one fetch by partition, in offset order, and must have
    processed them (state and output delivered, positions written) when it returns, or leave the state
    and positions to be written together later: `on_idle()` runs (under the same lock) after a fetch
    that found nothing within `batch_ms`. `position(p)` is the next offset the durable state expects
    from partition `p`, or None if it has none.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group: str,
        handle: Callable[[Fetch], Awaitable[None]],
        position: Callable[[int], int | None],
        *,
        on_start: Callable[[frozenset[int]], Awaitable[None]] | None = None,
        on_idle: Callable[[], Awaitable[None]] | None = None,
        batch_max: int,
        batch_ms: int,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self.topic = topic
        self.group = group
        self._bootstrap = bootstrap
        self._security = security
        self._handle = handle
        self._position = position
        self._on_start = on_start
        self._on_idle = on_idle
        self._batch_max = batch_max
        self._batch_ms = batch_ms
        self._consumer: AIOKafkaConsumer | None = None
        #: The consumer that asks for end offsets only (see end_offsets_of), once started.
        self._offsets: asyncio.Future[AIOKafkaConsumer] | None = None
        self._lock = asyncio.Lock()  # held while a fetch is read and handled; a revocation waits for it
        self._wanted: frozenset[int] | None = None  # partitions to read once the app is settled
        self._reading: frozenset[int] = frozenset()
        self._next: dict[int, int] = {}  # partition -> next offset handled (what is committed)
        self._committed: dict[int, int] = {}
        self._last_commit = 0.0
        self._wake = asyncio.Event()

    # -- what the Faust app tells it ----------------------------------------------------------
    async def pause(self) -> None:
        """Stop reading (a rebalance begins): returns once the fetch and batch in progress are handled."""
        self._wanted = None
        async with self._lock:
            self._reading = frozenset()
            if self._consumer is not None and self._consumer.assignment():
                self._consumer.unsubscribe()
            self._next.clear()

    def assign(self, partitions: Iterable[int]) -> None:
        """Read these partitions once `settled()` (the tables are restored); takes effect in `run`."""
        self._wanted = frozenset(partitions)
        self._wake.set()

    @property
    def partitions(self) -> frozenset[int]:
        """The partitions being read now."""
        return self._reading

    async def end_offsets(self, partitions: Iterable[int]) -> dict[int, int]:
        """The end offsets of those of `partitions` being read, asked of the broker now ({} if it is away)."""
        wanted = [(self.topic, p) for p in partitions if p in self._reading]
        ends = await self.end_offsets_of(wanted)
        return {partition: offset for (_, partition), offset in ends.items()}

    async def end_offsets_of(self, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The end offsets of any (topic, partition)s, asked of the broker now ({} if it is away), on a
        connection of their own: the reading consumer's may be waiting behind a fetch (up to its
        `fetch_max_wait_ms`), and a scrape waits for these."""
        tps = [TopicPartition(topic, partition) for topic, partition in partitions]
        if not tps:
            return {}
        if self._offsets is None:  # started once, whatever cancels a call (a scrape waits 0.5 s at most)
            self._offsets = asyncio.ensure_future(self._offsets_consumer())
        starting = self._offsets
        try:
            consumer = await asyncio.shield(starting)
            ends = await asyncio.wait_for(consumer.end_offsets(tps), END_OFFSETS_TIMEOUT_SECONDS)
        except Exception as exc:  # KafkaError, OSError, TimeoutError, ...: a gauge must not break the worker
            failed = starting.done() and (starting.cancelled() or starting.exception() is not None)
            if failed and self._offsets is starting:
                self._offsets = None  # it did not start: the next call starts another
            log.debug("no end offsets for %s: %r", sorted({tp.topic for tp in tps}), exc)
            return {}
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def position(self, partition: int) -> int | None:
        """The consumer's position in `partition`: where it reads next (None: not being read)."""
        if self._consumer is None or partition not in self._reading:
            return None
        try:
            return await asyncio.wait_for(
                self._consumer.position(TopicPartition(self.topic, partition)), END_OFFSETS_TIMEOUT_SECONDS
            )
        except (KafkaError, OSError, TimeoutError, AssertionError) as exc:  # unassigned meanwhile, ...
            log.debug("no position in %s[%d]: %r", self.topic, partition, exc)
            return None

    def waiting_after(self, fetch: Fetch) -> int:
        """How many records the broker's last fetch responses showed waiting after `fetch` in the
        partitions being read (their highwater minus where `fetch` leaves each; 0 where not known):
        about 0 while reading at a live rate, a backlog's size while draining one."""
        consumer = self._consumer
        if consumer is None:
            return 0
        waiting = 0
        for partition in self._reading:
            try:
                highwater = consumer.highwater(TopicPartition(self.topic, partition))
            except AssertionError:  # not assigned to the consumer (any more): nothing known
                continue
            records = fetch.get(partition)
            after = records[-1].offset + 1 if records else self._next.get(partition)
            if highwater is not None and after is not None:
                waiting += max(0, highwater - after)
        return waiting

    def next_offset(self, partition: int) -> int | None:
        """The next offset of `partition` to handle (None: nothing handled since it was assigned)."""
        return self._next.get(partition)

    # -- the loop -------------------------------------------------------------------------------
    async def run(self, settled: Callable[[], bool]) -> None:
        """Read and hand over fetches until cancelled; `settled()` says the app's tables are ready."""
        try:
            while True:
                wanted = self._wanted
                if wanted is not None and settled():
                    try:
                        await self._start_reading(wanted)
                    except (KafkaError, OSError) as exc:  # the broker is away: try again
                        log.warning("cannot start reading %s yet: %r", self.topic, exc)
                        await asyncio.sleep(1.0)
                        continue
                if not self._reading:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 0.5)
                    continue
                await self._fetch_and_handle()
        finally:
            await self.stop()

    async def _fetch_and_handle(self) -> None:
        # The fetch too runs under the lock: `pause()` unsubscribes the consumer, and aiokafka's
        # `getmany` on an unsubscribed consumer waits for the next assignment, which only this loop
        # makes (a fetch begun just before a rebalance's pause hung a worker's absorber for good).
        async with self._lock:
            consumer, reading = self._consumer, self._reading
            if consumer is None or not reading:
                return  # paused meanwhile: the loop waits for the next assignment
            batch = await self._fair_fetch(consumer, reading)
            if not batch:
                if self._on_idle is not None:
                    await self._on_idle()
                await self._maybe_commit()  # what the last batches handled, once input stops
                return
            fetch = {tp.partition: records for tp, records in batch.items() if records}
            await self._handle(fetch)
            for partition, records in fetch.items():
                self._next[partition] = records[-1].offset + 1
            await self._maybe_commit()

    async def _fair_fetch(
        self, consumer: AIOKafkaConsumer, reading: frozenset[int]
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Up to `batch_max` records, an equal share from each partition with records buffered.

        A plain `getmany` drains one partition's buffer before the next, so with a backlog one input
        partition's clock would run days ahead of the others, and a day closes only when every input
        partition's clock has passed it: days would wait for the whole backlog."""
        share = max(1, self._batch_max // max(1, len(reading)))
        tps = [TopicPartition(self.topic, p) for p in sorted(reading)]
        batch: dict[TopicPartition, list[ConsumerRecord]] = {}
        for tp in tps:
            got = await consumer.getmany(tp, timeout_ms=0, max_records=share)
            batch.update((key, records) for key, records in got.items() if records)
        if not batch:  # nothing buffered: wait for whatever comes first
            batch = await consumer.getmany(*tps, timeout_ms=self._batch_ms, max_records=share)
        return batch

    async def _start_reading(self, partitions: frozenset[int]) -> None:
        consumer = await self._started()
        async with self._lock:
            if self._wanted is not partitions:
                return  # paused or reassigned meanwhile: the loop starts again with the latest
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            if tps:
                consumer.assign(tps)
            for tp in tps:
                stored = self._position(tp.partition)
                if stored is not None:
                    consumer.seek(tp, stored)  # else: the group's commit, or the earliest offset
            if partitions and self._on_start is not None:
                await self._on_start(partitions)  # before any record: raises to try again
            self._wanted = None
            self._reading = partitions
            self._next.clear()
            self._committed.clear()
        if partitions:
            log.info("reading %s partitions %s in whole fetches", self.topic, sorted(partitions))

    async def _maybe_commit(self) -> None:
        """Commit the stored positions to the ingest group (lag tools read it); errors only logged."""
        now = time.monotonic()
        if now - self._last_commit < COMMIT_INTERVAL_SECONDS or self._consumer is None:
            return
        self._last_commit = now
        # The stored positions, not what was handled: the absorber stores its state and positions only
        # every SSI_STATE_WRITE_MS, and a partition with no stored position is read from this commit.
        stored = {p: self._position(p) for p in self._reading}
        due = {p: o for p, o in stored.items() if o is not None and self._committed.get(p) != o}
        if not due:
            return
        offsets = {TopicPartition(self.topic, p): OffsetAndMetadata(o, "") for p, o in due.items()}
        try:
            await self._consumer.commit(offsets)
        except (KafkaError, OSError, ValueError) as exc:  # informational: the positions are the truth
            log.warning("could not commit %s offsets to group %s: %r", self.topic, self.group, exc)
            return
        self._committed.update(due)

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=self.group,  # for commits only: the partitions are assigned by hand
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                **aiokafka_config(self._security),
            )
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def _offsets_consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, **aiokafka_config(self._security)
        )
        try:
            await asyncio.wait_for(consumer.start(), END_OFFSETS_TIMEOUT_SECONDS)
        except BaseException:
            await consumer.stop()
            raise
        return consumer

    async def stop(self) -> None:
        """Close the consumers (nothing is committed here: the positions are in the tables)."""
        consumer, self._consumer = self._consumer, None
        offsets, self._offsets = self._offsets, None
        self._reading = frozenset()
        if consumer is not None:
            await consumer.stop()
        if offsets is not None and not offsets.done():
            offsets.cancel()  # still starting: `_offsets_consumer` stops it
        elif offsets is not None and not offsets.cancelled() and offsets.exception() is None:
            await offsets.result().stop()
