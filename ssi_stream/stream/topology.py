"""The Faust shell: topics, tables and the two bulk readers that drive the engine (`ssi_stream.engine`).

    ssi.events ──source side──▶ <app>-effects ──target side──▶ ssi.scores.daily, ssi.alerts
         │ (rejected)              (effects keyed by the member they touch; source marks and day
         ▼                          shares go to every partition, after what they cover)
    ssi.events.dlq

Two readers (`stream.ingest`: aiokafka consumers reading whole fetches of the partitions whose effects
partitions this worker holds) drive the engine: the ingest hands each fetch of the events topic to the
source side, the absorber (`absorb-effects`) each partition's share of a fetch of `<app>-effects` to
that partition's target side. (A Faust agent still subscribes to the effects topic, so that Faust's
group gives each worker its effects partitions and the tables' partitions with them; it drops what it
reads.) Every decision (decoding, lateness, dedup, day gates, the ranking protocol, stand-ins) is the
engine's; this module reads, delivers each step the engine yields (waiting until Kafka has it, the
barrier), and moves its input positions only after the last one (`OffsetGuard`). The effects topic's
records and the dead letters go through a producer of their own (`stream.frame_producer`), the rest
through Faust's. A timer marks input partitions idle after `SSI_IDLE_CLOSE_SECONDS` without events, so
the last days close when input stops.
The web server (`stream.views`) serves metrics, probes and the query API.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import faust
import orjson

from ssi_stream.engine import EffectMessage, RawEvent, SourceSide, Step, TargetMessage, TargetSide
from ssi_stream.events.dead_letter import dead_letter_headers
from ssi_stream.events.limits import DecodeLimits
from ssi_stream.ops.kafka_security import faust_credentials, load_security
from ssi_stream.ops.metrics import Stage, WorkerMetrics
from ssi_stream.ops.settings import Settings, SettingsError
from ssi_stream.ops.topics import TopicSpec
from ssi_stream.scoring.effects import decode_effect
from ssi_stream.scoring.model import Model
from ssi_stream.stream.backfill import Backfill
from ssi_stream.stream.broker_contact import BrokerContact
from ssi_stream.stream.delivery import ensure_complete_flush
from ssi_stream.stream.frame_producer import FrameProducer
from ssi_stream.stream.ingest import PartitionReader, ingest_group
from ssi_stream.stream.loop_lag import watch_loop_lag
from ssi_stream.stream.offset_guard import Admit, OffsetGuard
from ssi_stream.stream.recovery_watch import RecoveryWatch
from ssi_stream.stream.table_writes import TableWriter, send_in_batches
from ssi_stream.stream.tables import LedgerCache, TableSourceStore, TableTargetStore, position_key
from ssi_stream.stream.views import QueryViews
from ssi_stream.stream.wire import (
    FRAME,
    KIND_HEADER,
    MAC_HEADER,
    MARK,
    SHARE,
    check_signature,
    decode_frame,
    decode_mark,
    decode_share,
    encode_frames,
    frame_headers,
    header_map,
    placement_from_headers,
)
from ssi_stream.timeline.partitioner import partition_for

log = logging.getLogger(__name__)

#: How often the lag and member gauges are refreshed.
METRICS_INTERVAL_SECONDS = 2.0
#: How often the recovery watch looks at Faust's table recovery (`stream.recovery_watch`).
RECOVERY_WATCH_INTERVAL_SECONDS = 2.0
#: While a backlog waits on the events topic, input is placed only while each effects partition of the
#: worker has at most this many messages (effects, marks, day shares) it wrote and has not absorbed, so
#: the backlog waits there, not between the two sides (BENCHMARKS.md, "Session 6" and "Session 7"):
#: about 10 of the ingest's batches. Input read at a live rate is not held back (`_wait_for_absorb`):
#: a day's close keeps the absorber busy for seconds, and holding events then only delayed them
#: (BENCHMARKS.md, "Session 15").
EFFECTS_BACKLOG_PER_PARTITION = 5_000
#: ... and while input is read at a live rate, at most this many: the seconds of a close's input, not a
#: bound on the absorber's lag that grows for good when input comes faster than it absorbs.
LIVE_EFFECTS_BACKLOG_PER_PARTITION = 50_000
#: ... waiting at most this long at a time (absorbing may be stuck on something input must bring).
BACKPRESSURE_MAX_WAIT_SECONDS = 5.0
#: The absorber returns to the event loop after decoding and after absorbing this many internal
#: messages (about 15 ms of absorbing), so that the ingest's live events are not held behind a fetch.
ABSORB_CHUNK = 1_000
#: The producer's batch per partition (Faust's default is 16 KiB). A batch is full after about 13 ledgers,
#: and a send to a full batch waits for a round trip to the broker: a close's writes waited for dozens.
#: Half of a broker's default `message.max.bytes` (1 MiB).
PRODUCER_BATCH_BYTES = 512 * 1024


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """The topics a worker needs, created on start if missing (the worker creates its changelogs too)."""
    names = (
        settings.events_topic,
        settings.effects_topic,
        settings.dlq_topic,
        settings.scores_topic,
        settings.alerts_topic,
        settings.quarantine_topic,
    )
    return [TopicSpec(name, settings.partitions, settings.replication_factor) for name in names]


def faust_app_options(settings: Settings, bootstrap: str) -> dict[str, Any]:
    """The worker's `faust.App` settings (512 KiB producer batches; Faust's defaults otherwise: asyncio's
    loop, no linger, the default Monitor); `bench/faust_cost_bench.py` measures Faust's cost with these."""
    return dict(
        broker=f"kafka://{bootstrap}",
        broker_credentials=faust_credentials(load_security(settings)),
        store=settings.store,
        datadir=str(settings.data_path / settings.worker_id),
        web_enabled=True,
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        canonical_url=settings.advertised_web_url,  # what the group tells the others to forward to
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        table_standby_replicas=settings.standby_replicas,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_seconds / 10),
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        autodiscover=False,
        processing_guarantee="at_least_once",
    )


class ScoringTopology:
    """One worker's Faust app driving the engine."""

    def __init__(self, settings: Settings, bootstrap: str, model: Model) -> None:
        self.settings = settings
        self.model = model
        self.timeline = settings.timeline()
        self.limits: DecodeLimits = settings.decode_limits()  # size and Schema Registry framing
        self.frame_format = settings.frame_format  # what frames this worker writes (it reads both)
        partitions = settings.partitions
        self.app = faust.App(settings.app_id, **faust_app_options(settings, bootstrap))
        # Faust's flush can return before its buffered changelog writes are delivered: make it wait.
        self.delivery = ensure_complete_flush(self.app.producer)
        self.backfill = Backfill(bootstrap, load_security(settings))
        self.frames = FrameProducer(
            bootstrap,
            load_security(settings),
            client_id=self.app.conf.broker_client_id,  # Faust's producer's: the same quotas
            max_batch_size=PRODUCER_BATCH_BYTES,
            request_timeout_ms=int(self.app.conf.producer_request_timeout * 1000),
        )
        raw = {"key_serializer": "raw", "value_serializer": "raw"}
        self.effects_topic = self.app.topic(settings.effects_topic, partitions=partitions, **raw)
        self.dlq_topic = self.app.topic(settings.dlq_topic, partitions=partitions, **raw)
        self.scores_topic = self.app.topic(settings.scores_topic, partitions=partitions, **raw)
        self.alerts_topic = self.app.topic(settings.alerts_topic, partitions=partitions, **raw)
        self.quarantine_topic = self.app.topic(settings.quarantine_topic, partitions=partitions, **raw)
        self.internal_key = internal_key(settings)
        # bytes in, bytes out: the tables and their changelogs hold the core's own compact encodings.
        table_options = {"partitions": partitions, "key_type": bytes, "value_type": bytes}
        self.members = self.app.Table("members", **table_options)
        self.clocks = self.app.Table("source-clocks", **table_options)
        self.gates = self.app.Table("close-gates", **table_options)
        self.metrics = WorkerMetrics(model.version)

        self._sent: list[Any] = []  # send futures since the last _flush
        #: (effects partition, send future, messages in the frame) of frames not yet seen delivered
        self._frames_sent: list[tuple[int, Any, int]] = []
        #: effects partition held here -> (offset, messages) of the frames this worker delivered there and
        #: the absorber has not passed yet, and the sum of those messages
        self._unabsorbed: dict[int, deque[tuple[int, int]]] = {}
        self._unabsorbed_messages: dict[int, int] = {}
        #: Held while a fetch is placed or an idle mark sent: a mark never overtakes a batch's effects
        #: (the idle timer does nothing while a fetch holds it).
        self._marking = asyncio.Lock()
        self._event_guards: dict[int, OffsetGuard] = {}
        self._effect_guards: dict[int, OffsetGuard] = {}
        self.writes = TableWriter()  # every table write; sent before each flush (stream.table_writes)
        self._source_store = TableSourceStore(self.clocks, self.writes)
        self.source = self._new_source()
        self.targets: dict[int, TargetSide] = {}
        self.ledger_cache = LedgerCache(settings.ledger_cache_members)
        self._last_input: dict[int, float] = {}
        self._absorbed: dict[int, int] = {}  # effects partition -> last offset processed (for lag)
        #: Effects partitions absorbed since their state and position were last written (`_store_absorbed`).
        self._unstored: set[int] = set()
        self._stored_at = time.monotonic()  # when `_store_absorbed` last wrote them
        self._stopping = False  # drained for good: the worker is stopping

        self.ingest = PartitionReader(
            bootstrap,
            settings.events_topic,
            ingest_group(settings.app_id),
            self._place_fetch,
            self._stored_position,
            on_start=self._resume_sources,
            batch_max=settings.batch_max,
            batch_ms=settings.batch_ms,
            security=load_security(settings),
        )
        self.absorber = PartitionReader(
            bootstrap,
            self.effects_topic.get_topic_name(),
            ingest_group(settings.app_id),
            self._absorb_fetch,
            self._stored_effects_position,
            on_idle=self._absorb_idle,
            batch_max=settings.batch_max,
            batch_ms=settings.batch_ms,
            security=load_security(settings),
        )
        self.app.task(self.ingest_events)
        self.app.task(self.absorb_effects)
        self.app.agent(self.effects_topic, name="assign-effects")(self.assign_effects)
        self.app.timer(max(1.0, settings.idle_close_seconds / 4), name="mark-idle-partitions")(
            self.mark_idle_partitions
        )
        self.app.timer(METRICS_INTERVAL_SECONDS, name="update-gauges")(self.update_gauges)
        self.recovery_watch = RecoveryWatch(
            lambda: self.app.tables.recovery,
            lambda offsets: self.app.consumer.seek_wait(offsets),
            lambda: self.app.consumer_generation_id,
            on_reseek=self.metrics.recovery_reseeked,
        )
        self.app.on_partitions_revoked.connect(self._on_revoked)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        self.views = QueryViews(self, BrokerContact(self.app, settings.events_topic))

    def changelog_specs(self) -> list[TopicSpec]:
        """The tables' compacted changelog topics, as Faust names them."""
        return [
            TopicSpec(
                table.changelog_topic.get_topic_name(),
                self.settings.partitions,
                self.settings.replication_factor,
                (("cleanup.policy", "compact"),),
            )
            for table in (self.members, self.clocks, self.gates)
        ]

    def target(self, partition: int) -> TargetSide:
        """The engine's target side for an effects partition this worker holds (built on first use)."""
        side = self.targets.get(partition)
        if side is None:
            store = TableTargetStore(
                partition,
                self.settings.partitions,
                self.members,
                self.gates,
                self.timeline.dedup,
                self.writes,
                self.ledger_cache,
            )
            side = self.targets[partition] = TargetSide(
                partition, self.model, self.timeline, store, observer=self.metrics
            )
        return side

    # -- ingest: events -> effects ------------------------------------------------------------
    async def ingest_events(self) -> None:
        """The bulk ingest loop (`stream.ingest`), started once the tables are restored."""
        await _run_reader("ingest-events", self.ingest, settled=lambda: not self.app.rebalancing)

    async def absorb_effects(self) -> None:
        """The effects topic's reading loop, as the ingest's (started once the tables are restored)."""
        await _run_reader("absorb-effects", self.absorber, settled=lambda: not self.app.rebalancing)

    async def assign_effects(self, stream: faust.StreamT) -> AsyncIterator[None]:
        """Faust's subscription to the effects topic: it makes the group assign effects partitions (and
        the tables' partitions with them); what it reads is dropped (the absorber reads the topic)."""
        async for _batch in stream.take_events(self.settings.batch_max, within=1.0):
            yield None

    async def _place_fetch(self, fetch: Mapping[int, Sequence[Any]]) -> None:
        """One fetch of the events topic, in partition order: hand it to the source side, deliver each
        step it yields, then move the positions. A failed fetch stops the worker (see _fail_hard)."""
        await self._wait_for_absorb(fetch)
        started = time.perf_counter()
        async with self._marking:
            await _or_fail_hard("ingest-events", self._place_batch(fetch))
        self.metrics.processed("place", time.perf_counter() - started, sum(map(len, fetch.values())))

    async def _resume_sources(self, sources: frozenset[int]) -> None:
        """Before the first event of newly read input partitions: tell every target they are read again
        (not idle), so a backlog that waited while they had no reader holds its days open."""
        step = self.source.resume(sources)
        if step is not None:
            await self._deliver(step)
            await self._flush("place")

    async def _wait_for_absorb(self, fetch: Mapping[int, Sequence[Any]]) -> None:
        """Backpressure: while input waits behind `fetch` on the events topic (more than one batch), place
        it only once no effects partition of this worker holds more than `EFFECTS_BACKLOG_PER_PARTITION`
        messages this worker wrote and has not absorbed yet, so a backlog never starves the closes (it
        stays on the events topic, where the lag gauge shows it). Input read at a live rate waits only
        past `LIVE_EFFECTS_BACKLOG_PER_PARTITION`: holding it back sooner would only delay it (a close
        keeps the absorber busy for seconds). Waits at most `BACKPRESSURE_MAX_WAIT_SECONDS` at a time."""
        behind = self.ingest.waiting_after(fetch) > self.settings.batch_max
        limit = EFFECTS_BACKLOG_PER_PARTITION if behind else LIVE_EFFECTS_BACKLOG_PER_PARTITION
        if self._effects_backlog() <= limit:  # counted at every fetch: the list of frames sent stays short
            return
        started = time.monotonic()
        try:
            while self._effects_backlog() > limit:
                if time.monotonic() - started > BACKPRESSURE_MAX_WAIT_SECONDS:
                    return
                await asyncio.sleep(0.01)
        finally:
            self.metrics.backpressure_waited(time.monotonic() - started)

    def _effects_backlog(self) -> int:
        """The most messages this worker wrote to one of its own effects partitions and has not absorbed."""
        pending, waiting, held = [], set(), self.absorber.partitions
        for destination, future, count in self._frames_sent:
            if destination in waiting or not future.done():  # a partition's frames are counted in order
                waiting.add(destination)
                pending.append((destination, future, count))
            elif destination not in held:  # another worker absorbs it: not counted, nothing kept
                continue
            elif not future.cancelled() and future.exception() is None:
                self._unabsorbed.setdefault(destination, deque()).append((future.result().offset, count))
                self._unabsorbed_messages[destination] = self._unabsorbed_messages.get(destination, 0) + count
        self._frames_sent = pending
        backlog = 0
        for destination, frames in self._unabsorbed.items():
            absorbed = self._absorbed.get(destination)
            if absorbed is None:  # not held here, or nothing absorbed yet since assigned
                continue
            while frames and frames[0][0] <= absorbed:
                self._unabsorbed_messages[destination] -= frames.popleft()[1]
            backlog = max(backlog, self._unabsorbed_messages[destination])
        return backlog

    async def _place_batch(self, fetch: Mapping[int, Sequence[Any]]) -> None:
        """Hand a fetch to the source side, deliver each step it yields, then move the positions."""
        now = datetime.now(UTC)
        raws: list[RawEvent] = []
        guards = self._event_guards
        for source, records in fetch.items():
            self._last_input[source] = time.monotonic()
            guard = guards.get(source)
            if guard is None:
                guard = guards[source] = OffsetGuard.from_bytes(self._source_store.position(source))
            if guard.admit_run(records[0].offset, records[-1].offset, len(records)):  # the usual case
                raws += [RawEvent(r.value, source, r.offset, r.key, headers=r.headers) for r in records]
                continue
            for record in records:
                expected = guard.next_offset
                verdict = guard.admit(record.offset)
                if verdict is Admit.REREAD:
                    self.metrics.redelivery_skipped()
                    continue
                if verdict is Admit.GAP:  # read in order by our own consumer: the offsets are gone
                    log.warning(
                        "%s[%d]: offsets %d..%d are not in the log (retention or compaction): going on at %d",
                        self.settings.events_topic,
                        source,
                        expected,
                        record.offset - 1,
                        record.offset,
                    )
                    self.metrics.input_gap()
                raws.append(RawEvent(record.value, source, record.offset, record.key, headers=record.headers))
        # A durable position proves its input fully processed (see OffsetGuard): it moves only after the
        # last step (effects and dead letters, then the marks that promise them) is delivered; all of
        # them go through `self.frames`, which the ingest's flush waits for.
        for step in self.source.place(raws, now):
            await self._deliver(step)
            await self._flush("place")
        for source in fetch:
            self._source_store.put_position(source, guards[source].to_bytes())
        # On their way now (the absorber's next flush proves them delivered), unless the absorber is
        # sending its own: then that send sends them too before it returns (its flush covers them),
        # and the next fetch does not wait for it (a close's ledgers, encoded as they are sent).
        await self.writes.send_unless_busy(self._send_records)

    def _stored_position(self, source: int) -> int | None:
        return OffsetGuard.from_bytes(self._source_store.position(source)).next_offset

    def _stored_effects_position(self, target: int) -> int | None:
        return OffsetGuard.from_bytes(self.gates.get(position_key(target))).next_offset

    async def _admitted(self, message: Any) -> list[Any]:
        """The effects-topic messages to process for `message`: none if the state has it already; else
        itself, after any offsets the reader skipped before it (read again, if still in the log)."""
        partition = message.partition
        guards = self._effect_guards
        guard = guards.get(partition)
        if guard is None:
            guard = guards[partition] = OffsetGuard.from_bytes(self.gates.get(position_key(partition)))
        expected = guard.next_offset
        verdict = guard.admit(message.offset)
        if verdict is Admit.REREAD:
            self.metrics.redelivery_skipped()
            return []
        if verdict is Admit.NEXT:
            return [message]
        assert expected is not None  # a gap needs an expected offset
        missing = await self.backfill.read(message.topic, partition, expected, message.offset)
        log.warning(
            "%s[%d]: got offset %d where offset %d was expected: read the %d skipped messages first",
            message.topic,
            partition,
            message.offset,
            expected,
            len(missing),
        )
        self.metrics.input_gap()
        return [*missing, message]

    # -- absorb: effects, marks and shares -> member ledgers -> daily scores ----------------
    async def _absorb_fetch(self, fetch: Mapping[int, Sequence[Any]]) -> None:
        """One fetch of the effects topic: each partition's messages to its target side; a failed fetch
        stops the worker (see _fail_hard)."""
        started = time.perf_counter()
        await _or_fail_hard("absorb-effects", self._absorb_batch(fetch))
        self.metrics.processed("absorb", time.perf_counter() - started, sum(map(len, fetch.values())))

    async def _absorb_batch(self, fetch: Mapping[int, Sequence[Any]]) -> None:
        """Hand each partition's messages to its target side; deliver every step, then the positions."""
        messages: dict[int, list[TargetMessage]] = {}
        decoded = 0
        for target, records in fetch.items():
            self._absorbed[target] = max(records[-1].offset, self._absorbed.get(target, -1))
            for record in records:
                if decoded >= ABSORB_CHUNK:  # a catching-up fetch holds 100,000s: let the ingest run
                    decoded = 0
                    await asyncio.sleep(0)
                for message in await self._admitted(record):
                    try:
                        taken = _target_messages(message, self.internal_key)
                    except ValueError as exc:  # unreadable, or not signed with our key
                        if self.settings.on_unreadable == "fail":
                            raise
                        await self._quarantine(message, exc)
                        continue
                    messages.setdefault(target, []).extend(taken)
                    decoded += len(taken)
        # Every partition's side in lockstep: each yields a step that must be delivered before it goes
        # on; the steps of all partitions are delivered together, with one flush a round, not one each.
        running = [(target, _taking(self.target(target), taken)) for target, taken in messages.items()]
        while running:
            stepped, delivered = [], False
            for target, steps in running:
                step = next(steps, _DONE)
                if step is _DONE:
                    continue
                stepped.append((target, steps))
                if step is not None:
                    await self._deliver(step, target)
                    delivered = True
                # a day's close yields every MEMBERS_PER_STEP members, absorbing every ABSORB_CHUNK
                # messages: let the ingest run between them
                await asyncio.sleep(0)
            if delivered:
                await self._flush("absorb")
            running = stepped
        for target in messages:
            await self._deliver(self.target(target).drain(), target)
        self._unstored.update(fetch)
        if self._state_due():
            await self._store_absorbed()

    def _state_due(self) -> bool:
        """`SSI_STATE_WRITE_MS` has passed since the absorbed state was last written."""
        return time.monotonic() - self._stored_at >= self.settings.state_write_ms / 1000

    async def _store_absorbed(self) -> None:
        """Write the state the target sides changed since the last time, deliver it, then write the
        effects positions that vouch for it (a crash resumes from them: what came after is absorbed
        again into the stored state, each effect once)."""
        unstored, self._unstored = sorted(self._unstored), set()
        for target in unstored:
            side = self.targets.get(target)
            if side is not None:
                side.store_state()
                await asyncio.sleep(0)  # a partition's ledgers at a time: let the ingest run between
        await self._flush("absorb")  # the state first, then the positions that vouch for it
        for target in unstored:
            self.writes.put(self.gates, target, position_key(target), self._effect_guards[target].to_bytes())
        await self._send_table_writes()  # on their way now; the next flush waits for them
        self._stored_at = time.monotonic()

    async def _absorb_idle(self) -> None:
        """The effects topic has nothing new (for `SSI_BATCH_MS`): write what is absorbed and not yet
        stored, once it is due (a worker whose absorber keeps catching up would otherwise write at
        every pause between the ingest's batches)."""
        if self._unstored and self._state_due():
            await _or_fail_hard("absorb-effects", self._store_absorbed())

    # -- delivery ---------------------------------------------------------------------------
    async def _deliver(self, step: Step, target: int | None = None) -> None:
        """Send what a step holds, internal messages packed in frames per partition, score records and
        alerts in record batches per partition (`_flush` then waits for it); `target`: the effects
        partition whose side yielded the step, if one did (its members' records' partition)."""
        if step.to_targets:
            effects = self.effects_topic.get_topic_name()
            by_partition: dict[int, list[TargetMessage]] = {}
            for destination, message in step.to_targets:
                by_partition.setdefault(destination, []).append(message)
            for destination in sorted(by_partition):
                messages = by_partition[destination]
                frames = encode_frames(messages, frame_format=self.frame_format)
                for index, frame in enumerate(frames):
                    headers = frame_headers(frame, self.internal_key)
                    future = await self.frames.send(effects, frame, destination, headers)
                    self._sent.append(future)
                    share = len(messages) // len(frames) + (index < len(messages) % len(frames))
                    self._frames_sent.append((destination, future, share))
        if step.quarantine:  # effects of members whose stored state cannot be read, as frames of one
            quarantine = self.quarantine_topic.get_topic_name()
            for reason, message in step.quarantine:
                for frame in encode_frames([message], frame_format=self.frame_format):
                    headers = [
                        *frame_headers(frame, self.internal_key),
                        ("ssi-quarantine-reason", reason.encode()),
                    ]
                    await self._send(quarantine, None, frame, None, headers)
        if step.dead_letters:  # the original key; the original headers, then Kafka Connect's error headers
            dlq = self.dlq_topic.get_topic_name()
            for key, record in step.dead_letters:
                headers = dead_letter_headers(
                    record, app_id=self.settings.app_id, worker_id=self.settings.worker_id
                )
                # with the effects of their batch: the ingest's flush waits for this producer only
                future = await self.frames.send(dlq, orjson.dumps(record), None, headers, key=key)
                self._sent.append(future)
        if step.records:
            await self._send_keyed(self.scores_topic.get_topic_name(), step.records, target)
        if step.alerts:
            await self._send_keyed(self.alerts_topic.get_topic_name(), step.alerts, target)

    async def _quarantine(self, message: Any, problem: ValueError) -> None:
        """Keep an unreadable internal record whole on the quarantine topic, with where it came from and
        why; every other member goes on being scored (docs/streaming.md, "Unreadable records")."""
        forged = MAC_HEADER in str(problem)
        headers = [
            *(message.headers or ()),
            ("ssi-quarantine-reason", str(problem)[:500].encode()),
            ("ssi-source-topic", message.topic.encode()),
            ("ssi-source-partition", str(message.partition).encode()),
            ("ssi-source-offset", str(message.offset).encode()),
        ]
        name = self.quarantine_topic.get_topic_name()
        await self._send(name, message.key, message.value or b"", message.partition, headers)
        self.metrics.quarantined("forged" if forged else "unreadable")
        log.error(
            "%s[%d]@%d quarantined (%s): %s", message.topic, message.partition, message.offset, name, problem
        )

    async def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        """Send a record straight to the Kafka producer (Faust's `Topic.send` adds a future, callbacks and
        sensors per message: 17 % of a busy worker's time) and return its future; `_flush` checks that it
        was delivered. A value of None is a tombstone."""
        future = await self.app.producer.send(topic, key, value, partition, None, headers)
        self._sent.append(future)
        return future

    async def _send_keyed(self, topic: str, keyed: list[tuple[str, Any]], target: int | None) -> None:
        """Send records keyed by member id as record batches (`send_in_batches`), each on the partition
        Kafka's default partitioner gives its key (consumers read a member's records in order from one
        partition): no per-record send (a busy worker's 10,000s of score records a minute). On a topic
        with as many partitions as the effects topic that is `target`, the side's own partition."""
        count = len(await self.app.producer._ensure_producer().partitions_for(topic))
        own = target is not None and count == self.settings.partitions
        by_partition: dict[int, list[tuple[bytes, bytes | None]]] = {}
        dumps = orjson.dumps
        for member_id, record in keyed:
            partition = target if own else partition_for(member_id, count)
            by_partition.setdefault(partition, []).append((member_id.encode(), dumps(record)))
        for partition in sorted(by_partition):
            await self._send_records(topic, partition, by_partition[partition])

    async def _send_table_writes(self) -> None:
        """Hand the table writes made so far to the producer, in order (their changelog records); waits
        for a send of the other reader's in progress, even with nothing of its own to send."""
        await self.writes.send(self._send_records)

    async def _send_records(
        self, topic: str, partition: int, records: list[tuple[bytes, bytes | None]]
    ) -> list[tuple[Any, int]]:
        """Send `records` to one partition as record batches (`stream.table_writes.send_in_batches`);
        `_flush` checks that each batch was delivered."""
        producer = self.app.producer._ensure_producer()  # Faust's driver has no batch API of its own
        sent = await send_in_batches(producer, topic, partition, records)
        self._sent.extend(future for future, _ in sent)
        return sent

    async def _flush(self, stage: Stage) -> None:
        """Wait until what `stage` sent so far is delivered; raise if anything failed (see _fail_hard).

        The absorber's flush waits for everything, both producers: a table write one reader sent may
        hold the other's records. The ingest's waits for `self.frames` only, which carries all it sends
        but table writes: it orders its effects and dead letters, then its marks, then its positions
        and clocks (table writes sent after that flush, that a later flush proves delivered: a crash
        before then resumes from the older position). Every flush checks every send not yet seen
        delivered, whichever reader sent it, and raises on a failed one."""
        started = time.perf_counter()
        if stage == "absorb":
            await self._send_table_writes()
            await self.app.producer.flush()
        await self.frames.flush()
        self.metrics.delivery_waited(stage, time.perf_counter() - started)
        pending, failed = [], []
        for future in self._sent:
            if not future.done():
                pending.append(future)  # sent after the flush began: a later flush checks it
            elif not future.cancelled() and future.exception() is not None:
                failed.append(future)
        self._sent = pending
        if failed:
            raise RuntimeError(f"{len(failed)} records were not delivered: {failed[0].exception()!r}")

    # -- timer: idle input partitions ------------------------------------------------------
    async def mark_idle_partitions(self) -> None:
        """Tell every target which input partitions have had no events for `SSI_IDLE_CLOSE_SECONDS`."""
        if self._marking.locked() or self._stopping:
            return  # a fetch is being placed: an idle mark now could overtake its effects
        idle_after = self.settings.idle_close_seconds
        now = time.monotonic()
        for source in sorted(self.ingest.partitions):
            last = self._last_input.setdefault(source, now)
            if self.source.is_idle(source) or now - last < idle_after:
                continue
            if await self.input_lag(source) != 0:
                continue  # quiet only because the worker is busy elsewhere (or not fetched yet)
            async with self._marking:  # not while a fetch is placed, nor once the worker drained
                if self._stopping:
                    return
                if self._last_input.get(source, now) != last:
                    continue  # events came while the lag was asked for
                step = self.source.idle_mark(source)
                if step is not None:
                    await self._deliver(step)
                    log.info("input partition %d idle for %.0f s: marked idle", source, now - last)

    async def input_lag(self, source: int) -> int | None:
        """Events of input partition `source` not yet processed, from its end offset now (None: unknown)."""
        ends = await self.ingest.end_offsets([source])
        return await self._input_lag(source, ends.get(source))

    async def _input_lag(self, source: int, end: int | None) -> int | None:
        if end is None:
            return None
        handled = self.ingest.next_offset(source)
        if handled is None:
            handled = self._stored_position(source)
        if handled is None:  # nothing processed, nothing stored: where the consumer starts
            handled = await self.ingest.position(source)
        return None if handled is None else max(0, end - handled)

    # -- the recovery watch ------------------------------------------------------------------
    async def watch_recovery(self) -> None:
        """Run the recovery watch every `RECOVERY_WATCH_INTERVAL_SECONDS` until the worker stops. The
        worker starts it (Faust starts its timers only once the first recovery is complete: the one
        this watch must see too)."""
        while not self._stopping:
            await asyncio.sleep(RECOVERY_WATCH_INTERVAL_SECONDS)
            if self._stopping:
                return
            try:
                await self.recovery_watch.check()
            except Exception:  # Faust's recovery changed shape: say so once, never stop the worker
                log.exception("the table recovery watch failed and stops")
                return

    async def watch_loop_lag(self) -> None:
        """Observe the event loop's lag (`ssi_event_loop_lag_seconds`) until the worker stops."""
        await watch_loop_lag(self.metrics.loop_lagged, stopping=lambda: self._stopping)

    # -- timer: gauges ---------------------------------------------------------------------
    async def update_gauges(self) -> None:
        """Refresh the gauges a scrape cannot compute itself: consumer lag per partition and members.

        The lag is each partition's end offset now (asked of the broker: the consumers' own high-water
        marks are as old as their last fetch, which a busy worker makes late) minus what this worker
        has processed, for every partition of both topics it holds. `/metrics` refreshes it too.
        """
        lags: dict[tuple[str, int], int] = {}
        events = self.settings.events_topic
        effects = self.effects_topic.get_topic_name()
        reading = sorted(self.ingest.partitions)
        absorbing = sorted(self.absorber.partitions)
        # one request for both topics, on a connection of its own (not through Faust's consumer thread)
        ends = await self.ingest.end_offsets_of(
            [(events, source) for source in reading] + [(effects, target) for target in absorbing]
        )
        for source in reading:
            lag = await self._input_lag(source, ends.get((events, source)))
            if lag is not None:
                lags[events, source] = lag
        for target in absorbing:
            end, absorbed = ends.get((effects, target)), self._absorbed.get(target)
            position = await self.absorber.position(target) if absorbed is None else absorbed + 1
            if end is not None and position is not None:
                lags[effects, target] = max(0, end - position)
        self.metrics.set_consumer_lag(lags)
        # Partitions whose members are loaded (after a rebalance, each loads on its first effect);
        # counting the table itself would scan every key of the store.
        self.metrics.set_members(sum(side.member_count() for side in list(self.targets.values())))
        hits, decoded = self.ledger_cache.take_counts()
        self.metrics.ledger_cache(len(self.ledger_cache), hits=hits, decoded=decoded)

    async def _on_revoked(self, sender: Any, revoked: Any, **kwargs: Any) -> None:
        """A rebalance begins: stop reading input (the fetch in progress is finished first, and its
        positions delivered before the partitions can move)."""
        await self.drain()
        self._forget_caches()

    async def drain(self, *, for_good: bool = False) -> None:
        """Stop reading input and write what is absorbed and not yet stored, with the positions that
        vouch for it: the batches in progress finish first (each reader's pause waits for its own).

        A rebalance runs this before partitions move, and a stopping worker (`for_good`: no later
        assignment starts the readers again) before Faust stops its producer: a batch still running
        then would fail to send and stop the process with a crash."""
        if for_good:
            self._stopping = True
        await self.ingest.pause()
        await self.absorber.pause()
        async with self._marking:  # an idle mark being sent is covered by the flush below
            pass
        try:
            await self._store_absorbed()
            await self._flush("absorb")
        finally:
            if for_good:
                await self.frames.stop()

    async def _on_assigned(self, sender: Any, assigned: Any, **kwargs: Any) -> None:
        """Read the input partitions whose effects partitions this worker now holds (once restored)."""
        self._forget_caches()
        if self._stopping:
            return
        effects = self.effects_topic.get_topic_name()
        held = [tp.partition for tp in assigned if tp.topic == effects]
        self.ingest.assign(held)
        self.absorber.assign(held)

    def _forget_caches(self) -> None:
        """After a rebalance, state may have moved: read it again from the tables."""
        self.source = self._new_source()
        self.targets.clear()
        self.ledger_cache.clear()
        self._event_guards.clear()
        self._effect_guards.clear()
        self._last_input.clear()
        self._absorbed.clear()
        self._unstored.clear()  # not written: the readers start again at the stored positions
        # what the backpressure counted of partitions this worker may not absorb any more
        self._unabsorbed.clear()
        self._unabsorbed_messages.clear()

    def _new_source(self) -> SourceSide:
        return SourceSide(
            self.timeline,
            self._source_store,
            limits=self.limits,
            observer=self.metrics,
            origin_name=self.settings.events_topic,
        )


#: Marks the end of a side's steps in `_absorb_batch`.
_DONE: Any = object()


def _taking(side: TargetSide, taken: list[TargetMessage]) -> Iterator[Step | None]:
    """`side.take(taken, store=False)`, `ABSORB_CHUNK` messages at a time, with None between chunks: a
    pause with nothing to deliver (a whole fetch in one go held the loop: BENCHMARKS.md "Session 17")."""
    for start in range(0, len(taken), ABSORB_CHUNK):
        if start:
            yield None
        yield from side.take(taken[start : start + ABSORB_CHUNK], store=False)


def internal_key(settings: Settings) -> bytes | None:
    """The key that signs internal records (SSI_INTERNAL_KEY_FILE), or None."""
    if not settings.internal_key_file:
        return None
    try:
        key = Path(settings.internal_key_file).read_bytes().strip()
    except OSError as exc:
        raise SettingsError(
            f"SSI_INTERNAL_KEY_FILE: cannot read {settings.internal_key_file}: {exc}"
        ) from None
    if len(key) < 16:
        raise SettingsError("SSI_INTERNAL_KEY_FILE must hold a key of at least 16 bytes")
    return key


def _target_messages(message: Any, key: bytes | None = None) -> list[TargetMessage]:
    """An effects-topic record as the engine's target side takes it: a frame's messages, or one message
    of the single-message forms that workers before frames wrote. With `key`, only signed frames."""
    headers = header_map(message.headers)
    if key is not None:
        check_signature(message.value, headers, key)
    if message.value is None:
        raise ValueError("internal record without a value")
    kind = headers.get(KIND_HEADER)
    if kind == FRAME:
        return decode_frame(message.value)
    if kind == MARK:
        return [decode_mark(message.value)]
    if kind == SHARE:
        return [decode_share(message.value)]
    return [EffectMessage(decode_effect(message.value), placement_from_headers(headers))]


async def _run_reader(name: str, reader: PartitionReader, settled: Any) -> None:
    """Run a reader's loop until cancelled; if it fails, stop the worker (a worker that looks alive but
    reads nothing would be worse)."""
    await _or_fail_hard(name, reader.run(settled=settled))


async def _or_fail_hard(name: str, work: Awaitable[None]) -> None:
    """Await `work`; if it raises (a cancellation aside: the worker is stopping), stop the process."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        _fail_hard(name, exc)


def _fail_hard(agent: str, exc: BaseException) -> NoReturn:
    """Stop the process at once, as a SIGKILL would, when a batch fails.

    Faust would restart the agent in this process with its in-memory guards, clocks and gates already
    moved past the failed batch, and ack (then commit) the batch: its input would be lost. Exiting
    without a commit leaves the durable positions and offsets consistent; the restarted worker (or the
    group's other workers) resume from them.
    """
    log.critical("%s: batch failed, exiting without committing: %r", agent, exc, exc_info=exc)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(70)
