"""Where one worker's time goes: produce a simulated log, start `ssi-stream worker` on it, sample it with
py-spy for 20 s, print the hottest frames (self time) and the agents' and Kafka clients' shares.

    .venv/bin/pip install -e '.[bench]'            # py-spy
    SSI_STREAM_HOME=bench/results/home .venv/bin/ssi-stream kafka up
    SSI_STREAM_HOME=bench/results/home .venv/bin/python bench/profile_worker.py [--members 500] [--days 7]

`--inclusive` also prints the functions of the worker's own code with the most samples under them.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from stream_bench import drop_topics

from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.kafka_broker import free_port
from ssi_stream.ops.kafka_security import load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.producer import produce_events

RESULTS = Path(__file__).resolve().parent / "results"
GROUPS = {
    "agents (ScoringTopology)": "ScoringTopology.",
    "Faust Topic.send": "Topic.send",
    "aiokafka produce requests": "Sender._send_produce_req",
    "Faust fetcher": "Fetcher._fetcher",
    "idle (select)": "EpollSelector.select",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=20, help="how long py-spy samples")
    parser.add_argument("--inclusive", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env()
    bootstrap = resolve_bootstrap(settings)
    security = load_security(settings)
    run = f"profile-{uuid.uuid4().hex[:8]}"
    workdir = RESULTS / run
    workdir.mkdir(parents=True)
    partitions = 8
    events = f"bench.{run}.events"
    ensure_topics(bootstrap, [TopicSpec(events, partitions)], security=security)
    log = list(iter_encoded(SimulationConfig(members=args.members, days=args.days, seed=1)))
    produce_events(bootstrap, events, log, security=security)
    env = {
        **os.environ,
        "SSI_BROKER": bootstrap,
        "SSI_APP_ID": run,
        "SSI_EVENTS_TOPIC": events,
        **{
            f"SSI_{name.upper()}_TOPIC": f"bench.{run}.{name}"
            for name in ("effects", "dlq", "scores", "alerts")
        },
        "SSI_PARTITIONS": str(partitions),
        "SSI_STORE": "memory://",
        "SSI_DATA_DIR": str(workdir / "data"),
        "SSI_WEB_PORT": str(free_port()),
    }
    with open(workdir / "worker.log", "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ssi_stream.cli", "worker"], env=env, stdout=log, stderr=log
        )
    try:
        time.sleep(8)  # start-up and group join; then it is busy with the log
        raw = workdir / "profile.txt"
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        sampling = ["-d", str(args.seconds), "-r", "200", "-f", "raw", "-o", str(raw)]
        subprocess.run([spy, "record", "-p", str(worker.pid), *sampling])
    finally:
        worker.kill()
        drop_topics(bootstrap, security, run)
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    shares: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        samples = int(count)
        total += samples
        frames = stack.split(";")
        self_time[frames[-1]] += samples
        for frame in set(frames):
            if "ssi_stream/" in frame:  # "function (ssi_stream/module.py:line)" -> "function (module.py)"
                function, where = frame.split(" (", 1)
                inclusive[f"{function} ({where.split('ssi_stream/')[1].split(':')[0]})"] += samples
        for name, marker in GROUPS.items():
            if any(marker in frame for frame in frames):
                shares[name] += samples
    print(f"{total} samples")
    for name in GROUPS:
        print(f"{shares[name] / total:6.1%}  {name}")
    for frame, samples in self_time.most_common(10):
        print(f"{samples / total:6.1%}  self: {frame[:120]}")
    if args.inclusive:
        for frame, samples in inclusive.most_common(40):
            print(f"{samples / total:6.1%}  under: {frame[:120]}")


if __name__ == "__main__":
    main()
