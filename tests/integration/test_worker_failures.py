"""Nothing lost, nothing counted twice: workers killed mid-stream end with exactly the replayed scores."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import OffsetAndMetadata, TopicPartition

from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.ingest import ingest_group
from ssi_stream.stream.offset_guard import OffsetGuard
from ssi_stream.stream.tables import position_key

from .streaming import (
    StreamEnv,
    Worker,
    collect_scores,
    produce,
    replay_records,
    wait_until_caught_up,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def simulated_log() -> list[tuple[str, bytes]]:
    config = SimulationConfig(members=200, days=14, seed=23, jitter_seconds=600, duplicate_rate=0.01)
    return list(iter_encoded(config))


def _assert_exact(streamed: dict, expected: dict) -> None:
    assert streamed.keys() == expected.keys()
    mismatched = sorted(key for key in expected if streamed[key] != expected[key])
    assert not mismatched, f"{len(mismatched)} records differ; first:\n" + "\n".join(
        f"{key}: {_difference(streamed[key], expected[key])}" for key in mismatched[:6]
    )


def _difference(got: object, want: object, path: str = "") -> str:
    """The leaves where two JSON values differ, as `path: got != want`."""
    if isinstance(got, dict) and isinstance(want, dict):
        keys = sorted(got.keys() | want.keys())
        parts = [_difference(got.get(k), want.get(k), f"{path}.{k}") for k in keys]
        return "; ".join(p for p in parts if p)
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        parts = [_difference(g, w, f"{path}[{i}]") for i, (g, w) in enumerate(zip(got, want, strict=True))]
        return "; ".join(p for p in parts if p)
    return "" if got == want else f"{path}: {got!r} != {want!r}"


def _kill_and_restart(
    bootstrap: str,
    log: list[tuple[str, bytes]],
    tmp_path: Path,
    *,
    while_down: Callable[[str, dict], None],
    before_kill: Callable[[str, dict], None] = lambda group, env: None,
    settings: dict[str, str] | None = None,
    stops: tuple[Literal["kill", "term"], ...] = ("kill",),
) -> tuple[dict, dict, Worker, list[int]]:
    """Run one worker on `log` and stop it mid-stream once per entry of `stops`, evenly spaced over the
    records (one: at a third of them): "kill" is SIGKILL, "term" SIGTERM (and it must exit with 0).
    Before each stop call `before_kill(group, env)`, after it `while_down(group, env)`, then start the
    next worker on the same data dir. Returns (streamed, expected, the last worker, [the record count
    at each stop])."""
    env = StreamEnv(bootstrap)
    expected = {(r["member_id"], r["date"]): r for r in replay_records(log, env.timeline())}
    # a ledger cache far smaller than the population: ledgers evicted, read back from the table, and a
    # restart that starts with none cached
    worker_env = {
        **env.worker_env(tmp_path / "data", "w1"),
        "SSI_LEDGER_CACHE_MEMBERS": "25",
        **(settings or {}),
    }
    workers = [Worker(worker_env, tmp_path / "w1.log") for _ in range(len(stops) + 1)]
    workers[0].start()
    stopped_at: list[int] = []

    def stop_and_restart(count: int) -> None:
        done = len(stopped_at)
        if done == len(stops) or count < len(expected) * (done + 1) // (len(stops) + 2):
            return
        before_kill(worker_env["SSI_APP_ID"], worker_env)
        current = workers[done]
        if stops[done] == "term":  # mid-stream: both readers are in the middle of batches
            code = current.stop()
            assert code == 0, f"exit code {code} on SIGTERM mid-stream\n{current.log_tail()}"
        else:
            current.kill()  # SIGKILL: no commit, no flush, no goodbye
        stopped_at.append(count)
        while_down(worker_env["SSI_APP_ID"], worker_env)
        workers[done + 1].start()

    try:
        produce(bootstrap, env.events_topic, log, env.partitions)
        streamed = collect_scores(
            bootstrap,
            env.scores_topic,
            len(expected),
            timeout=400,
            workers=tuple(workers),
            on_progress=stop_and_restart,
        )
    finally:
        for worker in workers[:-1]:
            worker.kill()
        workers[-1].stop()
    return streamed, expected, workers[-1], stopped_at


def test_a_worker_stopped_then_killed_mid_stream_ends_with_the_exact_scores(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    """SIGTERM at a quarter of the records, while both readers are busy: the batches in progress finish
    before Faust stops its producer (a batch that ran on into the stopped producer crashed the worker
    with exit code 70), and it exits with 0. SIGKILL at half: no commit, no flush. Each time the
    restarted worker resumes from the durable positions."""
    streamed, expected, _, stopped_at = _kill_and_restart(
        kafka_bootstrap, simulated_log, tmp_path, while_down=lambda group, env: None, stops=("term", "kill")
    )
    assert len(stopped_at) == 2 and stopped_at[-1] < len(expected), "not both stopped mid-stream"
    _assert_exact(streamed, expected)


def _stored_effect_positions(bootstrap: str, changelog: str, timeout: float = 60) -> dict[int, int]:
    """The effects positions the close-gates table holds (its changelog's last value per position key)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(changelog, p) for p in consumer.partitions_for_topic(changelog) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        positions: dict[int, int] = {}
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, f"{changelog} not read to its end in {timeout:.0f} s"
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key == position_key(record.partition) and record.value:
                        positions[record.partition] = OffsetGuard.from_bytes(record.value).next_offset or 0
        return positions
    finally:
        consumer.close()


def test_a_stopped_worker_stores_what_it_absorbed_before_it_exits(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    """With `SSI_STATE_WRITE_MS` at 10 minutes the absorber stores nothing while it runs; on SIGTERM it
    stores its state and the effects positions that vouch for it, so the worker started next reads no
    effect again: the stored positions are the effects topic's end offsets."""
    env = StreamEnv(kafka_bootstrap, idle_close_seconds=3600)  # no idle marks after the input stops
    worker_env = {**env.worker_env(tmp_path / "data", "w1"), "SSI_STATE_WRITE_MS": "600000"}
    effects = worker_env["SSI_EFFECTS_TOPIC"]
    worker = Worker(worker_env, tmp_path / "w1.log").start()
    try:
        produce(kafka_bootstrap, env.events_topic, simulated_log[: len(simulated_log) // 4], env.partitions)
        wait_until_caught_up(worker, env.partitions)
        code = worker.stop()
        assert code == 0, f"exit code {code} on SIGTERM\n{worker.log_tail()}"
    finally:
        worker.kill()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    try:
        ends = consumer.end_offsets([TopicPartition(effects, p) for p in range(env.partitions)])
    finally:
        consumer.close()
    assert all(ends.values()), f"some effects partition got nothing: {ends}"
    stored = _stored_effect_positions(kafka_bootstrap, f"{worker_env['SSI_APP_ID']}-close-gates-changelog")
    assert stored == {tp.partition: end for tp, end in ends.items()}


@pytest.mark.fault_suite_only  # a variant of the kill above: `make test` runs that one
def test_a_worker_killed_seconds_after_its_last_state_write_resumes_from_it_with_the_exact_scores(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    """With `SSI_STATE_WRITE_MS` at 5 s the absorber writes its effects positions seldom while the
    stream is busy (closes and ranks still write ledgers, ahead of them): the kill loses seconds of
    absorbed effects, which the restarted worker absorbs again from the stored positions, each once."""
    streamed, expected, _, killed_at = _kill_and_restart(
        kafka_bootstrap,
        simulated_log,
        tmp_path,
        while_down=lambda group, env: None,
        settings={"SSI_STATE_WRITE_MS": "5000"},
    )
    assert killed_at and killed_at[0] < len(expected), "the worker was not killed mid-stream"
    _assert_exact(streamed, expected)


ABSORBED_LINE = re.compile(r"^ssi_effects_absorbed_total\{[^}]*\} (\S+)$", re.MULTILINE)


def _absorbed(port: str) -> float:
    """The effects the worker has absorbed (its ssi_effects_absorbed_total, every series)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except OSError:  # not serving yet
        return 0.0
    return sum(float(value) for value in ABSORBED_LINE.findall(text))


def _wait_until_absorbing_stops(port: str, *, after: float = 0.0, timeout: float = 300) -> None:
    """Wait until the worker has absorbed more than `after` effects, then none for three scrapes a
    second apart."""
    deadline, seen, still = time.monotonic() + timeout, -1.0, 0
    while still < 3:
        assert time.monotonic() < deadline, f"the worker kept absorbing (or never did) for {timeout:.0f} s"
        time.sleep(1.0)
        now = _absorbed(port)
        still = still + 1 if now == seen and now > after else 0
        seen = now


def _open_day_split(log: list[tuple[str, bytes]]) -> tuple[int, int]:
    """Two cuts: the first at an event past 03:00 UTC of its day (that day's predecessor is closed and
    ranked by then: the grace is one hour), the second up to 150 events later, within the same day and
    before 20:00, so that what lies between the cuts closes nothing."""

    def at(index: int) -> datetime:
        return datetime.fromisoformat(orjson.loads(log[index][1])["occurred_at"]).astimezone(UTC)

    first = next(i for i in range(len(log) * 6 // 10, len(log)) if 3 <= at(i).hour < 12)
    day, second = at(first).date(), first
    while second < first + 150 and at(second).date() == day and at(second).hour < 20:
        second += 1
    return first, second


def test_a_worker_killed_idle_with_a_day_open_keeps_what_it_absorbed_of_that_day(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    """Input stops, then a few more events of the open day arrive, which close and rank nothing: the
    absorber keeps the ledgers they change in memory until, idle, it writes them and then the effects
    positions (`SSI_STATE_WRITE_MS`). Killed then, the restarted worker starts at those positions: the
    open day's effects must be in the stored ledgers, or they are lost (a position written ahead of
    its state fails this test)."""
    env = StreamEnv(kafka_bootstrap)
    expected = {(r["member_id"], r["date"]): r for r in replay_records(simulated_log, env.timeline())}
    worker_env = {**env.worker_env(tmp_path / "data", "w1"), "SSI_STATE_WRITE_MS": "1000"}
    first_cut, second_cut = _open_day_split(simulated_log)
    assert second_cut - first_cut >= 50, "too few events of the open day to tell"
    first = Worker(worker_env, tmp_path / "w1.log").start()
    restarted = Worker(worker_env, tmp_path / "w1.log")
    try:
        produce(kafka_bootstrap, env.events_topic, simulated_log[:first_cut], env.partitions)
        _wait_until_absorbing_stops(worker_env["SSI_WEB_PORT"])
        before = _absorbed(worker_env["SSI_WEB_PORT"])
        produce(kafka_bootstrap, env.events_topic, simulated_log[first_cut:second_cut], env.partitions)
        _wait_until_absorbing_stops(worker_env["SSI_WEB_PORT"], after=before)
        time.sleep(2.0)  # the idle write is due 1 s after the last one, and checked every SSI_BATCH_MS
        first.kill()
        restarted.start()
        produce(kafka_bootstrap, env.events_topic, simulated_log[second_cut:], env.partitions)
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=400, workers=(first, restarted)
        )
    finally:
        first.kill()
        restarted.stop()
    _assert_exact(streamed, expected)


def test_two_workers_share_the_partitions_and_one_takes_over_when_the_other_dies(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    env = StreamEnv(kafka_bootstrap)
    expected = {(r["member_id"], r["date"]): r for r in replay_records(simulated_log, env.timeline())}
    survivor = Worker(env.worker_env(tmp_path / "a", "wa"), tmp_path / "wa.log").start()
    victim = Worker(env.worker_env(tmp_path / "b", "wb"), tmp_path / "wb.log").start()
    killed_at: list[int] = []

    def kill_one(count: int) -> None:
        if not killed_at and count >= len(expected) // 3:
            victim.kill()
            killed_at.append(count)

    try:
        produce(kafka_bootstrap, env.events_topic, simulated_log, env.partitions)
        streamed = collect_scores(
            kafka_bootstrap,
            env.scores_topic,
            len(expected),
            timeout=400,
            workers=(survivor, victim),
            on_progress=kill_one,
        )
    finally:
        victim.kill()
        survivor.stop()
    assert killed_at and killed_at[0] < len(expected)
    shared = "Assigned partitions" in victim.log_tail(10_000) or "assigned" in victim.log_tail(10_000).lower()
    assert shared, "the second worker never took part in the group"
    _assert_exact(streamed, expected)


def _wait_for_commit(bootstrap: str, group: str, topic: str, timeout: float = 120) -> None:
    """Wait until `group` has a committed offset on some partition of `topic`."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    deadline = time.monotonic() + timeout
    try:
        while True:
            committed = admin.list_group_offsets({group: None}).get(group, {})
            if any(tp.topic == topic and meta.offset >= 0 for tp, meta in committed.items()):
                return
            assert time.monotonic() < deadline, f"{group} committed nothing on {topic} in {timeout:.0f} s"
            time.sleep(0.5)
    finally:
        admin.close()


def _commit_ahead(bootstrap: str, group: str, topic: str, skip: int, timeout: float = 60) -> dict[int, int]:
    """Move the group's committed offsets of `topic` `skip` messages forward, as Faust does when it
    acknowledges messages it skipped during a recovery (faust-streaming #596). Waits until the group
    has no live member (a killed worker's session must expire first). Returns the new offsets."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    deadline = time.monotonic() + timeout
    try:
        while admin.describe_groups([group])[group]["members"]:
            assert time.monotonic() < deadline, f"group {group} still has members"
            time.sleep(0.5)
        committed = admin.list_group_offsets({group: None})[group]
        mine = [tp for tp in committed if tp.topic == topic and committed[tp].offset >= 0]
        ends = consumer.end_offsets(mine)
        moved = {tp: min(committed[tp].offset + skip, ends[tp]) for tp in mine}
        admin.alter_group_offsets(group, {tp: OffsetAndMetadata(o, "", -1) for tp, o in moved.items()})
    finally:
        consumer.close()
        admin.close()
    return {tp.partition: offset for tp, offset in moved.items()}


def test_input_committed_past_what_the_worker_processed_is_read_back_not_lost(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    """Committed offsets are hints, never the truth: the worker's own readers commit both topics to
    `<app>-ingest` for lag tools only and resume from the positions stored with the state, and Faust's
    group (which still subscribes to the effects topic) commits what it merely dropped. Moving all of
    those commits ahead while the worker is down loses nothing."""
    moved: list[dict[int, int]] = []

    def skip_ahead(group: str, worker_env: dict) -> None:
        events, effects = worker_env["SSI_EVENTS_TOPIC"], worker_env["SSI_EFFECTS_TOPIC"]
        moved.append(_commit_ahead(kafka_bootstrap, group, effects, skip=25))
        moved.append(_commit_ahead(kafka_bootstrap, ingest_group(group), effects, skip=25))
        moved.append(_commit_ahead(kafka_bootstrap, ingest_group(group), events, skip=25))

    def committed(group: str, worker_env: dict) -> None:
        """Every group has committed the topics it reads (Faust's commits on its own interval: a fast
        worker can reach the kill before its first one)."""
        events, effects = worker_env["SSI_EVENTS_TOPIC"], worker_env["SSI_EFFECTS_TOPIC"]
        readers = ((group, effects), (ingest_group(group), effects), (ingest_group(group), events))
        for reader, topic in readers:
            _wait_for_commit(kafka_bootstrap, reader, topic)

    streamed, expected, _, _ = _kill_and_restart(
        kafka_bootstrap, simulated_log, tmp_path, while_down=skip_ahead, before_kill=committed
    )
    assert all(moved) and all(any(m.values()) for m in moved), f"committed offsets not moved: {moved}"
    _assert_exact(streamed, expected)
