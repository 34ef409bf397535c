"""What the deployment files may refer to (the worker's metrics, PromQL's view of them) and promtool.

`METRICS` is the one list of metric names (and their labels) that alerts and dashboards may use; it
mirrors the worker's /metrics contract and will be checked against the real registry.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"

#: name -> (type, labels)
METRICS: dict[str, tuple[str, frozenset[str]]] = {
    "ssi_events_consumed_total": ("counter", frozenset({"type", "outcome"})),
    "ssi_events_rejected_total": ("counter", frozenset({"reason"})),
    "ssi_dead_letters_total": ("counter", frozenset()),
    "ssi_effects_absorbed_total": ("counter", frozenset({"outcome"})),
    "ssi_event_lag_seconds": ("histogram", frozenset()),
    "ssi_processing_seconds": ("histogram", frozenset({"stage"})),
    "ssi_delivery_wait_seconds_total": ("counter", frozenset({"stage"})),
    "ssi_backpressure_seconds_total": ("counter", frozenset()),
    "ssi_input_gaps_total": ("counter", frozenset()),
    "ssi_recovery_reseeks_total": ("counter", frozenset()),
    "ssi_event_loop_lag_seconds": ("histogram", frozenset()),
    "ssi_quarantined_total": ("counter", frozenset({"problem"})),
    "ssi_events_misrouted_total": ("counter", frozenset()),
    "ssi_redeliveries_skipped_total": ("counter", frozenset()),
    "ssi_capped_total": ("counter", frozenset({"cap"})),
    "ssi_late_redeliveries_total": ("counter", frozenset()),
    "ssi_effects_past_dedup_horizon_total": ("counter", frozenset()),
    "ssi_day_shares_received_total": ("counter", frozenset()),
    "ssi_consumer_lag": ("gauge", frozenset({"topic", "partition"})),
    "ssi_members": ("gauge", frozenset()),
    "ssi_ledger_cache_members": ("gauge", frozenset()),
    "ssi_ledger_reads_total": ("counter", frozenset({"source"})),
    "ssi_daily_close_seconds": ("histogram", frozenset()),
    "ssi_daily_close_records_total": ("counter", frozenset()),
    "ssi_last_daily_close_timestamp_seconds": ("gauge", frozenset()),
    "ssi_closed_day_timestamp_seconds": ("gauge", frozenset()),
    "ssi_score": ("histogram", frozenset()),
    "ssi_pillar_score": ("histogram", frozenset({"pillar"})),
    "ssi_alerts_emitted_total": ("counter", frozenset({"kind"})),
    "ssi_model_info": ("gauge", frozenset({"version"})),
    "ssi_build_info": ("gauge", frozenset({"version", "python", "faust"})),
}
#: Series Prometheus itself makes for every target.
PROMETHEUS_SERIES = {"up": frozenset()}
#: Labels every scraped series has, plus `le` on histogram buckets.
TARGET_LABELS = frozenset({"job", "instance", "le"})
#: The scrape job of the workers, in every Prometheus configuration and alert.
JOB = "ssi-stream"

_KEYWORDS = {
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _without_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def series_names(expr: str) -> set[str]:
    """Every series name a PromQL expression selects (functions, keywords and labels left out)."""
    text = _without_strings(expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    names = set()
    for match in re.finditer(r"[0-9][0-9.]*[a-zA-Z]*|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        name, is_call = match.group(1), match.group(2)
        if name and not is_call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def label_names(expr: str) -> set[str]:
    """Labels an expression matches on or groups by."""
    text = _without_strings(expr)
    labels = set()
    for matchers in re.findall(r"\{([^}]*)\}", text):
        labels.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    for grouping in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", text):
        labels.update(name.strip() for name in grouping.split(",") if name.strip())
    return labels


def recorded_series() -> dict[str, tuple[str, frozenset[str]]]:
    """The series of deploy/prometheus/recording.yml: name -> (its expression, the labels it keeps)."""
    recorded = {}
    for group in yaml.safe_load((DEPLOY / "prometheus" / "recording.yml").read_text())["groups"]:
        for rule in group["rules"]:
            (kept,) = re.findall(r"^sum by \(([^)]*)\)", rule["expr"])
            recorded[rule["record"]] = (rule["expr"], frozenset(name.strip() for name in kept.split(",")))
    return recorded


def metric_of(series: str, recorded: Mapping[str, object] = MappingProxyType({})) -> str | None:
    """The metric a series name belongs to (`ssi_score_bucket` -> `ssi_score`), or None if unknown."""
    if series in METRICS or series in PROMETHEUS_SERIES or series in recorded:
        return series
    for suffix in _HISTOGRAM_SUFFIXES:
        base = series.removesuffix(suffix)
        if base != series and METRICS.get(base, ("", ""))[0] == "histogram":
            return base
    return None


def unknown_references(expr: str, recorded: Mapping[str, object] = MappingProxyType({})) -> list[str]:
    """Series and labels in `expr` that the worker (or Prometheus, or the `recorded` series) does not
    export; empty when all known."""
    problems = [f"series {name}" for name in sorted(series_names(expr)) if metric_of(name, recorded) is None]
    known_labels = set(TARGET_LABELS).union(*(labels for _, labels in METRICS.values()))
    problems += [f"label {name}" for name in sorted(label_names(expr) - known_labels)]
    return problems


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings."""
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def promtool(*args: str | Path, cwd: Path) -> str:
    """Run promtool and return its output; a missing promtool fails the test, it is never skipped."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not on PATH: install the Debian package 'prometheus' (`make system-tools`)")
    result = subprocess.run(
        [path, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(map(str, args))} failed:\n{output}"
    return output
