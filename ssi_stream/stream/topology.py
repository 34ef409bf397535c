"""The Faust shell: topics, tables and the two agents around the pure core.

    ssi.events ──decode/place──▶ ssi.effects ──absorb/close──▶ ssi.scores.daily
         │ (rejected)                 (keyed by the member each effect touches; source marks
         ▼                             go to every partition, after the effects they cover)
    ssi.events.dlq

Agent 1 (`place_events`, on `ssi.events`): decode each event (or dead-letter it), place it on its
partition's event-time clock, and send each of its effects to the member it touches; when the
clock's mark changes, persist the clock and send the mark to every effects partition.
Agent 2 (`absorb_effects`, on `ssi.effects`): absorb each effect into its member's ledger (one table
write carries the new state and the ids that prove it, so a redelivered effect is skipped); when the
marks allow, close the next day for every member of the partition and send the partition's day share
(industry histograms, connections' scores) to every partition; once it holds every partition's share,
emit the day's score records with their ranks (docs/ranking.md).
A timer marks input partitions idle after `SSI_IDLE_CLOSE_SECONDS` without events, so the last days
close even when input stops. All scoring and timing decisions are the pure core's (`ssi_stream.timeline`).
The web server serves `GET /metrics` (Prometheus, `ssi_stream.ops.metrics`), `GET /healthz`, `GET /readyz`
and the query API (`GET /members/{id}/score`, `/members/{id}/history`, `/industries/{name}/distribution`,
described in `docs/openapi.yaml`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

import faust
import orjson
from faust import web
from faust.types import TP, EventT

from ssi_stream.events.contract import INDUSTRY_CHARS
from ssi_stream.events.contract import member_id as member_id_check
from ssi_stream.events.dead_letter import PayloadSource, dead_letter_record
from ssi_stream.events.decode import Rejected, decode
from ssi_stream.events.limits import DecodeLimits
from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    absorb_effect,
    close_member_day,
    day_alerts,
    decode_ledger,
    encode_ledger,
    latest_record,
    member_day,
    new_ledger,
    ranked_record,
)
from ssi_stream.ops.metrics import WorkerMetrics, exposition
from ssi_stream.ops.settings import Settings
from ssi_stream.ops.topics import TopicSpec
from ssi_stream.ranking.distribution import distribution_document
from ssi_stream.ranking.exchange import DayBoard, ShareConflict, day_shares, stand_in
from ssi_stream.scoring.effects import decode_effect, effects_of, encode_effect
from ssi_stream.scoring.model import Model
from ssi_stream.stream.backfill import Backfill
from ssi_stream.stream.delivery import ensure_complete_flush
from ssi_stream.stream.event_context import event_context
from ssi_stream.stream.offset_guard import Admit, OffsetGuard
from ssi_stream.stream.wire import (
    KIND_HEADER,
    MARK,
    SHARE,
    decode_mark,
    decode_share,
    encode_mark,
    encode_share,
    header_map,
    mark_headers,
    placement_from_headers,
    placement_headers,
    share_headers,
)
from ssi_stream.timeline.close_gate import CloseGate, Receipt
from ssi_stream.timeline.days import epoch_seconds, iso_date
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.source_clock import SourceClock
from ssi_stream.trend.history import MAX_WEEKS, history_document

log = logging.getLogger(__name__)

#: How often the lag and member gauges are refreshed.
METRICS_INTERVAL_SECONDS = 2.0
#: The longest industry name the API looks up (the event contract's limit).
MAX_INDUSTRY_CHARS = INDUSTRY_CHARS[1]


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """The topics a worker needs, created on start if missing (Faust creates only its changelogs)."""
    names = (
        settings.events_topic,
        settings.effects_topic,
        settings.dlq_topic,
        settings.scores_topic,
        settings.alerts_topic,
    )
    return [TopicSpec(name, settings.partitions, settings.replication_factor) for name in names]


class ScoringTopology:
    """One worker's Faust app wired to the pure core."""

    def __init__(self, settings: Settings, bootstrap: str, model: Model) -> None:
        self.settings = settings
        self.model = model
        self.timeline = settings.timeline()
        self.limits = DecodeLimits(max_bytes=settings.max_event_bytes)
        partitions = settings.partitions
        self.app = faust.App(
            settings.app_id,
            broker=f"kafka://{bootstrap}",
            store=settings.store,
            datadir=str(settings.data_path / settings.worker_id),
            web_enabled=True,
            web_host=settings.web_host,
            web_bind=settings.web_host,
            web_port=settings.web_port,
            topic_partitions=partitions,
            topic_replication_factor=settings.replication_factor,
            table_standby_replicas=0,
            consumer_auto_offset_reset="earliest",
            producer_acks=-1,
            broker_session_timeout=settings.session_timeout_seconds,
            broker_heartbeat_interval=max(1.0, settings.session_timeout_seconds / 10),
            broker_commit_every=1000,
            broker_commit_interval=1.0,
            autodiscover=False,
            processing_guarantee="at_least_once",
        )
        # Faust's flush can return before its buffered changelog writes are delivered: make it wait.
        self.delivery = ensure_complete_flush(self.app.producer)
        self.backfill = Backfill(bootstrap)
        raw = {"key_serializer": "raw", "value_serializer": "raw"}
        self.events_topic = self.app.topic(settings.events_topic, partitions=partitions, **raw)
        self.effects_topic = self.app.topic(settings.effects_topic, partitions=partitions, **raw)
        self.dlq_topic = self.app.topic(settings.dlq_topic, partitions=partitions, **raw)
        self.scores_topic = self.app.topic(settings.scores_topic, partitions=partitions, **raw)
        self.alerts_topic = self.app.topic(settings.alerts_topic, partitions=partitions, **raw)
        # bytes in, bytes out: the tables and their changelogs hold the core's own compact encodings.
        table_options = {"partitions": partitions, "key_type": bytes, "value_type": bytes}
        self.members = self.app.Table("members", **table_options)
        self.clocks = self.app.Table("source-clocks", **table_options)
        self.gates = self.app.Table("close-gates", **table_options)

        self._batch_seconds = settings.batch_ms / 1000
        self._sent: list[Any] = []  # send futures since the last _flush
        self._placing = False  # a place batch is in progress (the idle timer waits for it)
        self._event_guards: dict[int, OffsetGuard] = {}
        self._effect_guards: dict[int, OffsetGuard] = {}
        self._clock_cache: dict[int, SourceClock] = {}
        self._gate_cache: dict[int, CloseGate] = {}
        self._members_by_partition: dict[int, set[bytes]] = {}
        self._last_input: dict[int, float] = {}
        self._processed: dict[int, int] = {}
        self._absorbed: dict[int, int] = {}  # effects partition -> last offset processed (for lag)
        self._idle_sent: set[int] = set()
        self._announced: set[int] = set()
        self._close_seconds: dict[int, float] = {}  # partition -> its last close's time, until ranked

        self.app.agent(self.events_topic, name="place-events")(self.place_events)
        self.app.agent(self.effects_topic, name="absorb-effects")(self.absorb_effects)
        self.app.timer(max(1.0, settings.idle_close_seconds / 4), name="mark-idle-partitions")(
            self.mark_idle_partitions
        )
        self.app.on_partitions_revoked.connect(self._forget_caches)
        self.app.on_partitions_assigned.connect(self._forget_caches)

        self.metrics = WorkerMetrics(model.version)
        self.app.timer(METRICS_INTERVAL_SECONDS, name="update-gauges")(self.update_gauges)
        self.app.page("/metrics", name="metrics")(self.serve_metrics)
        self.app.page("/healthz", name="healthz")(self.serve_health)
        self.app.page("/readyz", name="readyz")(self.serve_ready)

        async def member_score(view: web.View, request: web.Request, member_id: str) -> web.Response:
            return await self.serve_member_score(member_id)

        # table_route answers here when this worker owns the member's partition, else forwards the request
        # to the worker that does (its URL from the group's assignment) and relays its answer.
        routed = self.app.table_route(self.members, match_info="member_id")(member_score)
        self.app.page("/members/{member_id}/score", name="member-score")(routed)

        async def member_history(view: web.View, request: web.Request, member_id: str) -> web.Response:
            return await self.serve_member_history(member_id, request.query.get("weeks"))

        routed = self.app.table_route(self.members, match_info="member_id")(member_history)
        self.app.page("/members/{member_id}/history", name="member-history")(routed)

        async def industry_distribution(view: web.View, request: web.Request, name: str) -> web.Response:
            return await self.serve_industry_distribution(name)

        # every partition ranks with every partition's histograms: any worker with a partition can answer
        self.app.page("/industries/{name}/distribution", name="industry-distribution")(industry_distribution)

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

    # -- agent 1: events -> effects --------------------------------------------------------
    async def place_events(self, stream: faust.StreamT) -> AsyncIterator[None]:
        async for batch in stream.take_events(self.settings.batch_max, within=self._batch_seconds):
            started = time.perf_counter()
            self._placing = True
            try:
                await self._place_batch(batch)
            except BaseException as exc:
                _fail_hard("place-events", exc)
            finally:
                self._placing = False
            self.metrics.processed("place", time.perf_counter() - started, len(batch))
            yield None

    async def _place_batch(self, batch: Sequence[EventT]) -> None:
        """Place a batch of events; persist each source's position (and clock, if its mark moved) once."""
        now = datetime.now(UTC)
        last_event: dict[int, EventT] = {}
        marks_due: set[int] = set()
        for event in batch:
            message = event.message
            source = message.partition
            last_event[source] = event
            self._last_input[source] = time.monotonic()
            self._processed[source] = max(message.offset, self._processed.get(source, -1))
            for admitted in await self._admitted(self._event_guards, self.clocks, event):
                if await self._place(admitted, now):
                    marks_due.add(source)
        # The mark is taken before the clock is saved: the clock records the newest mark it sent, and an
        # idle mark sent after a restart must not be older than it (a target ignores older marks).
        marks = {s: self._clock(s).mark(s, last_event[s].message.offset) for s in marks_due}
        for source in marks:
            with event_context(last_event[source]):
                self.clocks[_clock_key(source)] = self._clock(source).to_bytes()
        # Everything the batch produced (effects, dead letters, clocks) is delivered before the positions
        # move past it: a durable position then proves its input fully processed (see OffsetGuard). And a
        # mark promises that its source's effects for the days it declares complete were delivered.
        await self._flush()
        if marks:
            for source in sorted(marks):
                await self._broadcast(encode_mark(marks[source]))
            await self._flush()  # a position must not outlive a mark lost in a crash
        for source, event in last_event.items():
            with event_context(event):
                self.clocks[_position_key(source)] = self._event_guards[source].to_bytes()

    async def _place(self, message: Any, now: datetime) -> bool:
        """Decode and place one event and send its effects; True if its source's mark must be sent."""
        source, offset = message.partition, message.offset
        decoded = decode(message.value, now=now, limits=self.limits)
        if isinstance(decoded, Rejected):
            self.metrics.event_rejected(decoded.code, message.value)
            where = PayloadSource.kafka(message.topic, source, offset)
            record = dead_letter_record(message.value, decoded, source=where, rejected_at=now)
            await self._send(self.dlq_topic, key=message.key, value=orjson.dumps(record))
            self.metrics.dead_lettered()
            return False
        clock = self._clock(source)
        placement, mark_changed = clock.place(epoch_seconds(decoded.occurred_at), offset)
        lag = (now - decoded.occurred_at).total_seconds()
        self.metrics.event_placed(decoded.type, late=placement.late, lag_seconds=lag)
        headers = placement_headers(placement)
        for effect in effects_of(decoded):
            await self._send(
                self.effects_topic,
                key=effect.member_id.encode(),
                value=encode_effect(effect),
                headers=headers,
            )
        woke_up = source in self._idle_sent or source not in self._announced
        if mark_changed or woke_up:
            self._idle_sent.discard(source)
            self._announced.add(source)
            return True
        return False

    async def _send(
        self,
        topic: faust.TopicT,
        *,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send a record straight to the Kafka producer (Faust's `Topic.send` adds a future, callbacks and
        sensors per message: 17 % of a busy worker's time); `_flush` checks that it was delivered."""
        name = topic.get_topic_name()
        self._sent.append(await self.app.producer.send(name, key, value, partition, None, headers))

    async def _flush(self) -> None:
        """Wait until everything sent so far is delivered; raise if anything failed (see _fail_hard)."""
        sent, self._sent = self._sent, []  # what this flush covers (the other agent may send meanwhile)
        await self.app.producer.flush()
        self._sent.extend(f for f in sent if not f.done())  # not expected; checked by a later flush
        failed = [f for f in sent if f.done() and not f.cancelled() and f.exception() is not None]
        if failed:
            raise RuntimeError(f"{len(failed)} records were not delivered: {failed[0].exception()!r}")

    async def _broadcast(self, mark: bytes) -> None:
        for target in range(self.settings.partitions):
            await self._send(
                self.effects_topic, key=None, value=mark, partition=target, headers=mark_headers()
            )

    def _clock(self, source: int) -> SourceClock:
        clock = self._clock_cache.get(source)
        if clock is None:
            stored = self.clocks.get(_clock_key(source))
            clock = SourceClock.from_bytes(stored) if stored else SourceClock(self.timeline.grace_seconds)
            self._clock_cache[source] = clock
        return clock

    async def _admitted(self, guards: dict[int, OffsetGuard], table: faust.Table, event: EventT) -> list[Any]:
        """The messages to process for `event`: none if the state has it already; else itself, after any
        input Faust skipped before it."""
        message = event.message
        partition = message.partition
        guard = guards.get(partition)
        if guard is None:
            guard = guards[partition] = OffsetGuard.from_bytes(table.get(_position_key(partition)))
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

    # -- agent 2: effects -> member ledgers -> daily scores ---------------------------------
    async def absorb_effects(self, stream: faust.StreamT) -> AsyncIterator[None]:
        async for batch in stream.take_events(self.settings.batch_max, within=self._batch_seconds):
            started = time.perf_counter()
            try:
                await self._absorb_batch(batch)
            except BaseException as exc:
                _fail_hard("absorb-effects", exc)
            self.metrics.processed("absorb", time.perf_counter() - started, len(batch))
            yield None

    async def _absorb_batch(self, batch: Sequence[EventT]) -> None:
        """Absorb a batch of effects and marks; each touched ledger is decoded and written once."""
        dirty: dict[int, dict[bytes, MemberLedger]] = {}
        last_event: dict[int, EventT] = {}
        for event in batch:
            target = event.message.partition
            last_event[target] = event
            self._absorbed[target] = max(event.message.offset, self._absorbed.get(target, -1))
            ledgers = dirty.setdefault(target, {})
            for message in await self._admitted(self._effect_guards, self.gates, event):
                await self._absorb(message, event, ledgers)
        for target, event in last_event.items():
            with event_context(event):
                self._write_ledgers(dirty.get(target, {}))
                self.gates[_gate_key(target)] = self._gate(target).to_bytes()
        await self._flush()  # the state first, then the positions that vouch for it
        for target, event in last_event.items():
            with event_context(event):
                self.gates[_position_key(target)] = self._effect_guards[target].to_bytes()

    async def _absorb(self, message: Any, event: EventT, ledgers: dict[bytes, MemberLedger]) -> None:
        """Absorb one effect into its member's pending ledger, or apply a mark or a day share (closing
        and ranking the days they allow)."""
        target = message.partition
        headers = header_map(message.headers)
        gate = self._gate(target)
        kind = headers.get(KIND_HEADER)
        if kind == MARK:
            gate.observe(decode_mark(message.value))
            await self._advance(target, gate, event, ledgers)
            return
        if kind == SHARE:
            share = decode_share(message.value)
            self.metrics.share_received()
            try:
                receipt = gate.receive(share)
            except ShareConflict as exc:  # not expected: shares sent again are the same (see exchange)
                log.error("partition %d: day share skipped: %s", target, exc)
                receipt = Receipt.SKIP
            if receipt is Receipt.STORE:
                with event_context(event):
                    self.gates[_share_key(target, share.day, share.source, share.part)] = message.value
            elif receipt is Receipt.ANSWER:
                await self._send_stand_ins(target, [share.day])
            # even for a share skipped as held: a crash may have come between its day's rank and the
            # next close, and this share may be the only message left to drive them
            await self._advance(target, gate, event, ledgers)
            return
        effect = decode_effect(message.value)
        placement = placement_from_headers(headers)
        day = gate.count_day(placement.day)
        key = effect.member_id.encode()
        ledger = ledgers.get(key) or self._ledger(key)
        late = placement.late or day != placement.day
        policy = self.timeline.dedup
        counted = absorb_effect(ledger, effect, day, late=late, model=self.model, policy=policy)
        if counted:
            ledgers[key] = ledger
            self._members_of(target).add(key)
        self.metrics.effect_absorbed(counted=counted, late=late)

    def _write_ledgers(self, ledgers: dict[bytes, MemberLedger]) -> None:
        for key, ledger in ledgers.items():
            self.members[key] = encode_ledger(ledger)
        ledgers.clear()

    async def _advance(
        self, target: int, gate: CloseGate, event: EventT, ledgers: dict[bytes, MemberLedger]
    ) -> None:
        """Rank the closed day once every partition's share is in, and close the next days the marks allow
        (one at a time: a day closes only once the one before it is ranked)."""
        partitions = self.settings.partitions
        while (step := gate.next_step(partitions)) is not None:
            action, day = step
            with event_context(event):
                self._write_ledgers(ledgers)
                if action == "rank":
                    await self._rank_day(target, gate, day)
                else:
                    await self._close_day(target, gate, day)

    async def _close_day(self, target: int, gate: CloseGate, day: int) -> None:
        """Close `day` for every member of the partition and share the day with every partition."""
        started = time.perf_counter()
        closed = []
        for key in sorted(self._members_of(target)):
            ledger = self._ledger(key)
            if close_member_day(ledger, day, self.model, self.timeline.dedup) is None:
                continue
            self.members[key] = encode_ledger(ledger)
            closed.append(member_day(key.decode(), ledger))
        for destination, parts in day_shares(target, day, closed, self.settings.partitions).items():
            for share in parts:
                await self._send_share(encode_share(share), destination)
        # days others closed before this partition's first close: it has nothing for them, it says so
        await self._send_stand_ins(target, gate.skipped_days(day))
        # The gate may say "closed" only once the shares are delivered: after a crash the day closes
        # again (a member's repeated close changes nothing) and sends the same shares, which targets
        # that hold them already skip.
        await self._flush()
        gate.closed(day)
        self.gates[_gate_key(target)] = gate.to_bytes()
        self._close_seconds[target] = time.perf_counter() - started

    async def _send_stand_ins(self, target: int, days: list[int]) -> None:
        """Tell every partition that this one never closed `days` (see CloseGate.receive)."""
        for day in days:
            log.info("partition %d: day %d closed elsewhere before this partition's first close", target, day)
            value = encode_share(stand_in(target, day))
            for destination in range(self.settings.partitions):
                await self._send_share(value, destination)

    async def _send_share(self, value: bytes, destination: int) -> None:
        await self._send(
            self.effects_topic, key=None, value=value, partition=destination, headers=share_headers()
        )

    async def _rank_day(self, target: int, gate: CloseGate, day: int) -> None:
        """Emit the closed day's records, with their ranks from every partition's share, and its alerts."""
        started = time.perf_counter()
        board = DayBoard()
        for source, part in gate.shares.parts(day):
            board.add(decode_share(self.gates[_share_key(target, day, source, part)]))
        emitted = 0
        for key in sorted(self._members_of(target)):
            ledger = self._ledger(key)
            if ledger.state.last_closed != day:
                continue  # no score that day
            member_id = key.decode()
            scored = member_day(member_id, ledger)
            ranks = board.ranks(member_id, scored.ssi, scored.industry)
            record = ranked_record(member_id, ledger, self.model, ranks)
            await self._send(self.scores_topic, key=key, value=orjson.dumps(record))
            for alert in day_alerts(member_id, ledger, record, self.timeline.alerts):
                await self._send(self.alerts_topic, key=key, value=orjson.dumps(alert))
                self.metrics.alert_emitted(alert["kind"])
            self.members[key] = encode_ledger(ledger)
            self.metrics.score_emitted(record)
            emitted += 1
        date = iso_date(day)
        for name, histogram in board.industries.items():  # one key each: bounded values, any count
            document = distribution_document(name, date, histogram)
            self.gates[_distribution_key(target, name)] = orjson.dumps(document)
        # The gate may say "ranked" only once every record of the day is delivered: after a crash the
        # day is ranked again from the shares it still holds, and each record is rebuilt byte for byte.
        await self._flush()
        gate.ranked(day)
        self.gates[_gate_key(target)] = gate.to_bytes()
        await self._flush()  # the parts go only once a gate that no longer needs them is delivered
        for held_day, source, part in gate.dropping:  # today's, and any a crash left behind
            self.gates.pop(_share_key(target, held_day, source, part), None)
        gate.dropping = []  # stored with the gate at the end of the batch, after the deletions
        seconds = self._close_seconds.pop(target, 0.0) + time.perf_counter() - started
        self.metrics.day_closed(day, records=emitted, seconds=seconds)
        log.info("partition %d: day %d closed and ranked: %d score records", target, day, emitted)

    def _ledger(self, key: bytes) -> MemberLedger:
        stored = self.members.get(key)
        if stored is None:
            return new_ledger(self.timeline.dedup)
        return decode_ledger(stored, self.timeline.dedup)

    def _gate(self, target: int) -> CloseGate:
        gate = self._gate_cache.get(target)
        if gate is None:
            stored = self.gates.get(_gate_key(target))
            gate = (
                CloseGate.from_bytes(stored)
                if stored
                else CloseGate(expected_sources=self.settings.partitions)
            )
            self._gate_cache[target] = gate
        return gate

    def _members_of(self, target: int) -> set[bytes]:
        keys = self._members_by_partition.get(target)
        if keys is None:
            partitions = self.settings.partitions
            keys = {
                key
                for key in self.members.keys()  # noqa: SIM118 - a Faust table, not a dict
                if partition_for(key.decode(), partitions) == target
            }
            self._members_by_partition[target] = keys
        return keys

    # -- timer: idle input partitions ------------------------------------------------------
    async def mark_idle_partitions(self) -> None:
        if self._placing:
            return  # its effects may be undelivered yet: an idle mark now could overtake them
        idle_after = self.settings.idle_close_seconds
        now = time.monotonic()
        events_topic = self.events_topic.get_topic_name()
        assigned = [tp.partition for tp in self.app.consumer.assignment() if tp.topic == events_topic]
        for source in assigned:
            last = self._last_input.setdefault(source, now)
            if source in self._idle_sent or now - last < idle_after:
                continue
            if not await self._caught_up(TP(events_topic, source)):
                continue  # quiet only because the worker is busy elsewhere: input is waiting
            clock = self._clock(source)
            mark = clock.mark(source, clock.mark_offset, idle=True)
            await self._broadcast(encode_mark(mark))
            self._idle_sent.add(source)
            log.info("input partition %d idle for %.0f s: marked idle", source, now - last)

    async def _caught_up(self, tp: TP) -> bool:
        """True if this worker has processed everything the input partition holds."""
        lag = await self._lag(tp, self._processed)
        return lag is not None and lag <= 0

    async def _lag(self, tp: TP, processed_offsets: dict[int, int]) -> int | None:
        """Messages of `tp` not yet processed by this worker (None: unknown before the first fetch)."""
        consumer = self.app.consumer
        try:
            highwater = consumer.highwater(tp)  # as of the latest fetch response: no request
        except Exception:  # not fetched yet (the driver raises or asserts): assume input is waiting
            return None
        if highwater is None:
            return None
        processed = processed_offsets.get(tp.partition)
        if processed is not None:
            return highwater - (processed + 1)
        position = await consumer.position(tp)
        return None if position is None else highwater - position

    # -- timer and web views: metrics ------------------------------------------------------
    async def update_gauges(self) -> None:
        """Refresh the gauges a scrape cannot compute itself: consumer lag per partition and members."""
        processed_by_topic = {
            self.events_topic.get_topic_name(): self._processed,
            self.effects_topic.get_topic_name(): self._absorbed,
        }
        lags: dict[tuple[str, int], int] = {}
        for tp in sorted(self.app.consumer.assignment()):
            processed = processed_by_topic.get(tp.topic)
            if processed is None:
                continue  # a changelog: Faust's business
            try:
                lag = await self._lag(tp, processed)
            except Exception:  # e.g. revoked mid-rebalance: skip it now, never break the worker
                log.debug("no consumer lag for %s this time", tp, exc_info=True)
                continue
            if lag is not None:
                lags[tp.topic, tp.partition] = lag
        self.metrics.set_consumer_lag(lags)
        # Partitions whose members are loaded (after a rebalance, each loads on its first effect);
        # counting the table itself would scan every key of the store.
        self.metrics.set_members(sum(len(keys) for keys in self._members_by_partition.values()))

    # Faust makes a View class of each handler; a bound method stays bound, so it gets only `request`.
    async def serve_metrics(self, request: web.Request) -> web.Response:
        """GET /metrics: this worker's metrics in the Prometheus (or OpenMetrics) text format."""
        payload, content_type = exposition(self.metrics.registry, request.headers.get("Accept"))
        # in headers: aiohttp refuses a charset in its `content_type` argument
        return self.app.web.bytes(payload, headers={"Content-Type": content_type})

    async def serve_member_score(self, member_id: str) -> web.Response:
        """GET /members/{id}/score: the member's latest daily score record (the owner worker answers)."""
        ledger = self._closed_ledger(member_id)
        if not isinstance(ledger, MemberLedger):
            return ledger  # the 400 or 404 answer
        record = latest_record(member_id, ledger, self.model)
        if record is None:  # between the close of its day and the arrival of the day's ranks: seconds
            day = iso_date(ledger.state.last_closed)  # type: ignore[arg-type]
            problem = f"the score of {member_id!r} for {day} is waiting for the day's ranks: retry shortly"
            return self._error(503, "ranking", problem, retry_after=2)
        return self._json(record)

    async def serve_industry_distribution(self, name: str) -> web.Response:
        """GET /industries/{name}/distribution: the industry's SSI distribution on the last ranked day."""
        if not 1 <= len(name) <= MAX_INDUSTRY_CHARS:
            return self._error(400, "bad_industry", f"an industry name has 1-{MAX_INDUSTRY_CHARS} characters")
        effects = self.effects_topic.get_topic_name()
        newest: dict[str, Any] | None = None
        for tp in self.app.consumer.assignment():
            stored = self.gates.get(_distribution_key(tp.partition, name)) if tp.topic == effects else None
            document = None if stored is None else orjson.loads(stored)
            if document is not None and (newest is None or document["date"] > newest["date"]):
                newest = document
        if newest is None:
            return self._error(404, "not_found", f"no ranked day has members of industry {name!r} yet")
        return self._json(newest)

    async def serve_member_history(self, member_id: str, weeks_text: str | None) -> web.Response:
        """GET /members/{id}/history?weeks=N: the member's daily and weekly SSI over the last N weeks."""
        weeks = MAX_WEEKS if weeks_text is None else _whole_number(weeks_text)
        if weeks is None or not 1 <= weeks <= MAX_WEEKS:
            problem = f"weeks must be a whole number 1-{MAX_WEEKS}, got {weeks_text!r}"
            return self._error(400, "bad_weeks", problem)
        ledger = self._closed_ledger(member_id)
        if not isinstance(ledger, MemberLedger):
            return ledger  # the 400 or 404 answer
        return self._json(history_document(member_id, ledger.history, weeks))

    def _closed_ledger(self, member_id: str) -> MemberLedger | web.Response:
        """The member's ledger if it has closed a day, else the 400 or 404 answer."""
        checked = member_id_check("member_id", member_id)  # the event contract's rule: 1-64 characters
        if isinstance(checked, Rejected):
            return self._error(400, "bad_member_id", checked.detail)
        stored = self.members.get(member_id.encode())
        ledger = None if stored is None else decode_ledger(stored, self.timeline.dedup)
        if ledger is None or ledger.state.last_closed is None:
            return self._error(404, "not_found", f"no daily score for member {member_id!r} yet")
        return ledger

    def _json(self, document: Any) -> web.Response:
        return self.app.web.bytes(orjson.dumps(document), content_type="application/json")

    async def serve_ready(self, request: web.Request) -> web.Response:
        """GET /readyz: 200 once the worker has partitions and their tables are restored, else 503."""
        reason = None
        if self.app.rebalancing:
            reason = "rebalancing"
        elif not self.app.tables.recovery.completed.is_set():
            reason = "restoring tables"
        elif not self.app.consumer.assignment():
            reason = "no partitions assigned"
        if reason:
            return self._error(503, "not_ready", reason)
        return self.app.web.json({"ready": True})

    def _error(self, status: int, code: str, message: str, retry_after: int | None = None) -> web.Response:
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        return self.app.web.json({"error": code, "message": message}, status=status, headers=headers)

    async def serve_health(self, request: web.Request) -> web.Response:
        """GET /healthz: 200 while the worker process runs and its web server answers."""
        return self.app.web.text("ok\n")

    async def _forget_caches(self, *args: Any, **kwargs: Any) -> None:
        """After a rebalance, state may have moved: read it again from the tables."""
        self._clock_cache.clear()
        self._event_guards.clear()
        self._effect_guards.clear()
        self._gate_cache.clear()
        self._members_by_partition.clear()
        self._idle_sent.clear()
        self._announced.clear()
        self._last_input.clear()
        self._processed.clear()
        self._absorbed.clear()


def _clock_key(source: int) -> bytes:
    return f"source:{source}".encode()


def _gate_key(target: int) -> bytes:
    return f"gate:{target}".encode()


def _share_key(target: int, day: int, source: int, part: int) -> bytes:
    """Where a target keeps a day share part it received, until the day is ranked."""
    return f"share:{target}:{day}:{source}:{part}".encode()


def _distribution_key(target: int, industry: str) -> bytes:
    """Where a target keeps an industry's distribution of the last day it ranked with members of it."""
    return f"distribution:{target}:{industry}".encode()


def _fail_hard(agent: str, exc: Exception) -> NoReturn:
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


def _whole_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def _position_key(partition: int) -> bytes:
    """Where a table keeps the next offset it expects from its input partition (see OffsetGuard)."""
    return f"position:{partition}".encode()
