"""Fault scenarios on the real broker that the other integration tests do not cover, each ending with a
comparison to `ssi-stream replay` of the same log (`make faults` runs these with every other test
marked `faults`; README, "Guarantees", says what each fault costs):

- corrupt state: a member's changelog record holds a ledger this version cannot read;
- signals under a backlog: three SIGKILLs and a SIGTERM while a worker drains a waiting log;
- the broker itself killed with SIGKILL while the worker is busy, and restarted;
- redeliveries long after their day (an upstream replaying its outbox after a week).
"""

from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer

from ssi_stream.ledger.member_ledger import encode_ledger, new_ledger
from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import LocalBroker
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import DedupPolicy

from .streaming import StreamEnv, Worker, collect_scores, produce, replay_records, running

pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(600)]

LONELY = "lonely-0001"
START = datetime(2026, 3, 2, tzinfo=UTC)


def _exact(streamed: dict, expected: dict) -> None:
    assert streamed.keys() == expected.keys(), (
        f"{len(streamed.keys() - expected.keys())} extra, {len(expected.keys() - streamed.keys())} missing"
    )
    mismatched = sorted(key for key in expected if streamed[key] != expected[key])
    assert not mismatched, f"{len(mismatched)} of {len(expected)} records differ, e.g. {mismatched[:3]}"


def _get(port: str, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def _wait(what: str, condition: Callable[[], bool], timeout: float, *workers: Worker) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s\n" + "\n".join(
            w.log_tail() for w in workers
        )
        time.sleep(0.5)


def _occurred(entry: tuple[str, bytes]) -> datetime:
    return datetime.fromisoformat(orjson.loads(entry[1])["occurred_at"].replace("Z", "+00:00"))


def _post(number: int, at: datetime) -> tuple[str, bytes]:
    wire = {
        "event_id": f"lonely-{number}",
        "type": "post_published",
        "member_id": LONELY,
        "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "schema_version": 1,
        "post_id": f"post-{number}",
        "format": "post",
    }
    return LONELY, orjson.dumps(wire)


def test_a_member_with_an_unreadable_ledger_is_reported_and_everyone_else_scores_as_in_replay(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Days 1-3 are scored; the member's changelog record is then replaced by a ledger of an unknown
    version; after a restart (which restores the table from the changelog) days 4-6 arrive. The member is
    left out (its effects quarantined whole, the API answers 503 unreadable_state) and every other record
    equals replay. The member has no industry and no connections, so nobody else's ranks depend on it."""
    env = StreamEnv(kafka_bootstrap, idle_close_seconds=5)  # each phase's last day closes once input stops
    base = [
        (k, v) for k, v in iter_encoded(SimulationConfig(members=60, days=6, seed=9)) if v.startswith(b"{")
    ]
    lonely = [_post(n, START + timedelta(days=n // 2, hours=9 + 6 * (n % 2))) for n in range(12)]
    log = sorted(base + lonely, key=_occurred)  # each partition's events in event-time order
    split = START + timedelta(days=3)
    first = [entry for entry in log if _occurred(entry) < split]
    second = log[len(first) :]
    assert all(_occurred(entry) >= split for entry in second)
    expected_all = {(r["member_id"], r["date"]): r for r in replay_records(log, env.timeline())}
    after = (START + timedelta(days=3)).date().isoformat()
    expected = {key: r for key, r in expected_all.items() if key[0] != LONELY or key[1] < after}
    assert any(key[0] == LONELY for key in expected) and len(expected) < len(expected_all)
    worker_env = env.worker_env(tmp_path / "data", "w1")  # memory:// store: a restart restores everything
    port = worker_env["SSI_WEB_PORT"]
    phase_one = {key: r for key, r in expected.items() if key[1] < after}

    worker = Worker(worker_env, tmp_path / "w1.log")
    with running(worker):
        produce(kafka_bootstrap, env.events_topic, first, env.partitions)
        collect_scores(kafka_bootstrap, env.scores_topic, len(phase_one), timeout=240, workers=(worker,))
        _wait("the member's score", lambda: _get(port, f"/members/{LONELY}/score")[0] == 200, 60, worker)

    corrupt = bytearray(encode_ledger(new_ledger(DedupPolicy())))
    corrupt[0] = 99  # a ledger version this code does not read
    changelog = f"{worker_env['SSI_APP_ID']}-members-changelog"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        home = partition_for(LONELY, env.partitions)
        producer.send(changelog, key=LONELY.encode(), value=bytes(corrupt), partition=home).get(timeout=30)
    finally:
        producer.close()

    restarted = Worker(worker_env, tmp_path / "w1.log")
    with running(restarted):
        produce(kafka_bootstrap, env.events_topic, second, env.partitions)
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=300, workers=(restarted,)
        )
        status, body = _get(port, f"/members/{LONELY}/score")
        members = sorted({member for member, _ in expected} - {LONELY})
        others = [_get(port, f"/members/{member}/score")[0] for member in members]
        quarantined = _count(kafka_bootstrap, worker_env["SSI_APP_ID"] + "-quarantine", 6)
        assert restarted.process is not None and restarted.process.poll() is None, "the worker kept running"
    _exact(streamed, expected)  # and no record of the member after the corruption
    assert status == 503 and body["error"] == "unreadable_state" and LONELY in body["message"]
    assert set(others) == {200}  # everyone else answers with a score
    assert quarantined == 6  # its six posts of days 4-6, each kept whole


def _count(bootstrap: str, topic: str, at_least: int) -> int:
    """Records on `topic` once at least `at_least` arrived (and nothing more within a few seconds)."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    seen, deadline, quiet_until = 0, time.monotonic() + 60, None
    try:
        while time.monotonic() < deadline and (quiet_until is None or time.monotonic() < quiet_until):
            batch = sum(len(records) for records in consumer.poll(timeout_ms=500).values())
            seen += batch
            if seen >= at_least and (batch or quiet_until is None):
                quiet_until = time.monotonic() + 5
    finally:
        consumer.close()
    return seen


def test_redeliveries_a_week_after_their_day_change_nothing_in_the_stream_as_in_replay(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A tenth of the first week's events is sent again in the third week (7-14 days after their own day,
    past the members' exact ids): the redelivery filter recognises them, in the stream as in replay, and
    the records are those of the log without them."""
    env = StreamEnv(kafka_bootstrap)
    log = [
        (k, v) for k, v in iter_encoded(SimulationConfig(members=60, days=18, seed=21)) if v.startswith(b"{")
    ]
    week_one = [entry for entry in log if _occurred(entry) < START + timedelta(days=7)]
    resent = week_one[::10]
    at = next(i for i, entry in enumerate(log) if _occurred(entry) >= START + timedelta(days=14))
    with_copies = log[:at] + resent + log[at:]  # the outbox replayed at the start of day 15
    expected = {(r["member_id"], r["date"]): r for r in replay_records(log, env.timeline())}
    replayed = {(r["member_id"], r["date"]): r for r in replay_records(with_copies, env.timeline())}
    assert replayed == expected  # replay recognises every copy
    worker_env = env.worker_env(tmp_path / "data", "w1") | {"SSI_STORE": "rocksdb://"}
    worker = Worker(worker_env, tmp_path / "w1.log")
    with running(worker):
        produce(kafka_bootstrap, env.events_topic, with_copies, env.partitions)
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=300, workers=(worker,)
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{worker_env['SSI_WEB_PORT']}/metrics") as response:
            metrics = response.read().decode()
    _exact(streamed, expected)
    recognised = [line for line in metrics.splitlines() if line.startswith("ssi_late_redeliveries_total ")]
    assert recognised and float(recognised[0].split()[1]) >= len(resent), recognised


@pytest.mark.fault_suite_only
def test_three_sigkills_and_a_sigterm_while_draining_a_backlog_end_with_the_replayed_scores(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The whole log waits before the worker starts; it is killed with SIGKILL at a fifth, two fifths and
    three fifths of the records and stopped with SIGTERM at four fifths (exit 0, promptly), restarted on
    the same RocksDB data each time."""
    env = StreamEnv(kafka_bootstrap, store="rocksdb://")
    log = list(
        iter_encoded(SimulationConfig(members=200, days=14, seed=31, jitter_seconds=600, duplicate_rate=0.01))
    )
    expected = {(r["member_id"], r["date"]): r for r in replay_records(log, env.timeline())}
    worker_env = env.worker_env(tmp_path / "data", "w1")
    produce(kafka_bootstrap, env.events_topic, log, env.partitions)  # a backlog
    workers = [Worker(worker_env, tmp_path / "w1.log") for _ in range(5)]
    workers[0].start()
    plan = [(len(expected) * n // 5, signal.SIGKILL if n != 4 else signal.SIGTERM) for n in (1, 2, 3, 4)]
    done: list[tuple[int, str, float]] = []

    def interrupt(count: int) -> None:
        if len(done) < len(plan) and count >= plan[len(done)][0]:
            current, sent = workers[len(done)], plan[len(done)][1]
            assert current.process is not None
            started = time.monotonic()
            current.process.send_signal(sent)
            code = current.process.wait(timeout=60)
            done.append((count, f"{sent.name} -> {code}", time.monotonic() - started))
            if sent is signal.SIGTERM:
                assert code == 0, f"SIGTERM while busy: exit {code}\n{current.log_tail()}"
            workers[len(done)].start()

    try:
        streamed = collect_scores(
            kafka_bootstrap,
            env.scores_topic,
            len(expected),
            timeout=500,
            workers=tuple(workers),
            on_progress=interrupt,
        )
    finally:
        for worker in workers:
            worker.stop()
    assert len(done) == 4 and all(count < len(expected) for count, _, _ in done), done
    assert done[3][2] < 30, f"SIGTERM took {done[3][2]:.1f} s"
    _exact(streamed, expected)


@pytest.mark.fault_suite_only
def test_the_broker_killed_and_restarted_while_the_worker_is_busy_ends_with_the_replayed_scores(
    tmp_path: Path,
) -> None:
    """This test's own broker (the session's is shared) is killed with SIGKILL while the worker drains a
    backlog, stays down 20 s, and is restarted on the same address with its data."""
    broker = LocalBroker(ssi_home(), tmp_path / "broker")
    try:
        state = broker.up(timeout=120)
        env = StreamEnv(state.bootstrap)
        log = list(iter_encoded(SimulationConfig(members=150, days=10, seed=12, duplicate_rate=0.01)))
        expected = {(r["member_id"], r["date"]): r for r in replay_records(log, env.timeline())}
        produce(state.bootstrap, env.events_topic, log, env.partitions)
        worker = Worker(env.worker_env(tmp_path / "data", "w1"), tmp_path / "w1.log")
        killed: list[int] = []

        def kill_broker(count: int) -> None:
            if not killed and count >= len(expected) // 3:
                os.kill(state.pid, signal.SIGKILL)
                killed.append(count)
                _wait("the broker gone", lambda: not broker.status(timeout=1).running, 30, worker)
                time.sleep(20)
                assert broker.up(timeout=120).bootstrap == state.bootstrap
                assert worker.process is not None and worker.process.poll() is None, "the worker died"

        with running(worker):
            streamed = collect_scores(
                state.bootstrap,
                env.scores_topic,
                len(expected),
                timeout=500,
                workers=(worker,),
                on_progress=kill_broker,
            )
        assert killed and killed[0] < len(expected)
        _exact(streamed, expected)
    finally:
        broker.down(timeout=10)
