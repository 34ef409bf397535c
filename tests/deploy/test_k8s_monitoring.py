"""Prometheus Operator manifests (deploy/k8s/monitoring): valid against the operator's CRD schemas (strict:
unknown fields are errors), the PrometheusRule carrying exactly the rule files that promtool tests, the
ServiceMonitor scraping the workers as prometheus-k8s.yml does, and the runbook links' base set by kustomize.
The manifests are rendered by `kubectl kustomize`, as `kubectl apply -k` renders them."""

from __future__ import annotations

import copy
import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jsonschema import Draft7Validator

from tests.deploy.catalog import DEPLOY, JOB, promtool

MONITORING = DEPLOY / "k8s" / "monitoring"
#: The CRDs of the Prometheus Operator v0.93.0 (tests/deploy/crds/README.md).
CRDS = Path(__file__).resolve().parent / "crds"
RULE_FILES = [DEPLOY / "prometheus" / name for name in ("alerts.yml", "recording.yml")]


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The resources `kubectl apply -k directory` would apply; a missing kubectl fails, never skips."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not on PATH: kubectl >= 1.27 (kustomize v5) renders the manifests")
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return list(yaml.safe_load_all(result.stdout))


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD's structural schema with unknown fields refused, as the API server's strict field validation
    refuses them (it would otherwise prune them silently)."""
    schema = dict(schema)
    closed = "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields")
    if closed and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for key in ("properties", "patternProperties"):
        if key in schema:
            schema[key] = {name: _strict(child) for name, child in schema[key].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = _strict(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = [_strict(child) for child in schema[key]]
    return schema


def _validators() -> dict[str, tuple[str, Draft7Validator]]:
    """kind -> (apiVersion, a strict validator of its served version)."""
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        (version,) = [version for version in crd["spec"]["versions"] if version["storage"]]
        api_version = f"{crd['spec']['group']}/{version['name']}"
        schema = _strict(version["schema"]["openAPIV3Schema"])
        found[crd["spec"]["names"]["kind"]] = (api_version, Draft7Validator(schema))
    return found


VALIDATORS = _validators()
RENDERED = kustomize(MONITORING)


def rendered(kind: str) -> dict[str, Any]:
    (found,) = [document for document in RENDERED if document["kind"] == kind]
    return found


def crd_errors(document: dict[str, Any]) -> list[str]:
    api_version, validator = VALIDATORS[document["kind"]]
    errors = [] if document["apiVersion"] == api_version else [f"apiVersion is not {api_version}"]
    errors += [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    return errors


def alert_rules(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_kustomize_renders_exactly_the_two_monitoring_resources_in_the_workers_namespace() -> None:
    """The runbook-base ConfigMap is local configuration: it is not applied."""
    workers = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert sorted(document["kind"] for document in RENDERED) == ["PrometheusRule", "ServiceMonitor"]
    assert {document["metadata"]["namespace"] for document in RENDERED} == {workers["namespace"]}
    files = sorted(path.name for path in MONITORING.glob("*.yaml") if path.name != "kustomization.yaml")
    assert sorted(yaml.safe_load((MONITORING / "kustomization.yaml").read_text())["resources"]) == files


@pytest.mark.parametrize("kind", ["ServiceMonitor", "PrometheusRule"])
def test_manifest_is_valid_against_the_operator_crd(kind: str) -> None:
    document = rendered(kind)
    assert crd_errors(document) == []
    # The CRDs leave metadata open; the API server checks it as any object's metadata.
    carrier = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": document["metadata"]}
    kubernetes_validate.validate(carrier, kubernetes_validate.latest_version(), strict=True)


def test_the_crd_validation_rejects_unknown_fields_and_wrong_types() -> None:
    """The check above can fail."""
    monitor = copy.deepcopy(rendered("ServiceMonitor"))
    monitor["spec"]["endpoints"][0]["prot"] = "web"
    rule = copy.deepcopy(rendered("PrometheusRule"))
    rule["spec"]["groups"][0]["rules"][0]["for"] = "fifteen minutes"
    assert [error.split(":")[0] for error in crd_errors(monitor)] == ["spec.endpoints.0"]
    assert [error.split(":")[0] for error in crd_errors(rule)] == ["spec.groups.0.rules.0.for"]


def test_the_prometheus_rule_is_generated_from_the_rule_files() -> None:
    """prometheusrule.yaml is what deploy/k8s/monitoring/prometheusrule.py writes: the groups of alerts.yml
    and recording.yml, verbatim; after editing those, run it again."""
    spec = importlib.util.spec_from_file_location("prometheusrule", MONITORING / "prometheusrule.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (MONITORING / "prometheusrule.yaml").read_text() == generator.prometheus_rule()
    groups = [group for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]]
    assert rendered("PrometheusRule")["spec"]["groups"] == groups


def test_promtool_accepts_the_rendered_rules(tmp_path: Path) -> None:
    groups = rendered("PrometheusRule")["spec"]["groups"]
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": groups}))
    rules = sum(len(group["rules"]) for group in groups)
    assert f"SUCCESS: {rules} rules found" in promtool("check", "rules", "rules.yml", cwd=tmp_path)


def test_kustomize_gives_every_runbook_link_the_configured_base(tmp_path: Path) -> None:
    base = "https://runbooks.example.com/teams/scoring/ssi-stream/RUNBOOK.md"
    copied = tmp_path / "monitoring"
    shutil.copytree(MONITORING, copied)
    kustomization = copied / "kustomization.yaml"
    text = kustomization.read_text()
    (placeholder,) = [line for line in text.splitlines() if "runbook-base=" in line]
    kustomization.write_text(text.replace(placeholder, f"      - runbook-base={base}"))
    (rule,) = [document for document in kustomize(copied) if document["kind"] == "PrometheusRule"]
    links = [
        (alert["alert"], alert["annotations"]["runbook_url"]) for alert in alert_rules(rule["spec"]["groups"])
    ]
    assert links and all(url == f"{base}#{name.lower()}" for name, url in links), links


def test_the_default_runbook_base_is_the_rule_files_placeholder() -> None:
    groups = yaml.safe_load(RULE_FILES[0].read_text())["groups"]
    expected = [alert["annotations"]["runbook_url"] for alert in alert_rules(groups)]
    assert [
        alert["annotations"]["runbook_url"]
        for alert in alert_rules(rendered("PrometheusRule")["spec"]["groups"])
    ] == expected


def test_the_service_monitor_scrapes_the_workers_as_the_alerts_expect() -> None:
    """job="ssi-stream" (the alerts select it), every pod behind the workers' Service on its web port, each
    target named after its pod, as deploy/prometheus/prometheus-k8s.yml does without the operator."""
    monitor = rendered("ServiceMonitor")["spec"]
    service = yaml.safe_load((DEPLOY / "k8s" / "service.yaml").read_text())
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert service["metadata"]["labels"][monitor["jobLabel"]] == JOB
    (endpoint,) = monitor["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert {"sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "instance"} in endpoint[
        "relabelings"
    ]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-k8s.yml").read_text())
    assert endpoint["interval"] == scrape["global"]["scrape_interval"]
