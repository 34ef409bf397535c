"""The local broker manager against real Kafka processes (each test owns its own broker)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import LocalBroker, answers_metadata, free_port
from ssi_stream.ops.kafka_dist import KafkaSetupError

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    managed = LocalBroker(ssi_home(), tmp_path / "instance")
    try:
        yield managed
    finally:
        managed.down(timeout=10)


def test_up_status_down_lifecycle(broker: LocalBroker) -> None:
    state = broker.up()
    assert answers_metadata(state.bootstrap)
    status = broker.status()
    assert status.running and status.state == state
    assert broker.down() is True
    assert not broker.status().running
    assert not answers_metadata(state.bootstrap, timeout=2)
    assert broker.down() is False


def test_second_up_is_idempotent_and_reuses_the_cache(broker: LocalBroker) -> None:
    first = broker.up()
    started = time.monotonic()
    second = broker.up()
    assert second == first  # same process, same address
    assert time.monotonic() - started < 5


def test_up_after_a_crash_restarts_on_the_same_address_and_keeps_topics(broker: LocalBroker) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    first = broker.up()
    admin = KafkaAdminClient(bootstrap_servers=first.bootstrap)
    admin.create_topics([NewTopic("survives.crash", 2, 1)])
    admin.close()
    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while "stale state" not in broker.status(timeout=1).detail and time.monotonic() < deadline:
        time.sleep(0.1)  # the process takes a moment to disappear after SIGKILL
    assert "stale state" in broker.status().detail
    second = broker.up()
    assert second.pid != first.pid
    assert second.bootstrap == first.bootstrap
    admin = KafkaAdminClient(bootstrap_servers=second.bootstrap)
    assert "survives.crash" in admin.list_topics()
    admin.close()


def test_a_busy_port_gets_a_clear_error(broker: LocalBroker) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(KafkaSetupError, match=f"port {port} on 127.0.0.1 is already in use"):
            broker.up(port=port)
    assert not broker.status().running


def test_cli_up_on_a_given_port_and_bootstrap_for_scripts(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SSI_STREAM_HOME": str(tmp_path / "home")}
    # The cache lives in the real home; share it so this test needs no second download.
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dist").symlink_to(ssi_home() / "dist")
    cli = [sys.executable, "-m", "ssi_stream.cli", "kafka"]
    try:
        up = subprocess.run(
            [*cli, "up", "--port", str(port)], env=env, capture_output=True, text=True, timeout=150
        )
        assert up.returncode == 0, up.stderr
        status = subprocess.run([*cli, "status", "--bootstrap"], env=env, capture_output=True, text=True)
        assert status.stdout.strip() == f"127.0.0.1:{port}"
        logs = subprocess.run([*cli, "logs", "-n", "5"], env=env, capture_output=True, text=True)
        assert logs.returncode == 0 and logs.stdout.strip()
    finally:
        down = subprocess.run([*cli, "down"], env=env, capture_output=True, text=True, timeout=60)
    assert down.returncode == 0 and "stopped" in down.stdout


def test_a_cached_install_needs_no_maven(broker: LocalBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssi_stream.ops import kafka_dist

    real_which = kafka_dist.shutil.which
    monkeypatch.setattr(kafka_dist.shutil, "which", lambda name: None if name == "mvn" else real_which(name))
    state = broker.up()  # the session already installed Kafka: no mvn, no network
    assert answers_metadata(state.bootstrap)


def test_a_broker_dying_at_start_shows_its_log(broker: LocalBroker) -> None:
    broker.up()
    broker.down()
    meta = broker.data_dir / "meta.properties"
    meta.write_text(meta.read_text().replace("node.id=1", "node.id=7"))  # storage now belongs to another node
    with pytest.raises(KafkaSetupError, match="exited at start") as failure:
        broker.up(timeout=60)
    message = str(failure.value)
    assert "last lines of" in message and "Stored node id 7" in message  # the cause, from the log
    assert not broker.status().running
