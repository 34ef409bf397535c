"""The worker's metrics: the names dashboards use, Prometheus conventions, bounded labels, moving samples."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from ssi_stream.events.rejection import RejectionCode
from ssi_stream.events.types import EVENT_TYPES
from ssi_stream.ops.metrics import (
    ALERT_KINDS,
    CAPS,
    EFFECT_OUTCOMES,
    EVENT_OUTCOMES,
    EVENT_TYPE_LABELS,
    STAGES,
    BuildInfo,
    WorkerMetrics,
    exposition,
    rejected_type,
)
from ssi_stream.scoring.model import PILLARS

BUILD = BuildInfo(version="0.1.0", python="3.11.7", faust="0.15.3")
NOW = 1_750_000_000.0

#: The contract with the dashboards and alert rules: name -> (type, label names). Renaming breaks them.
DASHBOARD_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ssi_events_consumed_total": ("counter", ("type", "outcome")),
    "ssi_events_rejected_total": ("counter", ("reason",)),
    "ssi_dead_letters_total": ("counter", ()),
    "ssi_effects_absorbed_total": ("counter", ("outcome",)),
    "ssi_event_lag_seconds": ("histogram", ()),
    "ssi_processing_seconds": ("histogram", ("stage",)),
    "ssi_delivery_wait_seconds_total": ("counter", ("stage",)),
    "ssi_backpressure_seconds_total": ("counter", ()),
    "ssi_ledger_cache_members": ("gauge", ()),
    "ssi_ledger_reads_total": ("counter", ("source",)),
    "ssi_input_gaps_total": ("counter", ()),
    "ssi_recovery_reseeks_total": ("counter", ()),
    "ssi_event_loop_lag_seconds": ("histogram", ()),
    "ssi_quarantined_total": ("counter", ("problem",)),
    "ssi_events_misrouted_total": ("counter", ()),
    "ssi_redeliveries_skipped_total": ("counter", ()),
    "ssi_capped_total": ("counter", ("cap",)),
    "ssi_late_redeliveries_total": ("counter", ()),
    "ssi_effects_past_dedup_horizon_total": ("counter", ()),
    "ssi_day_shares_received_total": ("counter", ()),
    "ssi_consumer_lag": ("gauge", ("topic", "partition")),
    "ssi_members": ("gauge", ()),
    "ssi_daily_close_seconds": ("histogram", ()),
    "ssi_daily_close_records_total": ("counter", ()),
    "ssi_last_daily_close_timestamp_seconds": ("gauge", ()),
    "ssi_closed_day_timestamp_seconds": ("gauge", ()),
    "ssi_score": ("histogram", ()),
    "ssi_pillar_score": ("histogram", ("pillar",)),
    "ssi_alerts_emitted_total": ("counter", ("kind",)),
    "ssi_model_info": ("gauge", ("version",)),
    "ssi_build_info": ("gauge", ("version", "python", "faust")),
}
#: Label names that would mean one series per member (or per any unbounded value).
UNBOUNDED_LABEL = re.compile(r"member|user|event_id|effect_id|key|id$|offset|date|day", re.IGNORECASE)
TIME_WORDS = re.compile(r"\b(time|duration|wall clock|seconds|midnight)\b", re.IGNORECASE)


@pytest.fixture
def metrics() -> WorkerMetrics:
    return WorkerMetrics("model-v1", build=BUILD, clock=lambda: NOW, process_metrics=False)


def value(metrics: WorkerMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def families(registry: CollectorRegistry) -> dict[str, tuple[str, set[str], str]]:
    """name as exposed -> (type, label names, help) for every ssi_ metric."""
    found = {}
    for family in registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = {key for sample in family.samples for key in sample.labels if key != "le"}
        found[name] = (family.type, labels, family.documentation)
    return found


def exercise(metrics: WorkerMetrics) -> None:
    """Call every method, with hostile values where a caller could pass one."""
    for kind in (*EVENT_TYPES, "member-4711", ""):
        metrics.event_placed(kind, late=False, lag_seconds=12.0)
        metrics.event_placed(kind, late=True, lag_seconds=-3.0)
    for code in RejectionCode:
        metrics.event_rejected(code, b'{"type": "invite_sent", "member_id": "m-1"}')
        metrics.event_rejected(code, b'{"type": "member-4711"}')
    metrics.dead_lettered()
    metrics.quarantined("unreadable")
    metrics.quarantined("forged")
    metrics.quarantined("unreadable_state")
    for counted in (True, False):
        for late in (True, False):
            metrics.effect_absorbed(counted=counted, late=late)
    for stage in STAGES:
        metrics.processed(stage, 0.002)
    metrics.day_closed(20_000, records=3, seconds=0.4)
    metrics.score_emitted({"ssi": 61.5, "pillars": {**dict.fromkeys(PILLARS, 15.0), "member-4711": 9.0}})
    for kind in ALERT_KINDS:
        metrics.alert_emitted(kind)
    metrics.set_consumer_lag({("ssi.events", 0): 5, ("ssi-stream-effects", 7): 0})
    metrics.set_members(1234)
    metrics.ledger_cache(250, hits=90, decoded=10)
    for cap in (*CAPS, "member-4711"):
        metrics.capped(cap)
    metrics.late_redelivery()
    metrics.past_dedup_horizon()


def test_every_metric_dashboards_use_is_exposed_with_its_type_and_labels(metrics: WorkerMetrics) -> None:
    exercise(metrics)
    exposed = families(metrics.registry)
    assert exposed.keys() == DASHBOARD_METRICS.keys()
    for name, (kind, labels) in DASHBOARD_METRICS.items():
        assert (exposed[name][0], exposed[name][1]) == (kind, set(labels)), name


def test_names_follow_prometheus_conventions(metrics: WorkerMetrics) -> None:
    exercise(metrics)
    for name, (kind, labels, documentation) in families(metrics.registry).items():
        assert re.fullmatch(r"ssi_[a-z][a-z0-9_]*", name), name
        assert documentation.strip(), f"{name} has no help text"
        assert name.endswith("_total") == (kind == "counter"), name
        if TIME_WORDS.search(documentation) and not name.endswith("_info"):
            # a counter of seconds is `_seconds_total` (as process_cpu_seconds_total)
            assert name.removesuffix("_total").endswith("_seconds"), (
                f"{name} measures time but is not in seconds"
            )
        assert not re.search(r"_(ms|milliseconds|minutes|hours|days)(_|$)", name), name
        assert not [label for label in labels if UNBOUNDED_LABEL.search(label)], name


def test_every_label_value_comes_from_a_finite_set(metrics: WorkerMetrics) -> None:
    exercise(metrics)
    allowed = {
        "type": set(EVENT_TYPE_LABELS),
        "outcome": set(EVENT_OUTCOMES) | set(EFFECT_OUTCOMES),
        "reason": {code.value for code in RejectionCode},
        "stage": set(STAGES),
        "problem": {"unreadable", "forged", "unreadable_state"},
        "pillar": set(PILLARS),
        "kind": set(ALERT_KINDS),
        "topic": {"ssi.events", "ssi-stream-effects"},
        "partition": {"0", "7"},
        "version": {"model-v1", BUILD.version},
        "python": {BUILD.python},
        "faust": {BUILD.faust},
        "cap": set(CAPS),
        "source": {"cache", "table"},
    }
    seen: dict[str, set[str]] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                if label != "le":
                    seen.setdefault(label, set()).add(label_value)
    assert seen.keys() == allowed.keys()
    for label, values in seen.items():
        assert values <= allowed[label], f"{label}: unexpected {values - allowed[label]}"
    assert len(EVENT_TYPE_LABELS) == 20  # the 19 event types (14 activity, 5 outcome) and `unknown`


def test_bounded_series_exist_at_zero_before_anything_happens(metrics: WorkerMetrics) -> None:
    for kind in EVENT_TYPE_LABELS:
        for outcome in EVENT_OUTCOMES:
            assert value(metrics, "ssi_events_consumed_total", type=kind, outcome=outcome) == 0
    for code in RejectionCode:
        assert value(metrics, "ssi_events_rejected_total", reason=code.value) == 0
    for kind in ALERT_KINDS:
        assert value(metrics, "ssi_alerts_emitted_total", kind=kind) == 0
    # the alert on them is `increase(...) > 0`, which cannot see a series that is born at 1
    for problem in ("unreadable", "forged", "unreadable_state"):
        assert value(metrics, "ssi_quarantined_total", problem=problem) == 0
    assert value(metrics, "ssi_model_info", version="model-v1") == 1
    assert value(metrics, "ssi_build_info", version="0.1.0", python="3.11.7", faust="0.15.3") == 1


def test_placed_events_count_by_type_and_lateness_and_observe_their_lag(metrics: WorkerMetrics) -> None:
    metrics.event_placed("invite_sent", late=False, lag_seconds=30.0)
    metrics.event_placed("invite_sent", late=False, lag_seconds=2 * 86400.0)
    metrics.event_placed("comment_posted", late=True, lag_seconds=-5.0)  # a clock ahead of ours
    metrics.event_placed("no_such_type", late=False, lag_seconds=1.0)
    assert value(metrics, "ssi_events_consumed_total", type="invite_sent", outcome="accepted") == 2
    assert value(metrics, "ssi_events_consumed_total", type="comment_posted", outcome="late") == 1
    assert value(metrics, "ssi_events_consumed_total", type="comment_posted", outcome="accepted") == 0
    assert value(metrics, "ssi_events_consumed_total", type="unknown", outcome="accepted") == 1
    assert value(metrics, "ssi_event_lag_seconds_count") == 4
    assert value(metrics, "ssi_event_lag_seconds_sum") == 30.0 + 2 * 86400 + 0.0 + 1.0
    assert value(metrics, "ssi_event_lag_seconds_bucket", le="1.0") == 2  # the clamped one and 1 s
    assert value(metrics, "ssi_event_lag_seconds_bucket", le="86400.0") == 3


def test_rejections_count_by_reason_and_by_the_type_the_payload_declares(metrics: WorkerMetrics) -> None:
    metrics.event_rejected(RejectionCode.MISSING_FIELD, b'{"type": "invite_sent", "member_id": "m1"}')
    metrics.event_rejected(RejectionCode.NOT_JSON, b'{"type": "invite_sent"')
    metrics.event_rejected(RejectionCode.UNKNOWN_TYPE, b'{"type": "m-4711"}')
    metrics.dead_lettered()
    assert value(metrics, "ssi_events_consumed_total", type="invite_sent", outcome="rejected") == 1
    assert value(metrics, "ssi_events_consumed_total", type="unknown", outcome="rejected") == 2
    assert value(metrics, "ssi_events_rejected_total", reason="missing_field") == 1
    assert value(metrics, "ssi_events_rejected_total", reason="not_json") == 1
    assert value(metrics, "ssi_events_rejected_total", reason="unknown_type") == 1
    assert value(metrics, "ssi_dead_letters_total") == 1


@pytest.mark.parametrize(
    ("counted", "late", "outcome"),
    [(True, False, "counted"), (True, True, "late"), (False, False, "duplicate"), (False, True, "duplicate")],
)
def test_an_absorbed_effect_has_exactly_one_outcome(
    metrics: WorkerMetrics, counted: bool, late: bool, outcome: str
) -> None:
    metrics.effect_absorbed(counted=counted, late=late)
    for each in EFFECT_OUTCOMES:
        expected = 1 if each == outcome else 0
        assert value(metrics, "ssi_effects_absorbed_total", outcome=each) == expected


def test_day_closes_record_duration_records_and_the_newest_closed_day(metrics: WorkerMetrics) -> None:
    metrics.day_closed(20_001, records=40, seconds=0.3)
    metrics.day_closed(20_000, records=2, seconds=0.02)  # another partition, an older day, later
    assert value(metrics, "ssi_daily_close_seconds_count") == 2
    assert value(metrics, "ssi_daily_close_seconds_bucket", le="0.05") == 1
    assert value(metrics, "ssi_daily_close_records_total") == 42
    assert value(metrics, "ssi_last_daily_close_timestamp_seconds") == NOW
    assert value(metrics, "ssi_closed_day_timestamp_seconds") == 20_001 * 86400


def test_emitted_records_fill_the_score_and_pillar_histograms(metrics: WorkerMetrics) -> None:
    pillars = dict(zip(PILLARS, (25.0, 0.0, 12.4, 3.1), strict=True))
    metrics.score_emitted({"ssi": 40.5, "pillars": pillars})
    metrics.score_emitted({"ssi": 100.0, "pillars": dict.fromkeys(PILLARS, 25.0)})
    assert value(metrics, "ssi_score_count") == 2
    assert value(metrics, "ssi_score_bucket", le="40.0") == 0
    assert value(metrics, "ssi_score_bucket", le="50.0") == 1
    assert value(metrics, "ssi_score_bucket", le="100.0") == 2
    assert value(metrics, "ssi_pillar_score_bucket", pillar="engage_with_insights", le="12.5") == 1
    assert value(metrics, "ssi_pillar_score_bucket", pillar="find_right_people", le="0.0") == 1
    assert value(metrics, "ssi_pillar_score_sum", pillar="professional_brand") == 50.0


def test_processing_time_is_observed_per_stage(metrics: WorkerMetrics) -> None:
    metrics.processed("place", 0.0003)
    metrics.processed("absorb", 0.2)
    metrics.processed("absorb", 0.2)
    assert value(metrics, "ssi_processing_seconds_count", stage="place") == 1
    assert value(metrics, "ssi_processing_seconds_bucket", stage="place", le="0.0005") == 1
    assert value(metrics, "ssi_processing_seconds_count", stage="absorb") == 2


def test_waiting_for_the_broker_and_for_the_absorb_side_adds_up_in_seconds(metrics: WorkerMetrics) -> None:
    metrics.delivery_waited("place", 0.25)
    metrics.delivery_waited("place", 0.5)
    metrics.delivery_waited("absorb", 0.125)
    metrics.backpressure_waited(1.5)
    assert value(metrics, "ssi_delivery_wait_seconds_total", stage="place") == 0.75
    assert value(metrics, "ssi_delivery_wait_seconds_total", stage="absorb") == 0.125
    assert value(metrics, "ssi_backpressure_seconds_total") == 1.5


def test_consumer_lag_shows_only_the_partitions_assigned_now(metrics: WorkerMetrics) -> None:
    metrics.set_consumer_lag({("ssi.events", 0): 120, ("ssi-stream-effects", 0): 3})
    metrics.set_consumer_lag({("ssi.events", 1): 7, ("ssi-stream-effects", 1): -2})  # after a rebalance
    assert value(metrics, "ssi_consumer_lag", topic="ssi.events", partition="0") is None
    assert value(metrics, "ssi_consumer_lag", topic="ssi.events", partition="1") == 7
    assert value(metrics, "ssi_consumer_lag", topic="ssi-stream-effects", partition="1") == 0
    metrics.set_members(880)
    assert value(metrics, "ssi_members") == 880


def test_alerts_count_by_kind_and_refuse_an_unknown_kind(metrics: WorkerMetrics) -> None:
    metrics.alert_emitted("weekly_drop")
    assert value(metrics, "ssi_alerts_emitted_total", kind="weekly_drop") == 1
    with pytest.raises(KeyError):
        metrics.alert_emitted("member-4711")


@given(st.sampled_from(list(RejectionCode)), st.binary(max_size=200) | st.from_regex(r'\{"type": ".*"\}'))
def test_a_rejected_payload_always_gets_a_bounded_type_label(
    code: RejectionCode, payload: bytes | str
) -> None:
    raw = payload.encode() if isinstance(payload, str) else payload
    assert rejected_type(code, raw) in EVENT_TYPE_LABELS


def test_typeless_rejections_are_unknown_even_when_a_type_is_visible() -> None:
    payload = b'{"type": "post_published"}'
    assert rejected_type(RejectionCode.MISSING_FIELD, payload) == "post_published"
    assert rejected_type(RejectionCode.TOO_LARGE, payload) == "unknown"
    assert rejected_type(RejectionCode.MISSING_FIELD, b'["post_published"]') == "unknown"


def test_exposition_negotiates_the_format_prometheus_asks_for(metrics: WorkerMetrics) -> None:
    metrics.dead_lettered()
    text, content_type = exposition(metrics.registry, None)
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"\nssi_dead_letters_total 1.0\n" in text
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    body, content_type = exposition(metrics.registry, accept)
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_process_metrics_are_the_only_metrics_without_the_ssi_prefix() -> None:
    names = {family.name for family in WorkerMetrics("m", build=BUILD).registry.collect()}
    assert {name for name in names if not name.startswith("ssi_")} <= {
        "process_virtual_memory_bytes",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_cpu_seconds",
        "process_open_fds",
        "process_max_fds",
        "process_network_receive_bytes",
        "process_network_transmit_bytes",
    }
    assert "process_resident_memory_bytes" in names


def test_the_operations_doc_lists_every_metric_with_its_type_and_labels(metrics: WorkerMetrics) -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "operations.md").read_text()
    documented = {
        name: (kind, set(re.findall(r"`(\w+)`", labels)))
        for name, kind, labels in re.findall(r"^\| `(ssi_\w+)` \| (\w+) \|([^|]*)\|", doc, re.MULTILINE)
    }
    exercise(metrics)
    exposed = {name: (kind, labels) for name, (kind, labels, _) in families(metrics.registry).items()}
    assert documented == exposed


@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), max_size=60))
def test_pending_observations_give_the_histogram_that_observing_each_value_gives(values: list[float]) -> None:
    from prometheus_client import Histogram

    from ssi_stream.ops.metrics import LAG_BUCKETS, PendingCounts

    one_by_one, gathered = CollectorRegistry(), CollectorRegistry()
    pending = PendingCounts()
    gathered.register(pending)
    direct = Histogram("lag_seconds", "lag", buckets=LAG_BUCKETS, registry=one_by_one)
    bulk = Histogram("lag_seconds", "lag", buckets=LAG_BUCKETS, registry=gathered)
    for value in values:
        direct.observe(value)
        pending.observe(bulk, value)
    assert bulk._sum.get() == 0  # nothing applied before a collection or `apply`

    def samples(registry: CollectorRegistry) -> dict:
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for metric in registry.collect()
            for s in metric.samples
            if not s.name.endswith("_created")
        }

    expected, got = samples(one_by_one), samples(gathered)  # collecting `gathered` applies it first
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-6), key


def test_pending_counts_reach_their_counters_at_a_collection_and_after_a_batch() -> None:
    metrics = WorkerMetrics("m", build=BUILD, process_metrics=False)
    metrics.effect_absorbed(counted=True, late=False)
    metrics.effect_absorbed(counted=True, late=False)
    child = metrics.effects_absorbed.labels("counted")
    assert child._value.get() == 0  # gathered, not yet applied
    assert metrics.registry.get_sample_value("ssi_effects_absorbed_total", {"outcome": "counted"}) == 2
    metrics.effect_absorbed(counted=False, late=False)
    metrics.processed("absorb", 0.01, 1)
    assert metrics.effects_absorbed.labels("duplicate")._value.get() == 1


def test_pending_observations_fall_back_to_observe_for_a_histogram_of_another_layout() -> None:
    from ssi_stream.ops.metrics import PendingCounts

    class Observed:  # no `_upper_bounds`/`_buckets`/`_sum`: another prometheus-client's layout
        def __init__(self) -> None:
            self.values: list[float] = []

        def observe(self, value: float) -> None:
            self.values.append(value)

    pending, histogram = PendingCounts(), Observed()
    for value in (0.5, 3.0, 0.5):
        pending.observe(histogram, value)  # type: ignore[arg-type]
    pending.apply()
    assert histogram.values == [0.5, 3.0, 0.5]
