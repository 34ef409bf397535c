"""The Grafana dashboard and provisioning: valid JSON and YAML, PromQL that promtool parses, only metrics the
worker exports, and paths that match how docker-compose.yml mounts them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.catalog import (
    DEPLOY,
    METRICS,
    REPO,
    promtool,
    recorded_series,
    series_names,
    unknown_references,
)

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "ssi-stream.json"
#: What Grafana substitutes for its variables, so that promtool can parse the queries.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$instance": ".*"}
RECORDED = recorded_series()
#: Histogram series the dashboard may read raw: the heatmap's window is its own interval, not a fixed one.
RAW_HISTOGRAM_PANELS = {"SSI distribution over time"}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def queries() -> list[tuple[str, str]]:
    """(panel title/refId, expr) for every query of every panel."""
    return [
        (f"{panel['title']}/{target['refId']}", target["expr"])
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
    ]


def compose_service(name: str) -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"][name]


def test_panels_have_unique_ids_and_fit_the_grid() -> None:
    panels = dashboard()["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


def test_the_dashboard_shows_every_area_an_operator_watches() -> None:
    """Every area's metric is read, directly or through a series of deploy/prometheus/recording.yml."""
    text = " ".join(expr for _, expr in queries())
    text = " ".join([text, *(RECORDED[name][0] for name in RECORDED if name in text)])
    for metric in [
        "ssi_events_consumed_total",  # throughput
        "ssi_consumer_lag",  # lag
        "ssi_event_lag_seconds_bucket",  # latency
        "ssi_processing_seconds_bucket",
        "ssi_dead_letters_total",  # errors
        "ssi_score_bucket",  # scores
        "ssi_pillar_score",
        "ssi_daily_close_seconds_bucket",  # daily close
        "ssi_daily_close_records_total",
        "ssi_members",
        "ssi_model_info",
    ]:
        assert metric in text, metric


@pytest.mark.parametrize(("panel", "expr"), queries(), ids=[name for name, _ in queries()])
def test_queries_use_only_exported_metrics(panel: str, expr: str) -> None:
    assert unknown_references(expr, RECORDED) == []


def test_heavy_queries_read_recorded_series() -> None:
    """Histogram buckets and windows over an hour are recorded once per evaluation, not computed on every
    refresh of every open dashboard: the dashboard reads those recorded series instead of raw ones."""
    histograms = {name for name, (kind, _) in METRICS.items() if kind == "histogram"}
    for panel, expr in queries():
        raw = {name for name in series_names(expr) if name not in RECORDED}
        if panel.split("/")[0] not in RAW_HISTOGRAM_PANELS:
            assert not {name.rsplit("_", 1)[0] for name in raw} & histograms, f"{panel} reads raw buckets"
        for amount, unit in re.findall(r"\[([0-9]+)([smhd])\]", expr):
            seconds = int(amount) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
            assert seconds <= 3600, (
                f"{panel}: a {amount}{unit} window over raw series belongs in recording.yml"
            )


def test_every_recorded_series_is_shown() -> None:
    shown = set().union(*(series_names(expr) for _, expr in queries()))
    assert set(RECORDED) - shown == set(), "recording rules no panel reads"


def test_every_query_parses_as_promql(tmp_path: Path) -> None:
    """promtool parses each query as a recording rule (Grafana's variables replaced by sample values)."""
    rules = []
    for number, (_, expr) in enumerate(queries()):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unknown Grafana variable in {expr}"
        rules.append({"record": f"dashboard_query_{number}", "expr": expr})
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert "SUCCESS" in promtool("check", "rules", path.name, cwd=tmp_path)


def test_queries_read_the_data_source_variable() -> None:
    board = dashboard()
    assert "datasource" in {variable["name"] for variable in board["templating"]["list"]}
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_provisioning_points_at_the_compose_prometheus_and_dashboard_folder() -> None:
    provisioning = GRAFANA / "provisioning"
    provider = yaml.safe_load((provisioning / "dashboards/ssi-stream.yml").read_text())["providers"][0]
    source = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())["datasources"][0]
    mounts = dict(volume.split(":")[:2] for volume in compose_service("grafana")["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert source["type"] == "prometheus"
    host_port = source["url"].removeprefix("http://")
    assert host_port.split(":")[0] == "prometheus"
    assert f"{host_port.split(':')[1]}:{host_port.split(':')[1]}" in compose_service("prometheus")["ports"]


def test_the_metric_check_flags_unknown_series_and_labels() -> None:
    """The check above can fail: a misspelt metric, an unexported label or a stray series is reported."""
    expr = 'sum by (reson) (rate(ssi_event_rejected_total{job="ssi-stream"}[5m])) / process_cpu_seconds_total'
    assert unknown_references(expr) == [
        "series process_cpu_seconds_total",
        "series ssi_event_rejected_total",
        "label reson",
    ]
    assert unknown_references("histogram_quantile(0.9, sum by (le) (rate(ssi_score_bucket[5m])))") == []
    assert unknown_references("ssi_members_bucket") == ["series ssi_members_bucket"]  # a gauge has no buckets
