"""docker-compose.yml agrees with the code: real settings, one Kafka version, ports Prometheus scrapes,
services and files that exist. (No Docker engine is needed: these read the file.)"""

from __future__ import annotations

import re

import pytest
import yaml

from ssi_stream.cli import build_parser
from ssi_stream.ops.kafka_dist import KAFKA_VERSION
from ssi_stream.ops.settings import Settings, env_names
from tests.deploy.catalog import DEPLOY, JOB, REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
WORKERS = {name: service for name, service in SERVICES.items() if service.get("command") == ["worker"]}
#: The public topics, named in the file; the internal ones follow SSI_APP_ID (`<app id>-effects`).
TOPIC_SETTINGS = [
    "SSI_EVENTS_TOPIC",
    "SSI_DLQ_TOPIC",
    "SSI_SCORES_TOPIC",
    "SSI_ALERTS_TOPIC",
]


def ssi_environment(service: dict) -> dict[str, str]:
    return {
        name: str(value) for name, value in service.get("environment", {}).items() if name.startswith("SSI_")
    }


def settings_of(service: dict) -> Settings:
    return Settings.from_env(ssi_environment(service))


def test_two_workers_with_their_own_id_port_and_data_volume() -> None:
    assert len(WORKERS) == 2
    settings = [settings_of(service) for service in WORKERS.values()]
    assert len({s.worker_id for s in settings}) == 2
    assert len({s.web_port for s in settings}) == 2
    volumes = [service["volumes"][0].split(":") for service in WORKERS.values()]
    assert len({source for source, _ in volumes}) == 2
    for (_, target), s in zip(volumes, settings, strict=True):
        assert target == s.data_dir


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_ssi_variable_is_a_real_setting_with_a_usable_value(name: str) -> None:
    environment = ssi_environment(SERVICES[name])
    assert set(environment) <= set(env_names())
    Settings.from_env(environment)  # raises SettingsError naming the variable


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_worker_listens_on_all_interfaces_on_its_published_port(name: str) -> None:
    settings = settings_of(WORKERS[name])
    assert settings.web_host == "0.0.0.0"
    assert WORKERS[name]["ports"] == [f"{settings.web_port}:{settings.web_port}"]
    assert "SSI_WEB_PORT" in " ".join(WORKERS[name]["healthcheck"]["test"])
    assert settings.broker == "kafka:9092"
    assert settings.advertised_web_url == f"http://{name}:{settings.web_port}"  # the others forward here


def test_prometheus_scrapes_exactly_the_workers_web_ports() -> None:
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    job = next(job for job in scrape["scrape_configs"] if job["job_name"] == JOB)
    targets = {target for group in job["static_configs"] for target in group["targets"]}
    assert targets == {f"{name}:{settings_of(service).web_port}" for name, service in WORKERS.items()}


def test_workers_and_simulator_agree_on_topics_and_broker() -> None:
    defaults = Settings()
    users = {name: settings_of(SERVICES[name]) for name in [*WORKERS, "simulator"]}
    for setting in ["events_topic", "dlq_topic", "scores_topic", "effects_topic", "alerts_topic", "app_id"]:
        values = {getattr(settings, setting) for name, settings in users.items() if name in WORKERS}
        assert len(values) == 1, setting
    assert {settings.events_topic for settings in users.values()} == {defaults.events_topic}
    assert {settings.broker for settings in users.values()} == {"kafka:9092"}
    assert all(name in ssi_environment(WORKERS["worker-1"]) for name in TOPIC_SETTINGS)
    assert "SSI_EFFECTS_TOPIC" not in ssi_environment(WORKERS["worker-1"])
    worker = users["worker-1"]
    assert worker.effects_topic == f"{worker.app_id}-effects"  # under the app's prefix, like the changelogs


def test_kafka_is_the_version_the_local_broker_runs() -> None:
    image = SERVICES["kafka"]["image"]
    assert image == f"apache/kafka:{KAFKA_VERSION}"
    environment = SERVICES["kafka"]["environment"]
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "PLAINTEXT://kafka:9092" in environment["KAFKA_ADVERTISED_LISTENERS"]
    assert str(environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false"


def test_depends_on_names_services_that_exist() -> None:
    for name, service in SERVICES.items():
        depends = service.get("depends_on", [])
        assert set(depends) <= set(SERVICES), name
        if isinstance(depends, dict):
            for dependency, condition in depends.items():
                if condition["condition"] == "service_healthy":
                    assert "healthcheck" in SERVICES[dependency], f"{name} waits for {dependency}'s health"


def test_bind_mounts_exist_in_the_repository_and_named_volumes_are_declared() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in COMPOSE["volumes"], f"{name} uses undeclared volume {source}"


def test_images_are_built_from_the_dockerfile() -> None:
    for name in [*WORKERS, "simulator"]:
        assert SERVICES[name]["build"] == "."
        assert SERVICES[name]["image"] == "ssi-stream:local"
    assert (REPO / "Dockerfile").is_file()


def test_the_simulator_produces_to_the_workers_topics_with_a_valid_command() -> None:
    simulator = SERVICES["simulator"]
    command = [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", part) for part in simulator["command"]]  # ${VAR:-default}
    arguments = build_parser().parse_args(command)
    assert (arguments.command, arguments.kafka) == ("simulate", True)
    assert arguments.rate > 0
    # It creates missing topics from its own settings: they must be the workers'.
    per_worker = {"SSI_WORKER_ID", "SSI_WEB_PORT", "SSI_WEB_URL"}
    shared = {
        name: value for name, value in ssi_environment(WORKERS["worker-1"]).items() if name not in per_worker
    }
    assert ssi_environment(simulator) == shared
