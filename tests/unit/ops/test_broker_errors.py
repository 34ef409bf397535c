"""The broker manager's error paths that need no running broker."""

import json
from pathlib import Path

import pytest

from ssi_stream.cli import main
from ssi_stream.ops import kafka_dist
from ssi_stream.ops.kafka_broker import LocalBroker, free_port, port_is_free
from ssi_stream.ops.kafka_dist import KafkaSetupError, install_kafka


def test_missing_java_is_named_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KafkaSetupError, match=r"`java` was not found on PATH: install a Java 17\+"):
        install_kafka(tmp_path / "home")


def test_missing_mvn_is_named_when_kafka_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        kafka_dist.shutil, "which", lambda name: None if name == "mvn" else "/usr/bin/" + name
    )
    with pytest.raises(KafkaSetupError, match="`mvn` was not found on PATH"):
        install_kafka(tmp_path / "home")


def test_status_reports_a_stale_state_file_as_not_running(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path, tmp_path / "broker")
    broker.instance_dir.mkdir()
    dead_pid = 2**22 + 12345  # above the default pid_max: never a live process
    state = {
        "bootstrap": "127.0.0.1:1",
        "port": 1,
        "controller_port": 2,
        "pid": dead_pid,
        "log_path": "x",
        "data_dir": "y",
        "kafka_version": "3.9.1",
        "started_at": "2026-01-01T00:00:00+00:00",
    }
    broker.state_path.write_text(json.dumps(state))
    status = broker.status()
    assert not status.running
    assert "stale state" in status.detail and str(dead_pid) in status.detail


def test_a_corrupt_state_file_gets_an_actionable_error(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path, tmp_path / "broker")
    broker.instance_dir.mkdir()
    broker.state_path.write_text("{not json")
    with pytest.raises(KafkaSetupError, match="remove it and run `ssi-stream kafka up`"):
        broker.status()


def test_status_without_a_broker_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kafka", "--home", str(tmp_path), "status"]) == 1
    assert "not started" in capsys.readouterr().out
    assert main(["kafka", "--home", str(tmp_path), "status", "--bootstrap"]) == 1
    assert capsys.readouterr().out == ""


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert port_is_free(port)


def test_a_secure_test_broker_refuses_users_its_config_syntax_cannot_hold(tmp_path: Path) -> None:
    from ssi_stream.ops.kafka_broker import SecureListeners

    files = {"keystore": tmp_path / "k.p12", "keystore_password": "x", "ca_file": tmp_path / "ca.pem"}
    with pytest.raises(ValueError, match="super user 'admin' must be one of the users"):
        SecureListeners(**files, users={"ssi": "pw"})
    with pytest.raises(ValueError, match="letters, digits"):
        SecureListeners(**files, users={"admin": 'pw"; user_x="y'})
    listeners = SecureListeners(**files, users={"admin": "a-pw", "ssi": "s-pw"})
    assert listeners.scram_arguments().count("--add-scram") == 4  # two users, two SCRAM mechanisms
    properties = listeners.server_properties(9093, 9094, 9095)
    assert properties["advertised.listeners"] == "SASL_SSL://127.0.0.1:9093,SSL://127.0.0.1:9094"
    assert properties["listener.name.ssl.ssl.client.auth"] == "required"
    assert listeners.client("ssi").describe() == "SASL_SSL SCRAM-SHA-512 as 'ssi'"
