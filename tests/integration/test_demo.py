"""`ssi-stream demo` runs end to end on the real broker and leaves nothing running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaAdminClient

pytestmark = pytest.mark.slow


def test_the_demo_shows_live_scores_and_stops_its_worker(kafka_bootstrap: str, tmp_path: Path) -> None:
    env = {**os.environ, "SSI_BROKER": kafka_bootstrap, "SSI_STREAM_HOME": str(tmp_path)}
    command = [
        sys.executable,
        "-m",
        "ssi_stream.cli",
        "demo",
        "--duration",
        "45",
        "--members",
        "150",
        "--rate",
        "1000",  # what a worker keeps up with on a busy machine: 45,000 events, a month of days
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    progress = [int(n) for n in re.findall(r"(\d+) score records for", result.stdout)]
    assert progress and progress[-1] > 0, result.stdout[-3000:]
    assert progress == sorted(progress)  # scores keep arriving while it runs
    assert re.search(r"demo: first score records [\d.]+ s after the worker was ready", result.stdout)
    assert result.stdout.index("the worker is ready") < result.stdout.index("first score records")
    waiting = [int(n) for n in re.findall(r"(\d+) waiting", result.stdout)]
    assert waiting, "the progress lines do not say how many events wait"
    assert "SSI bands: 0-20" in result.stdout and "next step" in result.stdout
    assert re.search(r"top [\d.]+%", result.stdout), "no industry rank shown"
    # the query API, asked about the top member and its industry while the days keep closing (again
    # after a 503's Retry-After, as a client does): answered
    answers = re.findall(r"API: GET (/\S+) -> (\d+) ", result.stdout)
    assert [path.split("/")[1] for path, _ in answers] == ["members", "industries"], result.stdout[-3000:]
    assert all(status == "200" for _, status in answers), re.findall(r"API: GET .*", result.stdout)
    assert "demo stopped: simulator, worker are down" in result.stdout
    # piped, it says where to look first: the metrics and API URLs come before the progress lines
    assert result.stdout.index("metrics: http://") < result.stdout.index("demo: ")
    group = re.search(r"topics ssi-demo\.(\d+)\.\*", result.stdout)
    assert group
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        app_id = f"ssi-demo-{group.group(1)}"
        described = admin.describe_groups([app_id])[app_id]
        assert described["members"] == [], "the demo's worker is still in its consumer group"
    finally:
        admin.close()
