"""The engine's input side: raw events of input partitions -> dead letters, effects per target, marks.

For each event: decode it (or dead-letter it with its reason), place it on its input partition's
event-time clock (`timeline.source_clock`), and split it into effects, each addressed to the partition
of the member it touches. After the batch, every source whose clock's mark changed (or that woke up, or
is new to this side) sends its mark to every target partition — in a second step, so that a mark never
arrives before the effects it covers are delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from datetime import datetime
from typing import Protocol

from ssi_stream.engine.messages import EffectMessage, RawEvent, Step
from ssi_stream.engine.observer import EngineObserver, NullObserver
from ssi_stream.events.dead_letter import PayloadSource, dead_letter_record
from ssi_stream.events.decode import Rejected, decode
from ssi_stream.events.limits import DEFAULT_LIMITS, DecodeLimits
from ssi_stream.events.rejection import RejectionCode
from ssi_stream.scoring.effects import effects_of
from ssi_stream.timeline.days import epoch_seconds
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.timeline.source_clock import SourceClock, SourceMark


class SourceStore(Protocol):
    """Where the clocks of input partitions persist (a changelog-backed table in the stream)."""

    def clock(self, source: int) -> bytes | None: ...
    def put_clock(self, source: int, clock: bytes) -> None: ...


class MemorySourceStore:
    """Clocks in a dict: replay, tests."""

    def __init__(self) -> None:
        self.clocks: dict[int, bytes] = {}

    def clock(self, source: int) -> bytes | None:
        return self.clocks.get(source)

    def put_clock(self, source: int, clock: bytes) -> None:
        self.clocks[source] = clock


class SourceSide:
    """Decode and place the events of the input partitions one driver holds."""

    def __init__(
        self,
        timeline: TimelineSettings,
        store: SourceStore,
        *,
        limits: DecodeLimits = DEFAULT_LIMITS,
        observer: EngineObserver | None = None,
        origin_name: str | None = None,
    ) -> None:
        """`origin_name` names where raw events come from in dead letters: a topic, or a file (replay)."""
        self.timeline = timeline
        self.partitions = timeline.partitions
        self.store = store
        self.limits = limits
        self.observer = observer or NullObserver()
        self.origin_name = origin_name
        self._clocks: dict[int, SourceClock] = {}
        self._next_offset: dict[int, int] = {}
        self._idle: set[int] = set()  # sources whose last mark said idle
        self._announced: set[int] = set()  # sources that sent a mark since this side started
        #: Each member's partition, hashed once (murmur2 in Python costs ~1.8 µs).
        self._partition_of: MutableMapping[str, int] = {}

    def place(self, batch: Sequence[RawEvent], now: datetime) -> Iterator[Step]:
        """Decode and place `batch` (in the order of each source partition); yield the step that sends the
        dead letters and effects, then the step that sends the marks due. `now` bounds future timestamps."""
        effects = Step()
        last_offset: dict[int, int] = {}
        marks_due: set[int] = set()
        observer = self.observer
        for raw in batch:
            decoded = decode(raw.value, now=now, limits=self.limits)
            if isinstance(decoded, Rejected):
                self._reject(effects, raw, decoded, now)
                continue
            if raw.source is None:  # replay: placed by its member id, as a producer keyed by it would
                source = self.partition_of(decoded.member_id)
            else:
                source = raw.source
                wrong = _wrong_key(raw.key, decoded.member_id)
                if wrong is not None:  # its partition says nothing about its member: replay cannot agree
                    self._reject(effects, raw, wrong, now)
                    continue
                if self.partition_of(decoded.member_id) != source:
                    observer.event_misrouted()
            offset = raw.offset
            if offset is None:
                offset = self._next_offset.get(source, 0)
                self._next_offset[source] = offset + 1
            last_offset[source] = offset
            clock = self._clock(source)
            placement, mark_changed = clock.place(epoch_seconds(decoded.occurred_at), offset)
            lag = (now - decoded.occurred_at).total_seconds()
            observer.event_placed(decoded.type, late=placement.late, lag_seconds=lag)
            for effect in effects_of(decoded):
                target = self.partition_of(effect.member_id)
                effects.to_targets.append((target, EffectMessage(effect, placement, raw.line)))
            if mark_changed or source in self._idle or source not in self._announced:
                marks_due.add(source)
        # The mark is taken before the clock is saved: the clock records the newest mark it sent, and an
        # idle mark sent after a restart must not be older than it (a target ignores older marks).
        marks = [self._clock(s).mark(s, last_offset[s]) for s in sorted(marks_due)]
        for mark in marks:
            self.store.put_clock(mark.source, self._clocks[mark.source].to_bytes())
            self._idle.discard(mark.source)
            self._announced.add(mark.source)
        yield effects
        if marks:
            yield self._broadcast(marks)

    def idle_mark(self, source: int) -> Step | None:
        """The step that tells every target `source` is idle (None if its last mark said so already)."""
        if source in self._idle:
            return None
        clock = self._clock(source)
        self._idle.add(source)
        self._announced.add(source)
        return self._broadcast([clock.mark(source, clock.mark_offset, idle=True)])

    def resume(self, sources: Iterable[int]) -> Step | None:
        """The step that tells every target `sources` are read again, to send before any of their events
        when a reader starts on them (a start, a restart, a rebalance). Targets keep a source's idle mark
        across its reader's restart; without this, events that waited while nobody read them (a worker
        down, a takeover) would count late once another source ran past their days."""
        marks = []
        for source in sorted(sources):
            clock = self._clock(source)
            marks.append(clock.mark(source, clock.mark_offset))
            self._idle.discard(source)
            self._announced.add(source)
        return self._broadcast(marks) if marks else None

    def is_idle(self, source: int) -> bool:
        return source in self._idle

    def partition_of(self, member_id: str) -> int:
        """The partition `member_id` lives on (Kafka's default partitioner on the member id)."""
        partition = self._partition_of.get(member_id)
        if partition is None:
            partition = self._partition_of[member_id] = partition_for(member_id, self.partitions)
        return partition

    def _broadcast(self, marks: list[SourceMark]) -> Step:
        return Step(to_targets=[(target, mark) for mark in marks for target in range(self.partitions)])

    def _clock(self, source: int) -> SourceClock:
        clock = self._clocks.get(source)
        if clock is None:
            stored = self.store.clock(source)
            grace = self.timeline.grace_seconds
            clock = SourceClock.from_bytes(stored) if stored else SourceClock(grace)
            self._clocks[source] = clock
        return clock

    def _reject(self, step: Step, raw: RawEvent, rejection: Rejected, now: datetime) -> None:
        """Dead-letter `raw` as it came: its value (up to the size limit), key and headers."""
        payload = b"" if raw.value is None else raw.value
        self.observer.event_rejected(rejection.code, payload)
        record = dead_letter_record(
            payload,
            rejection,
            source=self._origin(raw),
            rejected_at=now,
            key=raw.key,
            headers=raw.headers or (),
            limit=self.limits.max_bytes,
        )
        step.dead_letters.append((raw.key, record))
        self.observer.dead_lettered()

    def _origin(self, raw: RawEvent) -> PayloadSource:
        if raw.line is not None:
            return PayloadSource.file_line(raw.line, self.origin_name)
        return PayloadSource.kafka(self.origin_name or "", raw.source or 0, raw.offset or 0)


def _wrong_key(key: bytes | None, member_id: str) -> Rejected | None:
    """The rejection of a Kafka record whose key is not its event's member_id (None when it is)."""
    if key is None:
        detail = f"the record has no key: key every event by its member_id ({member_id!r})"
    elif key != member_id.encode():
        shown = key.decode("utf-8", "replace")[:80]
        detail = (
            f"the record's key {shown!r} is not its member_id {member_id!r}: key every event by its member_id"
        )
    else:
        return None
    return Rejected(RejectionCode.WRONG_KEY, None, detail)
