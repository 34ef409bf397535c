"""A worker's Prometheus metrics: the metric objects and the small calls the Faust shell makes.

Pure prometheus-client (no Faust): `stream/topology.py` calls these methods and serves
`exposition(registry)` at `GET /metrics`. Every label takes its values from a fixed, finite set (event
types, rejection codes, pillars, stages, partitions); a value outside its set is mapped to `unknown` or
dropped, never passed through, so no input can grow the number of series. docs/operations.md lists every
metric and how to use it.
"""

from __future__ import annotations

import platform
import time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder

from ssi_stream.events.rejection import RejectionCode
from ssi_stream.events.types import EVENT_TYPES
from ssi_stream.ledger.recent_ids import DEDUP_IDS
from ssi_stream.ranking.connections import BACKLOG, CHANGES_PER_DAY, CONNECTIONS
from ssi_stream.scoring.model import PILLAR_MAX, PILLARS
from ssi_stream.timeline.days import SECONDS_PER_DAY

#: `type` label values: every event type, and `unknown` for payloads whose type cannot be read.
EVENT_TYPE_LABELS: tuple[str, ...] = (*EVENT_TYPES, "unknown")
#: `ssi_events_consumed_total` outcomes, as the ingest sees them (duplicates are found per effect, later).
EVENT_OUTCOMES: tuple[str, ...] = ("accepted", "late", "rejected")
#: `ssi_effects_absorbed_total` outcomes.
EFFECT_OUTCOMES: tuple[str, ...] = ("counted", "late", "duplicate")
STAGES: tuple[str, ...] = ("place", "absorb")
#: `ssi_ledger_reads_total` sources.
LEDGER_READ_SOURCES: tuple[str, ...] = ("cache", "table")
ALERT_KINDS: tuple[str, ...] = ("below_threshold", "weekly_drop", "recovered")
#: `ssi_quarantined_total` problems: not readable, not signed with the internal key, or for a member whose
#: stored ledger cannot be read.
QUARANTINE_PROBLEMS: tuple[str, ...] = ("unreadable", "forged", "unreadable_state")

Stage = Literal["place", "absorb"]

#: Event time -> processed: seconds up to 30 days (replays and backfills are days behind).
LAG_BUCKETS = (
    1,
    5,
    15,
    30,
    60,
    120,
    300,
    600,
    1800,
    3600,
    7200,
    21600,
    43200,
    86400,
    172800,
    604800,
    2592000,
)
#: One message: from tens of microseconds to a whole day close triggered by a mark.
PROCESSING_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip
CLOSE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
SCORE_BUCKETS = tuple(float(points) for points in range(0, 101, 10))
PILLAR_BUCKETS = tuple(PILLAR_MAX * step / 10 for step in range(11))

#: Rejections that happen before a payload's `type` can be read.
_TYPELESS = frozenset(
    {
        RejectionCode.TOO_LARGE,
        RejectionCode.INVALID_UTF8,
        RejectionCode.NOT_JSON,
        RejectionCode.NULL_VALUE,
        RejectionCode.TOO_DEEP,
        RejectionCode.NOT_OBJECT,
        RejectionCode.UNKNOWN_TYPE,
        RejectionCode.SCHEMA_REGISTRY_FRAMED,
        RejectionCode.UNKNOWN_SCHEMA_ID,
    }
)


#: The caps `ssi_capped_total` counts (docs/ranking.md, "Limits").
CAPS = (CHANGES_PER_DAY, BACKLOG, CONNECTIONS, DEDUP_IDS)


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """What `ssi_build_info` reports: the versions of ssi-stream, Python and Faust."""

    version: str
    python: str
    faust: str

    @classmethod
    def current(cls) -> BuildInfo:
        """This process's versions, read from package metadata (Faust is not imported)."""
        return cls(
            _package_version("ssi-stream"), platform.python_version(), _package_version("faust-streaming")
        )


class PendingCounts:
    """Counter increments and histogram observations of the hot path, gathered in plain Python and
    handed to their metrics at once.

    A prometheus-client `inc()` takes a lock, and an `observe()` two plus a search of the buckets; the
    worker counts every event and every effect and observes every event's lag (~10 % of its time,
    BENCHMARKS.md "Session 7"). Registered first in the registry, so every collection (a scrape,
    `get_sample_value`) applies what is pending before any metric is read; the worker also applies it
    after each batch. Observations are added per bucket (one `inc` per bucket touched) where the
    histogram has prometheus-client's layout, else observed one by one.
    """

    def __init__(self) -> None:
        self._counts: dict[Any, int] = {}
        self._observed: dict[Histogram, list[float]] = {}

    def add(self, child: Any) -> None:
        """One more for `child` (a counter, or a labelled counter's child)."""
        counts = self._counts
        counts[child] = counts.get(child, 0) + 1

    def observe(self, histogram: Histogram, value: float) -> None:
        """`histogram.observe(value)`, when the pending work is applied."""
        values = self._observed.get(histogram)
        if values is None:
            values = self._observed[histogram] = []
        values.append(value)

    def apply(self) -> None:
        counts, self._counts = self._counts, {}
        for child, count in counts.items():
            child.inc(count)
        observed, self._observed = self._observed, {}
        for histogram, values in observed.items():
            _observe_all(histogram, values)

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> list[Any]:
        self.apply()
        return []


def _observe_all(histogram: Histogram, values: list[float]) -> None:
    """`histogram.observe(v)` for every v, with one increment per bucket touched."""
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for value in values:  # another prometheus-client layout: the public way
            histogram.observe(value)
        return
    per_bucket: dict[int, int] = {}
    for value in values:  # observe() puts a value in the first bucket whose bound is >= it
        index = bisect_left(bounds, value)
        per_bucket[index] = per_bucket.get(index, 0) + 1
    total.inc(sum(values))
    for index, count in per_bucket.items():
        buckets[index].inc(count)


class WorkerMetrics:
    """The metrics of one worker, in a registry of their own."""

    def __init__(
        self,
        model_version: str,
        *,
        build: BuildInfo | None = None,
        clock: Callable[[], float] = time.time,
        process_metrics: bool = True,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._newest_closed_day: int | None = None
        reg = self.registry
        self.pending = PendingCounts()
        reg.register(self.pending)  # first: a collection applies the pending counts before reading any
        if process_metrics:
            ProcessCollector(registry=reg)  # process_cpu_seconds_total, process_resident_memory_bytes, ...

        self.events_consumed = Counter(
            "ssi_events_consumed_total",
            "Events read from the events topic, by type and outcome (accepted, late, rejected).",
            ["type", "outcome"],
            registry=reg,
        )
        self.events_rejected = Counter(
            "ssi_events_rejected_total",
            "Events rejected by the decoder, by rejection code.",
            ["reason"],
            registry=reg,
        )
        self.dead_letters = Counter(
            "ssi_dead_letters_total", "Dead-letter records sent to the DLQ topic.", registry=reg
        )
        self.effects_absorbed = Counter(
            "ssi_effects_absorbed_total",
            "Effects read from the effects topic, by outcome (counted, late, duplicate).",
            ["outcome"],
            registry=reg,
        )
        self.event_lag = Histogram(
            "ssi_event_lag_seconds",
            "Wall clock when an event is placed minus its occurred_at (event time to processing).",
            buckets=LAG_BUCKETS,
            registry=reg,
        )
        self.processing = Histogram(
            "ssi_processing_seconds",
            "Time to process one message, by stage (place: an event, absorb: an effects-topic record, "
            "a frame); messages come in batches, each observed at its batch's mean.",
            ["stage"],
            buckets=PROCESSING_BUCKETS,
            registry=reg,
        )
        self.delivery_wait = Counter(
            "ssi_delivery_wait_seconds_total",
            "Seconds a stage waited for what it sent to be delivered (the flush before its marks, closes "
            "and positions move on); its rate is the share of the time spent waiting for the broker.",
            ["stage"],
            registry=reg,
        )
        self.backpressure = Counter(
            "ssi_backpressure_seconds_total",
            "Seconds the ingest waited before reading more input, for this worker's effects partitions "
            "to take in what it wrote.",
            registry=reg,
        )
        self.input_gaps = Counter(
            "ssi_input_gaps_total",
            "Times a worker got input past the offset its state expects: on the effects topic, offsets the "
            "reader skipped, read back; on the events topic, offsets gone from the log (retention), skipped.",
            registry=reg,
        )
        self.loop_lag = Histogram(
            "ssi_event_loop_lag_seconds",
            "How much later than asked a 50 ms sleep on the worker's event loop woke up: how long work that "
            "does not return to the loop held every event and effect behind it (stream.loop_lag).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=reg,
        )
        self.recovery_reseeks = Counter(
            "ssi_recovery_reseeks_total",
            "Changelog partitions a table recovery waited for in vain (no progress for 15 s) that the worker "
            "read again from the offset the recovery needed (stream.recovery_watch).",
            registry=reg,
        )
        self.events_misrouted = Counter(
            "ssi_events_misrouted_total",
            "Events keyed by their member_id that arrived on another partition than murmur2 of the key gives "
            "(a producer with another partitioner): scored, but replay would place them elsewhere.",
            registry=reg,
        )
        self.quarantined_records = Counter(
            "ssi_quarantined_total",
            "Internal records (effects topic) kept on the quarantine topic instead of absorbed: unreadable, "
            "not signed with the internal key (forged), or for a member whose stored state cannot be read "
            "(unreadable_state).",
            ["problem"],
            registry=reg,
        )
        self.capped_changes = Counter(
            "ssi_capped_total",
            "Things a per-member cap left out, by cap: connection changes past a member's daily cap "
            "(connection_changes_per_day) or past the ledger's bound for open days "
            "(connection_changes_backlog), connects past the connection cap (connections), ids forgotten "
            "to make room in a member's dedup set (dedup_ids).",
            ["cap"],
            registry=reg,
        )
        self._capped = {cap: self.capped_changes.labels(cap) for cap in CAPS}
        self.late_redeliveries = Counter(
            "ssi_late_redeliveries_total",
            "Effects recognised as redeliveries by the partition's redelivery filter: counted past the "
            "members' exact ids (SSI_DEDUP_HORIZON_SECONDS), within SSI_REDELIVERY_HORIZON_SECONDS.",
            registry=reg,
        )
        self.past_dedup = Counter(
            "ssi_effects_past_dedup_horizon_total",
            "Effects counted later after their own day than any dedup horizon reaches: a redelivery among "
            "them counts again.",
            registry=reg,
        )
        self.redeliveries_skipped = Counter(
            "ssi_redeliveries_skipped_total",
            "Messages skipped because the worker's state already holds them (redelivered after a restart).",
            registry=reg,
        )
        self.shares_received = Counter(
            "ssi_day_shares_received_total",
            "Day share parts (other partitions' histograms and connection scores) received for ranking.",
            registry=reg,
        )
        self.consumer_lag = Gauge(
            "ssi_consumer_lag",
            "Messages behind the high-water mark, per assigned partition of the events and effects topics.",
            ["topic", "partition"],
            registry=reg,
        )
        self.members = Gauge("ssi_members", "Members held by this worker's tables.", registry=reg)
        self.ledger_cache_members = Gauge(
            "ssi_ledger_cache_members",
            "Member ledgers held decoded in memory (at most SSI_LEDGER_CACHE_MEMBERS).",
            registry=reg,
        )
        self.ledger_reads = Counter(
            "ssi_ledger_reads_total",
            "Stored member ledgers the worker read, by where from: cache (held decoded) or table (decoded).",
            ["source"],
            registry=reg,
        )
        self._ledger_reads = {source: self.ledger_reads.labels(source) for source in LEDGER_READ_SOURCES}
        self.daily_close = Histogram(
            "ssi_daily_close_seconds",
            "Time spent closing and ranking one day for one partition (every member's daily record), "
            "not counting the wait for other partitions' shares.",
            buckets=CLOSE_BUCKETS,
            registry=reg,
        )
        self.daily_close_records = Counter(
            "ssi_daily_close_records_total", "Daily score records emitted by day closes.", registry=reg
        )
        self.last_daily_close = Gauge(
            "ssi_last_daily_close_timestamp_seconds",
            "Wall clock (Unix seconds) when this worker last closed a day.",
            registry=reg,
        )
        self.closed_day = Gauge(
            "ssi_closed_day_timestamp_seconds",
            "Midnight UTC (Unix seconds) of the newest day this worker has closed.",
            registry=reg,
        )
        self.score = Histogram(
            "ssi_score", "SSI (0-100) of every daily record emitted.", buckets=SCORE_BUCKETS, registry=reg
        )
        self.pillar_score = Histogram(
            "ssi_pillar_score",
            "Pillar points (0-25) of every daily record emitted, by pillar.",
            ["pillar"],
            buckets=PILLAR_BUCKETS,
            registry=reg,
        )
        self.alerts_emitted = Counter(
            "ssi_alerts_emitted_total", "Score alerts emitted, by kind.", ["kind"], registry=reg
        )
        self.model_info = Gauge(
            "ssi_model_info", "Always 1; the scoring model version in use.", ["version"], registry=reg
        )
        self.build_info = Gauge(
            "ssi_build_info",
            "Always 1; versions of ssi-stream, Python and Faust.",
            ["version", "python", "faust"],
            registry=reg,
        )

        # Children are created once, so every series exists from the start (at 0) and the hot path
        # does a dict lookup instead of a label resolution.
        self._consumed = {
            (kind, outcome): self.events_consumed.labels(kind, outcome)
            for kind in EVENT_TYPE_LABELS
            for outcome in EVENT_OUTCOMES
        }
        self._rejected = {code: self.events_rejected.labels(code.value) for code in RejectionCode}
        self._absorbed = {outcome: self.effects_absorbed.labels(outcome) for outcome in EFFECT_OUTCOMES}
        self._processing = {stage: self.processing.labels(stage) for stage in STAGES}
        self._delivery_wait = {stage: self.delivery_wait.labels(stage) for stage in STAGES}
        self._pillars = {pillar: self.pillar_score.labels(pillar) for pillar in PILLARS}
        self._alerts = {kind: self.alerts_emitted.labels(kind) for kind in ALERT_KINDS}
        # at 0 from the start: `increase()` in the SsiRecordsQuarantined alert sees a series born at 1 as 0
        self._quarantined = {
            problem: self.quarantined_records.labels(problem) for problem in QUARANTINE_PROBLEMS
        }
        self.model_info.labels(model_version).set(1)
        build = build or BuildInfo.current()
        self.build_info.labels(build.version, build.python, build.faust).set(1)

    # -- the ingest (events) ------------------------------------------------------------------
    def event_placed(self, event_type: str, *, late: bool, lag_seconds: float) -> None:
        """An event was decoded and placed (late: its own day was already complete at its partition)."""
        kind = event_type if event_type in EVENT_TYPES else "unknown"
        self.pending.add(self._consumed[kind, "late" if late else "accepted"])
        self.pending.observe(self.event_lag, max(0.0, lag_seconds))  # clock skew: occurred_at ahead of us

    def event_rejected(self, code: RejectionCode, payload: bytes) -> None:
        """An event failed the contract; counted by its type when the payload shows a known one."""
        self._consumed[rejected_type(code, payload), "rejected"].inc()
        self._rejected[code].inc()

    def dead_lettered(self) -> None:
        """A dead-letter record was sent."""
        self.dead_letters.inc()

    # -- the absorber (effects) -----------------------------------------------------------------
    def effect_absorbed(self, *, counted: bool, late: bool, origin: int | None = None) -> None:
        """An effect reached its member: counted (on time or late) or skipped as already absorbed."""
        outcome = "duplicate" if not counted else "late" if late else "counted"
        self.pending.add(self._absorbed[outcome])

    def day_closed(self, day: int, *, records: int, seconds: float) -> None:
        """One partition closed `day` (days since the epoch), emitting `records` daily records."""
        self.daily_close.observe(seconds)
        self.daily_close_records.inc(records)
        self.last_daily_close.set(self._clock())
        if self._newest_closed_day is None or day > self._newest_closed_day:  # partitions close apart
            self._newest_closed_day = day
            self.closed_day.set(day * SECONDS_PER_DAY)

    def score_emitted(self, record: Mapping[str, Any]) -> None:
        """A daily score record was emitted: observe its SSI and pillars (pending: a close emits 1,000s)."""
        observe = self.pending.observe
        observe(self.score, record["ssi"])
        for pillar, points in record["pillars"].items():
            child = self._pillars.get(pillar)
            if child is not None:
                observe(child, points)

    def share_received(self) -> None:
        """A day share part arrived from a partition (for the day's ranks)."""
        self.shares_received.inc()

    def alert_emitted(self, kind: str) -> None:
        """A score alert was emitted."""
        self._alerts[kind].inc()

    # -- both stages and the timer ----------------------------------------------------------------
    def processed(self, stage: Stage, seconds: float, messages: int = 1) -> None:
        """A batch of `messages` took `seconds` in `stage` (its counts are applied now)."""
        self.pending.apply()
        if messages > 0:
            self._processing[stage].observe(seconds / messages)

    def delivery_waited(self, stage: Stage, seconds: float) -> None:
        """`stage` waited `seconds` for its sends to be delivered."""
        self._delivery_wait[stage].inc(seconds)

    def backpressure_waited(self, seconds: float) -> None:
        """The ingest waited `seconds` for the effects partitions to catch up."""
        self.backpressure.inc(seconds)

    def event_misrouted(self) -> None:
        """An event arrived on another partition than its member id hashes to (murmur2)."""
        self.events_misrouted.inc()

    def quarantined(self, problem: str) -> None:
        """An internal record was quarantined: "unreadable", "forged" or "unreadable_state"."""
        self._quarantined[problem].inc()

    def capped(self, cap: str) -> None:
        """A cap left something out (`ranking.connections`, `ledger.recent_ids`)."""
        child = self._capped.get(cap)
        if child is not None:
            child.inc()

    def late_redelivery(self) -> None:
        """The redelivery filter recognised an effect counted past the exact ids' horizon."""
        self.late_redeliveries.inc()

    def past_dedup_horizon(self) -> None:
        """An effect was counted past every dedup horizon (unchecked)."""
        self.past_dedup.inc()

    def redelivery_skipped(self) -> None:
        """A message the state already held was delivered again and skipped."""
        self.redeliveries_skipped.inc()

    def input_gap(self) -> None:
        """The worker found input past the offset its state expects (read back, or gone from the log)."""
        self.input_gaps.inc()

    def loop_lagged(self, seconds: float) -> None:
        """The event loop woke a timed sleep `seconds` late."""
        self.loop_lag.observe(seconds)

    def recovery_reseeked(self, partitions: int) -> None:
        """The recovery watch read `partitions` stalled changelog partitions again."""
        self.recovery_reseeks.inc(partitions)

    def set_consumer_lag(self, lags: Mapping[tuple[str, int], int]) -> None:
        """Replace the lag series with `lags`, by (topic, partition) assigned to this worker now."""
        self.consumer_lag.clear()  # partitions revoked since the last call disappear
        for (topic, partition), lag in lags.items():
            self.consumer_lag.labels(topic, str(partition)).set(max(0, lag))

    def set_members(self, count: int) -> None:
        self.members.set(count)

    def ledger_cache(self, held: int, *, hits: int, decoded: int) -> None:
        """The ledger cache holds `held` ledgers; `hits` reads came from it and `decoded` from the table
        since the last call."""
        self.ledger_cache_members.set(held)
        self._ledger_reads["cache"].inc(hits)
        self._ledger_reads["table"].inc(decoded)


def rejected_type(code: RejectionCode, payload: bytes) -> str:
    """The `type` label of a rejected payload: its declared type if it is a known one, else `unknown`."""
    if code in _TYPELESS:
        return "unknown"
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return "unknown"
    declared = document.get("type") if isinstance(document, dict) else None
    return declared if isinstance(declared, str) and declared in EVENT_TYPES else "unknown"


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper's Accept header asks for, and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
