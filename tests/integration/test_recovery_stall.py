"""A table recovery whose changelog records Faust's consumer dropped does not hang the worker.

The worker runs with a fault injected (tests/integration/injected): in its table recovery, the first
records fetched of each changelog partition are dropped, as Faust's consumer drops them when a fetch in
flight crosses the recovery's seek (two workers joining seconds apart hung one this way in CI: the last
day never closed). The recovery watch seeks those partitions again; the scores end exactly as replay's.
"""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

import pytest

from ssi_stream.simulation import SimulationConfig, iter_encoded

from .streaming import StreamEnv, Worker, collect_scores, produce, replay_records, wait_until_caught_up

pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(600)]

INJECTED = Path(__file__).resolve().parent / "injected"
RESEEKS = re.compile(r"^ssi_recovery_reseeks_total (\S+)$", re.MULTILINE)


def test_a_recovery_that_lost_its_changelog_records_is_read_again_and_the_scores_are_exact(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    log = list(iter_encoded(SimulationConfig(members=40, days=5, seed=11, jitter_seconds=300)))
    env = StreamEnv(kafka_bootstrap)
    expected = {(r["member_id"], r["date"]): r for r in replay_records(log, env.timeline())}
    first = Worker(env.worker_env(tmp_path / "data", "w1"), tmp_path / "w1.log").start()
    half = len(log) // 2
    try:
        produce(kafka_bootstrap, env.events_topic, log[:half], env.partitions)
        wait_until_caught_up(first, env.partitions)
    finally:
        assert first.stop() == 0, first.log_tail()
    # the next worker restores every table from its changelog (memory store), losing the first records
    # fetched of each partition
    injected_env = {
        **first.env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(INJECTED), os.environ.get("PYTHONPATH")])),
        "SSI_TEST_DROP_RECOVERED_CHANGELOG": "1",
    }
    second = Worker(injected_env, tmp_path / "w2.log").start()
    try:
        produce(kafka_bootstrap, env.events_topic, log[half:], env.partitions)
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=300, workers=(second,)
        )
        metrics = f"http://127.0.0.1:{second.env['SSI_WEB_PORT']}/metrics"
        with urllib.request.urlopen(metrics, timeout=10) as answer:
            reseeks = float(RESEEKS.search(answer.read().decode()).group(1))  # type: ignore[union-attr]
    finally:
        code = second.stop()
    text = (tmp_path / "w2.log").read_text(errors="replace")
    assert "injected fault: dropped" in text, "the fault was not injected: this test proves nothing"
    assert "reading them again" in text, second.log_tail()
    assert reseeks >= 12, reseeks  # each of the 3 tables' 4 partitions lost its first records
    assert code == 0, second.log_tail()
    assert streamed == expected
