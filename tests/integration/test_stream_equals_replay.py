"""The stream's daily scores equal `ssi-stream replay` of the same log, on the real broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssi_stream.simulation import SimulationConfig, iter_encoded

from .streaming import StreamEnv, Worker, collect_scores, produce, replay_records, running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def simulated_log() -> list[tuple[str, bytes]]:
    """Several hundred members over several weeks, with jitter, duplicates and broken payloads."""
    config = SimulationConfig(
        members=300, days=21, seed=11, jitter_seconds=900, duplicate_rate=0.01, invalid_rate=0.002
    )
    return list(iter_encoded(config))


def test_one_worker_emits_exactly_the_replayed_daily_scores(
    kafka_bootstrap: str, simulated_log: list[tuple[str, bytes]], tmp_path: Path
) -> None:
    env = StreamEnv(kafka_bootstrap, store="rocksdb://")  # the production store
    expected = {(r["member_id"], r["date"]): r for r in replay_records(simulated_log, env.timeline())}
    assert len(expected) > 3000  # hundreds of members over weeks
    worker = Worker(env.worker_env(tmp_path / "data", "w1"), tmp_path / "w1.log")
    with running(worker):
        produce(kafka_bootstrap, env.events_topic, simulated_log, env.partitions)
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=420, workers=(worker,)
        )
    assert streamed.keys() == expected.keys()
    mismatched = [key for key in expected if streamed[key] != expected[key]]
    assert not mismatched, f"{len(mismatched)} records differ, e.g. {mismatched[:3]}"
