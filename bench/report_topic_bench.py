"""`ssi-stream report --scores-topic`: reading the score records from the scores topic against reading
the same records from a file, on a private local broker.

One run measures, on the same records and machine:

  (a) `read_scores` over the records in memory: what the report does with a file once it is read, the
      baseline the other rows are compared with;
  (b) `TopicSnapshot.values()` with the batches' CRCs not checked (the default without `crc32c`);
  (c) the same with the CRCs checked (kafka-python's pure-Python CRC-32C, or the `crc32c` package's when
      it is installed: the run says which);
  (d) `read_scores` over the snapshot, as `--scores-topic` reads: (b) and (a) in one pass;
  (e) `ssi-stream report FILE --json ...` and (f) `ssi-stream report --scores-topic T --json ...`, each
      end to end in a child process.

The records are those `ssi-stream replay` writes for a simulated population with outcomes (200 members
× 45 days, seed 1), copied under other member ids until there are `--records` of them, and produced to
an 8-partition topic keyed by member.

    .venv/bin/python bench/report_topic_bench.py [--records 200000]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import LocalBroker
from ssi_stream.ops.kafka_security import PLAINTEXT, kafka_producer
from ssi_stream.ops.topic_snapshot import TopicSnapshot
from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.replay import replay_log
from ssi_stream.report.inputs import LineSource, read_scores
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, generate, write_jsonl
from ssi_stream.timeline.policy import TimelineSettings

CLI = [sys.executable, "-m", "ssi_stream.cli"]
TOPIC = "bench.report.scores"
PARTITIONS = 8


def score_records(count: int) -> list[bytes]:
    """`count` score records: a replayed population's, copied under other member ids."""
    events, records = io.BytesIO(), io.BytesIO()
    write_jsonl(generate(SimulationConfig(members=200, days=45, seed=1, outcomes=True)), events)
    events.seek(0)
    replay_log(events, records, model=load_model(), timeline=TimelineSettings(), now=datetime.now(UTC))
    base = [orjson.loads(line) for line in records.getvalue().splitlines()]
    out: list[bytes] = []
    copy = 0
    while len(out) < count:
        for record in base[: count - len(out)]:
            out.append(orjson.dumps({**record, "member_id": f"{record['member_id']}-{copy}"}))
        copy += 1
    return out


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def snapshot_count(bootstrap: str, check_crcs: bool) -> int:
    with TopicSnapshot(bootstrap, PLAINTEXT, TOPIC, check_crcs=check_crcs) as snapshot:
        return sum(1 for _ in snapshot.values())


def snapshot_table(bootstrap: str) -> Any:
    with TopicSnapshot(bootstrap, PLAINTEXT, TOPIC, check_crcs=False) as snapshot:
        source = LineSource(unit=f"records of {TOPIC}", total=snapshot.total, events=False)
        return read_scores(snapshot.values(), replay=_no_replay, source=source)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    records = score_records(args.records)
    size = sum(map(len, records))
    c_crc = importlib.util.find_spec("crc32c") is not None
    print(f"python {platform.python_version()}, {platform.machine()}, crc32c package: {c_crc}")
    print(f"{len(records):,} score records, {size / 2**20:,.0f} MiB, {PARTITIONS} partitions")
    with tempfile.TemporaryDirectory(prefix="ssi-report-topic-bench-") as folder:
        scores = Path(folder) / "scores.jsonl"
        scores.write_bytes(b"".join(record + b"\n" for record in records))
        broker = LocalBroker(ssi_home(), Path(folder) / "broker")
        bootstrap = broker.up(timeout=120).bootstrap
        try:
            ensure_topics(bootstrap, [TopicSpec(TOPIC, PARTITIONS)])
            producer = kafka_producer(bootstrap, PLAINTEXT, acks="all", linger_ms=20, batch_size=512 * 1024)
            for record in records:
                producer.send(TOPIC, key=orjson.loads(record)["member_id"].encode(), value=record)
            producer.flush()
            producer.close()

            baseline, _ = timed(lambda: read_scores(records, replay=_no_replay))
            unchecked, read_unchecked = timed(lambda: snapshot_count(bootstrap, check_crcs=False))
            checked, read_checked = timed(lambda: snapshot_count(bootstrap, check_crcs=True))
            together, (_, summary) = timed(lambda: snapshot_table(bootstrap))
            assert read_unchecked == read_checked == len(records) == summary.lines
            env = {**os.environ, "SSI_BROKER": bootstrap}
            report = ["report", "--window", "20", "--json", str(Path(folder) / "report.json")]
            over_file, _ = timed(lambda: subprocess.run([*CLI, *report, str(scores)], env=env, check=True))
            over_topic, _ = timed(
                lambda: subprocess.run([*CLI, *report, "--scores-topic", TOPIC], env=env, check=True)
            )
        finally:
            broker.down()
    crc = "crc32c package" if c_crc else "kafka-python's pure-Python CRC-32C"
    rows = [
        ("(a) read_scores over the records in memory (baseline)", baseline),
        ("(b) the topic's snapshot, CRCs not checked", unchecked),
        (f"(c) the topic's snapshot, CRCs checked ({crc})", checked),
        ("(d) read_scores over the snapshot, CRCs not checked", together),
        ("(e) ssi-stream report FILE --json, end to end (child)", over_file),
        ("(f) ssi-stream report --scores-topic T --json, end to end (child)", over_topic),
    ]
    width = max(len(name) for name, _ in rows) + 2
    print(f"\n{'stage':<{width}}{'seconds':>9}{'records/s':>12}{'× (a)':>8}")
    for name, seconds in rows:
        print(f"{name:<{width}}{seconds:>9.1f}{len(records) / seconds:>12,.0f}{seconds / baseline:>8.2f}")


def _no_replay() -> Any:
    raise AssertionError("score records need no replay")


if __name__ == "__main__":
    main()
