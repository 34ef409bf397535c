"""The stream's daily scores equal `ssi-stream replay` of the same log, on the real broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssi_stream.ops.topics import partition_counts
from ssi_stream.simulation import SimulationConfig, iter_encoded
from tests.unit.schemas.test_score_record_schema import check_score_record

from .streaming import StreamEnv, Worker, collect_scores, produce, read_topic, replay_outputs, running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def simulated_log() -> list[tuple[str, bytes]]:
    """Several hundred members over several weeks, with jitter, duplicates, broken payloads and CRM
    outcome events."""
    config = SimulationConfig(
        members=300,
        days=21,
        seed=11,
        jitter_seconds=900,
        duplicate_rate=0.01,
        invalid_rate=0.002,
        outcomes=True,
    )
    return list(iter_encoded(config))


def test_one_worker_emits_exactly_the_replayed_daily_scores(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    env = StreamEnv(kafka_bootstrap, store="rocksdb://")  # the production store
    records, dead_letters, alerts = replay_outputs(simulated_log, env.timeline())
    assert alerts, "the population should raise score alerts"
    expected = {(r["member_id"], r["date"]): r for r in records}
    assert dead_letters, "the log should hold broken payloads"
    assert len(expected) > 3000  # hundreds of members over weeks
    # ranks come from every partition's day shares: compared below with replay's one board
    assert sum(r["industry_rank"] is not None for r in records) > len(records) / 2
    assert sum(r["network_rank"] is not None for r in records) > len(records) / 4
    assert sum("outcomes" in r for r in records) > 20, "members' outcomes, counted in their ledgers"
    worker = Worker(env.worker_env(tmp_path / "data", "w1"), tmp_path / "w1.log")
    with running(worker):
        produce(kafka_bootstrap, env.events_topic, simulated_log, env.partitions)
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=420, workers=(worker,)
        )
        streamed_dead = read_topic(kafka_bootstrap, env.dlq_topic, len(dead_letters), timeout=60)
        streamed_alerts = read_topic(
            kafka_bootstrap, env.alerts_topic, len(alerts), timeout=60, keyed_by_member=True
        )
    assert streamed.keys() == expected.keys()
    for record in streamed.values():  # what the stream emits is a valid v2 score record
        check_score_record(record)
    mismatched = [key for key in expected if streamed[key] != expected[key]]
    assert not mismatched, f"{len(mismatched)} records differ, e.g. {mismatched[:3]}"

    # The same alerts, one per crossing (the stream emits each member's in date order, replay by date).
    def alert_key(alert: dict) -> tuple:
        return alert["member_id"], alert["date"], alert["kind"]

    assert sorted(streamed_alerts, key=alert_key) == sorted(alerts, key=alert_key)

    # Every rejection reached the dead-letter topic, with the reason replay gives and where it came from.
    def rejection(record: dict) -> tuple:
        return record["reason"], record["field"], record["payload"]

    assert sorted(map(rejection, streamed_dead)) == sorted(map(rejection, dead_letters))
    assert all(r["source"]["topic"] == env.events_topic and r["source"]["offset"] >= 0 for r in streamed_dead)
    # The worker created its topics with the configured partition count.
    topics = [
        env.events_topic,
        env.dlq_topic,
        env.scores_topic,
        f"t{env.run_id}.effects",
        f"t{env.run_id}.alerts",
    ]
    assert partition_counts(kafka_bootstrap, topics) == dict.fromkeys(topics, env.partitions)
