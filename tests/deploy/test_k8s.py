"""Kubernetes manifests: valid against the Kubernetes API schemas (kubernetes-validate, strict: unknown
fields are errors) and consistent with the settings, the probes and the Prometheus configuration."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from ssi_stream.ops.settings import Settings, env_names
from tests.deploy.catalog import DEPLOY, REPO

K8S = DEPLOY / "k8s"
#: The oldest Kubernetes we claim to support, and the newest the validator knows.
KUBERNETES_VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
OPENAPI = REPO / "docs" / "openapi.yaml"
PROBES = ["startupProbe", "livenessProbe", "readinessProbe"]


def manifests() -> list[tuple[str, dict]]:
    return [
        (path.name, document)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for document in yaml.safe_load_all(path.read_text())
    ]


def resource(kind: str) -> dict:
    (found,) = [document for _, document in manifests() if document["kind"] == kind]
    return found


STATEFULSET = resource("StatefulSet")
POD = STATEFULSET["spec"]["template"]
CONTAINER = POD["spec"]["containers"][0]
CONFIG = resource("ConfigMap")["data"]
SETTINGS = Settings.from_env(CONFIG)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("name", "document"), manifests(), ids=[name for name, _ in manifests()])
def test_manifest_is_valid_kubernetes(name: str, document: dict, version: str) -> None:
    kubernetes_validate.validate(document, version, strict=True)


def test_the_validator_rejects_an_unknown_field() -> None:
    broken = yaml.safe_load((K8S / "statefulset.yaml").read_text())
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest() -> None:
    files = sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
    assert sorted(KUSTOMIZATION["resources"]) == files
    assert KUSTOMIZATION["namespace"] == resource("Namespace")["metadata"]["name"]
    assert [image["name"] for image in KUSTOMIZATION["images"]] == [CONTAINER["image"]]


def test_configmap_holds_real_settings_with_usable_values() -> None:
    assert set(CONFIG) <= set(env_names())
    assert SETTINGS.web_host == "0.0.0.0"
    assert SETTINGS.broker, "workers in a cluster need SSI_BROKER"
    assert "SSI_WORKER_ID" not in CONFIG  # each pod names itself


def test_each_pod_is_a_worker_named_after_itself_with_its_own_data_volume() -> None:
    assert CONTAINER["args"] == ["worker"]
    assert CONTAINER["envFrom"] == [{"configMapRef": {"name": resource("ConfigMap")["metadata"]["name"]}}]
    worker_id = next(env for env in CONTAINER["env"] if env["name"] == "SSI_WORKER_ID")
    assert worker_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    (claim,) = STATEFULSET["spec"]["volumeClaimTemplates"]
    mounts = {mount["name"]: mount["mountPath"] for mount in CONTAINER["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == SETTINGS.data_dir


def test_each_pod_tells_the_others_its_own_address_to_forward_to() -> None:
    env = {entry["name"]: entry for entry in CONTAINER["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["SSI_WEB_URL"]["value"] == f"http://$(POD_IP):{SETTINGS.web_port}"
    assert list(env).index("POD_IP") < list(env).index("SSI_WEB_URL")  # $(POD_IP) is expanded in order
    assert "SSI_WEB_URL" not in CONFIG  # one per pod


def test_the_worker_gives_up_a_clean_stop_before_kubernetes_kills_it() -> None:
    assert SETTINGS.shutdown_timeout_seconds < POD["spec"]["terminationGracePeriodSeconds"]


def test_probes_and_scrape_annotations_use_the_web_port() -> None:
    (port,) = CONTAINER["ports"]
    assert port["containerPort"] == SETTINGS.web_port
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"]:
        assert CONTAINER[probe]["httpGet"]["port"] == port["name"], probe
    annotations = POD["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(SETTINGS.web_port)
    assert annotations["prometheus.io/path"] == "/metrics"
    assert set(CONTAINER["resources"]) == {"requests", "limits"}


def test_ready_means_tables_restored_and_live_means_the_process_answers() -> None:
    """/readyz (503 while rebalancing or restoring) gates traffic and startup; /healthz only liveness."""
    paths = {probe: CONTAINER[probe]["httpGet"]["path"] for probe in PROBES}
    assert paths == {"startupProbe": "/readyz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    assert set(paths.values()) <= set(yaml.safe_load(OPENAPI.read_text())["paths"]), "the worker serves them"


def test_the_startup_probe_allows_a_long_table_restore() -> None:
    """A new volume restores every table from the changelogs: 147 s for 1M members on one worker
    (BENCHMARKS.md, Recovery). The startup probe waits 30 minutes before liveness may restart the pod."""
    startup = CONTAINER["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30 * 60
    for probe in PROBES:
        assert CONTAINER[probe]["timeoutSeconds"] < CONTAINER[probe]["periodSeconds"], probe


def test_standby_replicas_fit_the_worker_group() -> None:
    """Each table partition kept warm on another worker needs at least one more worker than standbys."""
    assert SETTINGS.standby_replicas >= 1
    assert SETTINGS.standby_replicas < STATEFULSET["spec"]["replicas"]


def test_service_and_disruption_budget_select_the_worker_pods() -> None:
    service, budget = resource("Service"), resource("PodDisruptionBudget")
    pod_labels = POD["metadata"]["labels"]
    assert STATEFULSET["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["clusterIP"] == "None"
    assert STATEFULSET["spec"]["serviceName"] == service["metadata"]["name"]
    assert STATEFULSET["spec"]["replicas"] <= SETTINGS.partitions


def test_prometheus_k8s_config_finds_the_pods_through_the_headless_service() -> None:
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus-k8s.yml").read_text())
    (job,) = scrape["scrape_configs"]
    (name,) = job["dns_sd_configs"][0]["names"]
    service = resource("Service")
    (port,) = service["spec"]["ports"]
    namespace = KUSTOMIZATION["namespace"]
    assert name == f"_{port['name']}._tcp.{service['metadata']['name']}.{namespace}.svc.cluster.local"
    assert service["spec"]["publishNotReadyAddresses"] is True  # a stuck pod is scraped (up == 0), not lost
