"""The engine's scoring side: one effects partition's effects, marks and day shares -> ranked records.

Effects are absorbed into their members' ledgers (a redelivered one is skipped: `ledger.member_ledger`).
Marks tell the close gate (`timeline.close_gate`) which days every source finished; day shares from every
partition carry what ranks need. A day closes in two steps (docs/ranking.md): close every member's day
and share the partition's day with every partition; once every partition's share is in, emit the day's
records with their ranks, then its alerts. Each step ends with a barrier, and only after it does the gate
record the step: after a crash the step is done again from the stored state, identically.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ssi_stream.engine.day_close import close_states, concat_scores, score_states
from ssi_stream.engine.messages import EffectMessage, Step, TargetMessage
from ssi_stream.engine.observer import EngineObserver, NullObserver
from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    UnreadableLedger,
    absorb_effect,
    acted_on,
    emission_reference,
    finish_close,
    member_day,
    needs_close,
    new_ledger,
    rank_member,
)
from ssi_stream.ledger.recent_ids import id_hash
from ssi_stream.ledger.redelivery_filter import DayFilter, filter_digest, size_for
from ssi_stream.ranking.distribution import distribution_document
from ssi_stream.ranking.exchange import DayBoard, DayShare, DayShareBuilder, ShareConflict, stand_in
from ssi_stream.scoring.columnar import ColumnarScores
from ssi_stream.scoring.effects import effect_from_wire, encode_effect
from ssi_stream.scoring.model import Model
from ssi_stream.scoring.pillars import Signals
from ssi_stream.scoring.scored_day import from_columns
from ssi_stream.timeline.close_gate import CloseGate, Receipt
from ssi_stream.timeline.days import day_of, day_start, iso_date
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.timeline.source_clock import Placement, SourceMark

log = logging.getLogger(__name__)


class TargetStore(Protocol):
    """One effects partition's durable state: member ledgers, its close gate, held shares, distributions."""

    def ledger(self, member_id: str) -> MemberLedger | None: ...
    def put_ledger(self, member_id: str, ledger: MemberLedger) -> None: ...
    def member_ids(self) -> Iterable[str]: ...
    def gate(self) -> bytes | None: ...
    def put_gate(self, gate: bytes) -> None: ...
    def share(self, day: int, source: int, part: int) -> DayShare: ...
    def put_share(self, share: DayShare) -> None: ...
    def drop_share(self, day: int, source: int, part: int) -> None: ...
    def put_distribution(self, industry: str, document: dict[str, Any]) -> None: ...
    def filter_chunks(self, day: int) -> list[bytes] | None: ...
    def put_filter_chunk(self, day: int, index: int, chunks: int, chunk: bytes) -> None: ...
    def drop_filter(self, day: int) -> None: ...
    def deferred(self, day: int) -> list[bytes]: ...
    def put_deferred(self, day: int, index: int, chunk: bytes) -> None: ...
    def drop_deferred(self, day: int) -> None: ...


#: Effects per stored chunk of a day's deferred effects (`TargetSide`, "Late redeliveries").
DEFERRED_CHUNK = 256
#: A day's close and its rank yield a step every this many members (10-20 ms each): a driver that
#: shares its thread with other work (the worker's event loop) gets control back that often, not once
#: per partition's whole day (≈ 100-200 µs per member-day, BENCHMARKS.md). An event read while days
#: close waits for a step at each of the few turns of the loop its fetch, effects and flushes take:
#: at 500 members (~100 ms a step) that was a p99 of ~1 s (BENCHMARKS.md, "Session 15"). A crash
#: between two such steps closes or ranks the day again, as after the last one.
MEMBERS_PER_STEP = 100
#: ... and adding exact ids to a redelivery filter, every this many ids.
FILTER_DIGESTS_PER_STEP = 20_000


class MemoryTargetStore:
    """A partition's state in dicts, ledgers as objects: replay, tests."""

    def __init__(self) -> None:
        self.ledgers: dict[str, MemberLedger] = {}
        self.gate_bytes: bytes | None = None
        self.shares: dict[tuple[int, int, int], DayShare] = {}
        self.distributions: dict[str, dict[str, Any]] = {}
        #: day -> the redelivery filter's chunks; day -> the chunks of the effects deferred to it
        self.filters: dict[int, list[bytes]] = {}
        self.deferrals: dict[int, list[bytes]] = {}

    def ledger(self, member_id: str) -> MemberLedger | None:
        return self.ledgers.get(member_id)

    def put_ledger(self, member_id: str, ledger: MemberLedger) -> None:
        self.ledgers[member_id] = ledger

    def member_ids(self) -> Iterable[str]:
        return self.ledgers.keys()

    def gate(self) -> bytes | None:
        return self.gate_bytes

    def put_gate(self, gate: bytes) -> None:
        self.gate_bytes = gate

    def share(self, day: int, source: int, part: int) -> DayShare:
        return self.shares[day, source, part]

    def put_share(self, share: DayShare) -> None:
        self.shares[share.day, share.source, share.part] = share

    def drop_share(self, day: int, source: int, part: int) -> None:
        self.shares.pop((day, source, part), None)

    def put_distribution(self, industry: str, document: dict[str, Any]) -> None:
        self.distributions[industry] = document

    def filter_chunks(self, day: int) -> list[bytes] | None:
        chunks = self.filters.get(day)
        return None if chunks is None else list(chunks)

    def put_filter_chunk(self, day: int, index: int, chunks: int, chunk: bytes) -> None:
        held = self.filters.setdefault(day, [bytes(len(chunk))] * chunks)
        held[index] = chunk

    def drop_filter(self, day: int) -> None:
        self.filters.pop(day, None)

    def deferred(self, day: int) -> list[bytes]:
        return list(self.deferrals.get(day, ()))

    def put_deferred(self, day: int, index: int, chunk: bytes) -> None:
        held = self.deferrals.setdefault(day, [])
        held[index:] = [chunk]

    def drop_deferred(self, day: int) -> None:
        self.deferrals.pop(day, None)


@dataclass(frozen=True, slots=True)
class _DayScores:
    """A close's scores, kept for its rank step: the day, each member's row, the scores."""

    day: int
    rows: dict[str, int]
    scores: ColumnarScores


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a day closes or ranks: the loop allocates a record,
    a ranks object and their dicts per member, and with a partition's ledgers alive every collection
    walks them all again (a third of the rank step at 20k members, BENCHMARKS.md). Nothing it allocates
    forms a cycle, so reference counting frees it all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class TargetSide:
    """Absorb, close and rank for one effects partition, over its store."""

    def __init__(
        self,
        target: int,
        model: Model,
        timeline: TimelineSettings,
        store: TargetStore,
        *,
        observer: EngineObserver | None = None,
    ) -> None:
        self.target = target
        self.model = model
        self.timeline = timeline
        self.partitions = timeline.partitions
        self.store = store
        self.observer = observer or NullObserver()
        stored = store.gate()
        self.gate = CloseGate.from_bytes(stored) if stored else CloseGate(expected_sources=self.partitions)
        self._members: set[str] | None = None
        self._pending = Step()  # what this side sent since its last barrier
        self._dirty: dict[str, MemberLedger] = {}  # ledgers changed since they were last stored
        self._close_started: float | None = None
        self._scores: _DayScores | None = None  # the last close's scores, until its rank
        #: Members whose stored ledger cannot be read (`UnreadableLedger`): left out, their effects kept.
        self.unreadable: set[str] = set()
        self._filters: dict[int, DayFilter | None] = {}  # own day -> its redelivery filter, as loaded
        self._deferred: dict[int, list[EffectMessage]] = {}  # day -> effects deferred to its close
        self._deferred_stored: dict[int, int] = {}  # day -> how many of them are stored

    def take(self, batch: Sequence[TargetMessage], *, store: bool = True) -> Iterator[Step]:
        """Absorb `batch` in order, closing and ranking the days it allows; yield at each barrier.

        What the batch itself leaves to send (and its stored ledgers and gate) is in `drain()`: the driver
        delivers it, possibly together with other partitions' batches, before it moves its input position.
        With `store=False` the ledgers the batch changed after its last barrier stay in memory (and are
        what this side reads) until `store_state()`: a driver that moves its input position only after
        `store_state()` writes each busy member's ledger once per several batches, not once per batch.
        """
        for message in batch:
            if isinstance(message, EffectMessage):
                self._absorb(message)
            elif isinstance(message, SourceMark):
                self.gate.observe(message)
                yield from self._advance()
            else:
                self._receive(message)
                # even for a share skipped as held: a crash may have come between its day's rank and the
                # next close, and this share may be the only message left to drive them
                yield from self._advance()
        if store:
            self.store_state()

    def store_state(self) -> None:
        """Write what `take` changed since its last barrier (ledgers, deferred effects, the gate) to the
        store; the driver may move its input position once these writes are delivered."""
        self._store_ledgers()
        self.store.put_gate(self.gate.to_bytes())

    def drain(self) -> Step:
        """What is still to send (the last step of a batch); the driver delivers it before its positions."""
        step, self._pending = self._pending, Step()
        return step

    def member_count(self) -> int:
        return len(self._member_set())

    def _absorb(self, message: EffectMessage) -> None:
        effect, placement = message.effect, message.placement
        day = self.gate.count_day(placement.day)
        member_id = effect.member_id
        ledger = self._dirty.get(member_id) or self._readable_ledger(member_id)
        if ledger is None:  # its stored state cannot be read: keep the effect aside, whole
            reason = f"the stored ledger of member {member_id!r} cannot be read"
            self._pending.quarantine.append((reason, message))
            self.observer.quarantined("unreadable_state")
            return
        late = placement.late or day != placement.day
        policy = self.timeline.dedup
        check = policy.check_for(day - day_of(effect.occurred_at))
        if check == "filter":  # decided when `day` closes, against the filter (see _decide_deferred)
            self._deferred_list(day).append(EffectMessage(effect, Placement(day, True)))
            self.observer.effect_absorbed(counted=True, late=True, origin=message.origin)
            return
        if check is None:
            self.observer.past_dedup_horizon()
        counted = absorb_effect(
            ledger,
            effect,
            day,
            late=late,
            model=self.model,
            policy=policy,
            links=self.timeline.links,
            on_capped=self.observer.capped,
        )
        if counted:
            self._dirty[member_id] = ledger
            self._member_set().add(member_id)
        self.observer.effect_absorbed(counted=counted, late=late, origin=message.origin)

    def _receive(self, share: DayShare) -> None:
        self.observer.share_received()
        try:
            receipt = self.gate.receive(share)
        except ShareConflict as exc:  # not expected: shares sent again are the same (see exchange)
            log.error("partition %d: day share skipped: %s", self.target, exc)
            receipt = Receipt.SKIP
        if receipt is Receipt.STORE:
            self.store.put_share(share)
        elif receipt is Receipt.ANSWER:
            self._stand_ins([share.day])

    def _advance(self) -> Iterator[Step]:
        """Rank the closed day once every partition's share is in, and close the next days the marks allow
        (one at a time: a day closes only once the one before it is ranked)."""
        while (step := self.gate.next_step(self.partitions)) is not None:
            action, day = step
            self._store_ledgers()
            if action == "rank":
                yield from self._rank_day(day)
            else:
                yield from self._close_day(day)

    def _close_day(self, day: int) -> Iterator[Step]:
        """Close `day` for every member of the partition at once and share the day with every partition."""
        started = time.perf_counter()
        model, policy, store = self.model, self.timeline.dedup, self.store
        links, capped = self.timeline.links, self.observer.capped
        if policy.filtered:
            self._filter_deferred(day - 1)  # the day before's deferred effects join the filters
            self._decide_deferred(day)
        with _collector_paused():
            ledgers: dict[str, MemberLedger] = {}
            yield from self._read_ledgers(sorted(self._member_set()), ledgers.__setitem__)
            if policy.filtered:
                yield from self._filter_exact_ids(day + 1 - policy.horizon_days, ledgers)
            closing = [member_id for member_id, ledger in ledgers.items() if needs_close(ledger, day)]
            scored = []
            for start in range(0, len(closing), MEMBERS_PER_STEP):
                if start:  # a crash from here closes the day again: members stored closed skip it
                    yield self.drain()
                chunk = closing[start : start + MEMBERS_PER_STEP]
                acted = [acted_on(ledgers[member_id].state, day) for member_id in chunk]
                part = close_states([ledgers[member_id].state for member_id in chunk], day, model)
                for member_id, ssi, did in zip(chunk, part.ssi.tolist(), acted, strict=True):
                    ledger = ledgers[member_id]
                    finish_close(ledger, day, ssi, acted=did, policy=policy, links=links, on_capped=capped)
                    store.put_ledger(member_id, ledger)
                scored.append(part)
            scores = concat_scores(scored) if scored else close_states([], day, model)
            self._scores = _DayScores(day, {member_id: row for row, member_id in enumerate(closing)}, scores)
            # A member that closed the day before a crash shares its stored score again, identically.
            share = DayShareBuilder(self.target, day, self.partitions)
            for count, (member_id, ledger) in enumerate(ledgers.items(), start=1):
                if ledger.state.last_closed == day and ledger.history.get(day) is not None:
                    share.add(member_day(member_id, ledger))
                if count % MEMBERS_PER_STEP == 0:
                    yield self.drain()
        for destination in range(self.partitions):  # each target's parts sorted in a step of its own
            if destination:
                yield self.drain()
            self._pending.to_targets.extend((destination, part) for part in share.target_parts(destination))
        # days others closed before this partition's first close: it has nothing for them, it says so
        self._stand_ins(self.gate.skipped_days(day))
        if policy.filtered:
            self._store_filters()
            self._drop_filter(day - policy.filter_days)
            self._drop_deferred(day - 2)  # its ids joined the filters at the close before, durably
        # The gate may say "closed" only once the shares are delivered: after a crash the day closes
        # again (a member's repeated close changes nothing) and sends the same shares, which targets
        # that hold them already skip.
        yield self.drain()
        self.gate.closed(day)
        store.put_gate(self.gate.to_bytes())
        self._close_started = started

    def _rank_day(self, day: int) -> Iterator[Step]:
        """Emit the closed day's records (by the emission rule), with their ranks from every partition's
        share, and its alerts."""
        started = time.perf_counter()
        store, model, observer = self.store, self.model, self.observer
        board = DayBoard()
        for source, part in self.gate.shares.parts(day):
            board.add(store.share(day, source, part))
        ranked: list[tuple[str, MemberLedger]] = []

        def rank(member_id: str, ledger: MemberLedger) -> None:
            if ledger.state.last_closed == day:
                ranked.append((member_id, ledger))

        with _collector_paused():  # reading ledgers too: a collection then walks every ledger read so far
            yield from self._read_ledgers(sorted(self._member_set()), rank)
            scores, rows = self._day_scores(day, ranked)
            emitted = 0
            alert_policy, emit = self.timeline.alerts, self.timeline.emit
            for count, (member_id, ledger) in enumerate(ranked, start=1):
                if count % MEMBERS_PER_STEP == 0:  # the records so far may go: a crash ranks the day
                    yield self.drain()  # again from the shares, each record byte for byte (rank_member)
                pending = self._pending
                row = rows[member_id]
                ssi = float(scores.ssi[row])
                ranks = board.ranks(member_id, ssi, ledger.state.profile.industry)
                reference = emission_reference(ssi, scores.pillars[row].tolist(), ranks)
                record, alerts = rank_member(
                    member_id,
                    ledger,
                    model,
                    ranks,
                    ssi,
                    reference,
                    lambda row=row, state=ledger.state: from_columns(scores, row, Signals.of(state), model),
                    emit=emit,
                    alerts=alert_policy,
                )
                if record is not None:
                    pending.records.append((member_id, record))
                    observer.score_emitted(record)
                    emitted += 1
                for alert in alerts:
                    pending.alerts.append((member_id, alert))
                    observer.alert_emitted(alert["kind"])
                store.put_ledger(member_id, ledger)
        self._scores = None
        date = iso_date(day)
        for name, histogram in board.industries.items():  # one key each: bounded values, any count
            store.put_distribution(name, distribution_document(name, date, histogram))
        # The gate may say "ranked" only once every record of the day is delivered: after a crash the
        # day is ranked again from the shares it still holds, and each record is rebuilt byte for byte.
        yield self.drain()
        self.gate.ranked(day)
        store.put_gate(self.gate.to_bytes())
        yield self.drain()  # the parts go only once a gate that no longer needs them is delivered
        for held_day, source, part in self.gate.dropping:  # today's, and any a crash left behind
            store.drop_share(held_day, source, part)
        self.gate.dropping = []  # stored with the gate at the end of the batch, after the deletions
        close_started, self._close_started = self._close_started, None
        seconds = time.perf_counter() - (started if close_started is None else close_started)
        observer.day_closed(day, records=emitted, seconds=seconds)
        log.info("partition %d: day %d closed and ranked: %d score records", self.target, day, emitted)

    def _day_scores(
        self, day: int, ranked: list[tuple[str, MemberLedger]]
    ) -> tuple[ColumnarScores, dict[str, int]]:
        """The close's scores of `day` for the members to rank: kept from the close, or (after a restart
        between the close and the rank) scored again from their closed states, identically."""
        kept = self._scores
        if kept is not None and kept.day == day and all(m in kept.rows for m, _ in ranked):
            return kept.scores, kept.rows
        scores = score_states([ledger.state for _, ledger in ranked], self.model)
        return scores, {member_id: row for row, (member_id, _) in enumerate(ranked)}

    def _stand_ins(self, days: list[int]) -> None:
        """Tell every partition that this one never closed `days` (see CloseGate.receive)."""
        for day in days:
            log.info(
                "partition %d: day %d closed elsewhere before this partition's first close", self.target, day
            )
            share = stand_in(self.target, day)
            self._pending.to_targets.extend((destination, share) for destination in range(self.partitions))

    def _store_ledgers(self) -> None:
        for member_id, ledger in self._dirty.items():
            self.store.put_ledger(member_id, ledger)
        self._dirty.clear()
        for day, entries in self._deferred.items():  # the chunks with effects deferred since last time
            stored = self._deferred_stored.get(day, 0)
            if stored < len(entries):
                for index in range(stored // DEFERRED_CHUNK, -(-len(entries) // DEFERRED_CHUNK)):
                    chunk = entries[index * DEFERRED_CHUNK : (index + 1) * DEFERRED_CHUNK]
                    self.store.put_deferred(day, index, _encode_deferred(chunk))
                self._deferred_stored[day] = len(entries)

    # -- late redeliveries (docs/streaming.md): decided in event time, at the close of the day they count in
    def _deferred_list(self, day: int) -> list[EffectMessage]:
        """The effects deferred to `day`'s close (loaded from the store once)."""
        entries = self._deferred.get(day)
        if entries is None:
            entries = [
                message for chunk in self.store.deferred(day) for message in _decode_deferred(chunk, day)
            ]
            self._deferred[day] = entries
            self._deferred_stored[day] = len(entries)
        return entries

    def _decide_deferred(self, day: int) -> None:
        """Count each effect deferred to `day` unless its partition's filter of its own day holds it (a
        late redelivery), in (member, effect id) order: the filters hold what closes before this one put
        in, the same in any arrival order. A member that closed `day` before a crash took them already."""
        entries = self._deferred_list(day)
        if not entries:
            return
        policy, links, observer = self.timeline.dedup, self.timeline.links, self.observer
        decided: set[bytes] = set()
        for message in sorted(entries, key=lambda m: (m.effect.member_id, m.effect.effect_id)):
            effect = message.effect
            member_id = effect.member_id
            digest = filter_digest(member_id, id_hash(effect.effect_id))
            ledger = self._dirty.get(member_id) or self._readable_ledger(member_id)
            if ledger is None:
                self._pending.quarantine.append(
                    (f"the stored ledger of member {member_id!r} cannot be read", message)
                )
                observer.quarantined("unreadable_state")
                continue
            last_closed = ledger.state.last_closed
            if last_closed is not None and last_closed >= day:
                decided.add(digest)
                continue
            day_filter = self._filter(day_of(effect.occurred_at))
            if digest in decided or (day_filter is not None and day_filter.contains(digest)):
                observer.late_redelivery()
                continue
            decided.add(digest)
            absorb_effect(
                ledger,
                effect,
                day,
                late=True,
                model=self.model,
                policy=policy,
                links=links,
                on_capped=observer.capped,
            )
            self._dirty[member_id] = ledger
            self._member_set().add(member_id)
        self._store_ledgers()

    def _filter_deferred(self, day: int) -> None:
        """Add the ids of the effects deferred to `day` to their own days' filters (done again after a
        crash: a filter's bits are the same whatever is added twice)."""
        by_day: dict[int, list[bytes]] = {}
        for message in self._deferred_list(day):
            effect = message.effect
            digest = filter_digest(effect.member_id, id_hash(effect.effect_id))
            by_day.setdefault(day_of(effect.occurred_at), []).append(digest)
        for own_day, digests in by_day.items():
            self._filter(own_day, create=len(digests)).add(digests)  # type: ignore[union-attr]

    def _read_ledgers(
        self, member_ids: list[str], take: Callable[[str, MemberLedger], None]
    ) -> Iterator[Step]:
        """`take` each readable ledger of `member_ids`, in order, yielding a step every MEMBERS_PER_STEP
        members (reading may decode each from the store)."""
        for start in range(0, len(member_ids), MEMBERS_PER_STEP):
            if start:
                yield self.drain()
            for member_id in member_ids[start : start + MEMBERS_PER_STEP]:
                ledger = self._readable_ledger(member_id)
                if ledger is not None:
                    take(member_id, ledger)

    def _filter_exact_ids(self, own_day: int, ledgers: dict[str, MemberLedger]) -> Iterator[Step]:
        """Add every member's ids of `own_day` to its filter, at the last close that holds them all (the
        close after forgets them); its size is made for them. Yields a step every MEMBERS_PER_STEP
        members (nothing is stored until the caller stores the filters)."""
        start, end = day_start(own_day), day_start(own_day + 1)
        members = list(ledgers.items())
        digests: list[bytes] = []
        for first in range(0, len(members), MEMBERS_PER_STEP):
            if first:
                yield self.drain()
            digests += [
                filter_digest(member_id, held)
                for member_id, ledger in members[first : first + MEMBERS_PER_STEP]
                for held in ledger.seen.hashes_between(start, end)
            ]
        if not digests:
            return
        day_filter = self._filter(own_day, create=len(digests))
        assert day_filter is not None
        for first in range(0, len(digests), FILTER_DIGESTS_PER_STEP):
            if first:
                yield self.drain()
            day_filter.add(digests[first : first + FILTER_DIGESTS_PER_STEP])

    def _filter(self, own_day: int, *, create: int = 0) -> DayFilter | None:
        """The partition's filter of `own_day` (made for `create` ids when it has none and that is > 0)."""
        if own_day not in self._filters:
            chunks = self.store.filter_chunks(own_day)
            self._filters[own_day] = None if chunks is None else DayFilter.from_chunks(chunks)
        day_filter = self._filters[own_day]
        if day_filter is None and create:
            day_filter = self._filters[own_day] = DayFilter.empty(size_for(create))
            day_filter.dirty.update(range(day_filter.chunks))
        return day_filter

    def _store_filters(self) -> None:
        """Write the chunks a close changed, and let the filters go: the store holds them (RocksDB, on
        disk), and the next close reads the few it needs."""
        for own_day, day_filter in self._filters.items():
            if day_filter is not None and day_filter.dirty:
                for index in sorted(day_filter.dirty):
                    self.store.put_filter_chunk(own_day, index, day_filter.chunks, day_filter.chunk(index))
                day_filter.dirty.clear()
        self._filters.clear()

    def _drop_filter(self, own_day: int) -> None:
        self._filters.pop(own_day, None)
        self.store.drop_filter(own_day)

    def _drop_deferred(self, day: int) -> None:
        if self._deferred.pop(day, None) is not None or day in self._deferred_stored:
            self._deferred_stored.pop(day, None)
        self.store.drop_deferred(day)

    def _ledger(self, member_id: str) -> MemberLedger:
        ledger = self.store.ledger(member_id)
        return new_ledger(self.timeline.dedup) if ledger is None else ledger

    def _readable_ledger(self, member_id: str) -> MemberLedger | None:
        """The member's ledger, or None (reported once) when its stored bytes cannot be read: the member
        is left out of closes and ranks, everybody else is scored (docs/streaming.md)."""
        if member_id in self.unreadable:
            return None
        try:
            return self._ledger(member_id)
        except UnreadableLedger as exc:
            self.unreadable.add(member_id)
            log.error("partition %d: %s; the member is left out until it is repaired", self.target, exc)
            return None

    def _member_set(self) -> set[str]:
        if self._members is None:
            self._members = set(self.store.member_ids())
        return self._members


def _encode_deferred(messages: Sequence[EffectMessage]) -> bytes:
    return b"[" + b",".join(encode_effect(message.effect) for message in messages) + b"]"


def _decode_deferred(chunk: bytes, day: int) -> list[EffectMessage]:
    return [EffectMessage(effect_from_wire(wire), Placement(day, True)) for wire in orjson.loads(chunk)]
