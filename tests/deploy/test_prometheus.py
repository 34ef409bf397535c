"""Prometheus configuration and alert rules: promtool accepts them, their unit tests pass, and they only
refer to metrics the worker exports and to runbook sections that exist."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy import catalog
from tests.deploy.catalog import DEPLOY, JOB, REPO, github_anchors, recorded_series, unknown_references

PROMETHEUS_DIR = DEPLOY / "prometheus"
CONFIGS = ["prometheus.yml", "prometheus-k8s.yml"]
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "alerts_test.yml"
RECORDING = PROMETHEUS_DIR / "recording.yml"
RECORDING_TESTS = PROMETHEUS_DIR / "recording_test.yml"
RECORDED = recorded_series()
#: level:metric:operation, e.g. instance:ssi_events_consumed:rate5m from rate(ssi_events_consumed_total[5m]).
RECORD_NAME = re.compile(r"instance:(?P<metric>[a-z_]+):(?P<function>rate|increase)(?P<window>[0-9]+[mh])")
RUNBOOK = DEPLOY / "RUNBOOK.md"


def promtool(*args: str | Path, cwd: Path = PROMETHEUS_DIR) -> str:
    return catalog.promtool(*args, cwd=cwd)


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.slow  # promtool: `make test` runs it
def test_promtool_accepts_the_configuration(config: str) -> None:
    assert "SUCCESS" in promtool("check", "config", config)


@pytest.mark.slow  # promtool: `make test` runs it
def test_promtool_accepts_the_alert_rules() -> None:
    assert f"SUCCESS: {len(alert_rules())} rules found" in promtool("check", "rules", RULES.name)
    assert len(alert_rules()) == 8


@pytest.mark.slow  # promtool: `make test` runs it
def test_alert_unit_tests_pass() -> None:
    assert "SUCCESS" in promtool("test", "rules", RULE_TESTS.name)


@pytest.mark.slow  # promtool: `make test` runs it
def test_promtool_reports_a_broken_rule(tmp_path: Path) -> None:
    """The checks above can fail: promtool rejects a rule with a PromQL syntax error."""
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("> 0.01", "> > 0.01", 1))
    with pytest.raises(AssertionError, match="promtool check rules"):
        promtool("check", "rules", broken, cwd=tmp_path)


def test_every_alert_is_tested_firing_and_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fired == set(), "alerts with no test where they fire"
    assert names - quiet == set(), "alerts with no test where they stay quiet"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_says_how_bad_what_and_where_to_look(rule: dict) -> None:
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
    url = rule["annotations"]["runbook_url"]
    assert urlsplit(url).scheme == "https" and urlsplit(url).netloc, f"{url} is not an absolute URL"
    base, _, anchor = url.partition("#")
    assert base.endswith("/RUNBOOK.md")
    assert anchor == rule["alert"].lower()
    assert anchor in github_anchors(RUNBOOK.read_text()), f"RUNBOOK.md has no section '{rule['alert']}'"


def test_runbook_links_share_one_base() -> None:
    """One base to replace (docs/deploying.md, "Runbook links"): the repository ships a placeholder."""
    bases = {rule["annotations"]["runbook_url"].partition("#")[0] for rule in alert_rules()}
    assert len(bases) == 1, bases


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_uses_only_exported_metrics(rule: dict) -> None:
    assert unknown_references(rule["expr"]) == []


@pytest.mark.slow  # promtool: `make test` runs it
def test_promtool_accepts_the_recording_rules_and_their_unit_tests_pass() -> None:
    assert f"SUCCESS: {len(RECORDED)} rules found" in promtool("check", "rules", RECORDING.name)
    assert "SUCCESS" in promtool("test", "rules", RECORDING_TESTS.name)


def test_every_recorded_series_has_a_unit_test() -> None:
    tested = " ".join(
        check["expr"]
        for case in yaml.safe_load(RECORDING_TESTS.read_text())["tests"]
        for check in case["promql_expr_test"]
    )
    assert {name for name in RECORDED if name not in tested} == set()


@pytest.mark.parametrize("record", sorted(RECORDED))
def test_recorded_series_is_named_after_what_it_computes_and_keeps_the_worker(record: str) -> None:
    expr, kept = RECORDED[record]
    assert unknown_references(expr) == []
    name = RECORD_NAME.fullmatch(record)
    assert name, f"{record} is not instance:<metric>:<rate|increase><window>"
    sources = [name["metric"], name["metric"] + "_total"]
    assert any(f"{name['function']}({source}[{name['window']}])" in expr for source in sources), expr
    assert {"job", "instance"} <= kept, "the dashboard filters every panel by worker"


def test_alerts_select_the_scrape_job_of_every_configuration() -> None:
    jobs_in_rules = set(re.findall(r'job="([^"]+)"', RULES.read_text()))
    assert jobs_in_rules == {JOB}
    for config in CONFIGS:
        scrape = yaml.safe_load((PROMETHEUS_DIR / config).read_text())
        assert JOB in {job["job_name"] for job in scrape["scrape_configs"]}, config
        assert scrape["rule_files"] == [RULES.name, RECORDING.name], config


def test_the_docs_name_every_alert_and_scrape_the_job_the_alerts_select() -> None:
    deploying = (REPO / "docs" / "deploying.md").read_text()
    missing = [rule["alert"] for rule in alert_rules() if f"`{rule['alert']}`" not in deploying]
    assert missing == [], "docs/deploying.md does not describe these alerts"
    operations = (REPO / "docs" / "operations.md").read_text()
    assert set(re.findall(r"job_name: ([\w-]+)", operations)) == {JOB}
    assert set(re.findall(r'job="([^"]+)"', operations)) == {JOB}
