"""A worker whose broker goes away: /readyz says so (and ready again when it is back), the log keeps a few
lines instead of thousands, and SIGTERM stops the worker within SSI_SHUTDOWN_TIMEOUT_SECONDS.

The broker is this test's own (the session's is shared), stopped with SIGTERM and restarted on the same
address with its data by `LocalBroker.up`, as `ssi-stream kafka up` does after a crash.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import BrokerState, LocalBroker
from ssi_stream.simulation import SimulationConfig, iter_encoded

from .streaming import StreamEnv, Worker, produce

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(400)]

SHUTDOWN_TIMEOUT_SECONDS = 8
#: How long the broker stays down while the worker's log lines are counted.
OUTAGE_SECONDS = 30
#: ERROR and WARNING lines allowed for that outage: one per cause, a handful of causes (the worker wrote
#: 4,440 in the first minute of an outage when idle, 250,000 in 30 s when busy, before log_limits).
MAX_LOG_LINES = 40
_NOISY = re.compile(r"\] \[(ERROR|WARNING)\] ")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    managed = LocalBroker(ssi_home(), tmp_path / "broker")
    try:
        yield managed
    finally:
        managed.down(timeout=10)


def _readyz(port: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())
    except OSError:  # not listening yet
        return 0, {}


def _events_consumed(port: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.split()[-1]) for line in text.splitlines() if line.startswith("ssi_events_consumed_total{")
    )


def _wait(what: str, condition: Callable[[], bool], timeout: float, worker: Worker) -> float:
    """Seconds until `condition()` held (fails after `timeout`)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, (
            f"{what}: not within {timeout:.0f} s\n{worker.log_tail()}"
        )
        time.sleep(0.25)
    return time.monotonic() - started


def _stop(broker: LocalBroker, state: BrokerState, worker: Worker) -> None:
    """Stop the broker but keep its state file, so that `up` restarts it on the same address."""
    os.kill(state.pid, signal.SIGTERM)
    _wait("the broker gone", lambda: not broker.status(timeout=1).running, 30, worker)


def test_readiness_logs_and_shutdown_while_the_broker_is_unreachable(
    broker: LocalBroker, tmp_path: Path
) -> None:
    state = broker.up(timeout=120)
    env = StreamEnv(state.bootstrap)
    worker_env = {
        **env.worker_env(tmp_path / "data", "w1"),
        "SSI_SHUTDOWN_TIMEOUT_SECONDS": str(SHUTDOWN_TIMEOUT_SECONDS),
    }
    port = worker_env["SSI_WEB_PORT"]
    worker = Worker(worker_env, tmp_path / "w1.log").start()
    log = list(iter_encoded(SimulationConfig(members=150, days=10, seed=11)))
    try:
        _wait("the worker ready", lambda: _readyz(port)[0] == 200, 120, worker)
        produce(state.bootstrap, env.events_topic, log, env.partitions)
        _wait("the worker busy", lambda: _events_consumed(port) > 0, 60, worker)

        # 1. The broker dies while the worker is busy: not ready within seconds, and a short log.
        log_start = worker.log_path.stat().st_size
        _stop(broker, state, worker)
        down_at = time.monotonic()
        _wait("/readyz 503", lambda: _readyz(port)[0] == 503, 40, worker)
        status, body = _readyz(port)
        assert status == 503 and body["error"] == "not_ready" and "broker unreachable" in body["message"]
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))  # the outage itself
        with open(worker.log_path, "rb") as written:
            written.seek(log_start)
            outage_log = written.read().decode(errors="replace").splitlines()
        noisy = [line for line in outage_log if _NOISY.search(line)]
        assert 0 < len(noisy) <= MAX_LOG_LINES, f"{len(noisy)} ERROR/WARNING lines:\n" + "\n".join(noisy[:60])

        # 2. The broker is back (same address, same data): ready again.
        assert broker.up(timeout=120).bootstrap == state.bootstrap
        _wait("/readyz 200 again", lambda: _readyz(port)[0] == 200, 120, worker)

        # 3. SIGTERM while the broker is down and work is in flight: stopped within the bound.
        consumed = _events_consumed(port)
        produce(state.bootstrap, env.events_topic, log, env.partitions)  # again: redeliveries to process
        _wait("the worker busy again", lambda: _events_consumed(port) > consumed, 60, worker)
        _stop(broker, broker.read_state() or state, worker)
        assert worker.process is not None
        worker.process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        try:
            code = worker.process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS + 20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {SHUTDOWN_TIMEOUT_SECONDS + 20} s after SIGTERM\n{worker.log_tail()}")
        took = time.monotonic() - stopping
    finally:
        worker.kill()
    tail = worker.log_tail(200)
    assert took <= SHUTDOWN_TIMEOUT_SECONDS + 5, f"stopped after {took:.1f} s"
    assert code == 1, f"exit code {code} after {took:.1f} s\n{tail}"
    assert f"not stopped {SHUTDOWN_TIMEOUT_SECONDS} s after SIGTERM" in tail
    # what the limiter held back is still counted, in the lines written at exit
    held_back = [int(m.group(1)) for m in re.finditer(r"\] (\d+) more like this in the last", tail)]
    assert held_back and max(held_back) > 100, tail
