"""A worker that starts on a large backlog keeps closing days while it drains it, and its consumer-lag
gauge agrees with the broker's offsets on both topics, partition by partition."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.ingest import ingest_group

from .streaming import StreamEnv, Worker, consumer_lags, produce, running


class BrokerOffsets:
    """End offsets and a group's committed offsets, as the broker has them."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap)

    def lag(self, group: str, topic: str, partitions: int) -> dict[int, int]:
        """Per partition: end offset - the group's committed offset (0 when nothing was committed)."""
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = self.consumer.end_offsets(tps)
        try:
            committed = self.admin.list_group_offsets({group: None}).get(group, {})
        except KafkaError:  # no such group yet (nothing committed): its coordinator is not known
            committed = {}
        done = {tp.partition: max(0, committed[tp].offset) for tp in tps if tp in committed}
        return {tp.partition: ends[tp] - done.get(tp.partition, 0) for tp in tps}

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


def test_days_close_while_a_backlog_drains_and_the_lag_gauge_matches_the_broker(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = StreamEnv(kafka_bootstrap)
    log = list(iter_encoded(SimulationConfig(members=300, days=21, seed=5)))
    produce(kafka_bootstrap, env.events_topic, log, env.partitions)  # the whole backlog, before any worker
    ensure_topics(kafka_bootstrap, [TopicSpec(env.scores_topic, env.partitions)])
    worker_env = env.worker_env(tmp_path / "data", "w1")
    port, app_id = worker_env["SSI_WEB_PORT"], worker_env["SSI_APP_ID"]
    topics = {env.events_topic: ingest_group(app_id), worker_env["SSI_EFFECTS_TOPIC"]: ingest_group(app_id)}
    broker = BrokerOffsets(kafka_bootstrap)
    scores = KafkaConsumer(env.scores_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    started = time.monotonic()
    backlog_at_first_record: int | None = None
    # (seconds, topic, lag by the gauge, lag by the broker's offsets just after the scrape)
    samples: list[tuple[float, str, float, int]] = []
    gauge: dict[tuple[str, int], float] = {}
    try:
        with running(Worker(worker_env, tmp_path / "w1.log")):
            while True:
                got = [r for rs in scores.poll(timeout_ms=500).values() for r in rs]
                if got and backlog_at_first_record is None:
                    assert orjson.loads(got[0].value)["member_id"]
                    lag = broker.lag(ingest_group(app_id), env.events_topic, env.partitions)
                    backlog_at_first_record = sum(lag.values())
                try:
                    gauge = consumer_lags(port)
                except OSError:
                    continue  # the web server is not up yet
                lags = {topic: broker.lag(group, topic, env.partitions) for topic, group in topics.items()}
                now = time.monotonic() - started
                for topic, lag in lags.items():
                    reported = [v for (t, _), v in gauge.items() if t == topic]
                    if len(reported) == env.partitions:  # once it holds them all (before: nothing)
                        samples.append((now, topic, sum(reported), sum(lag.values())))
                drained = not any(sum(lag.values()) for lag in lags.values())
                if drained and len(gauge) == 2 * env.partitions and not any(gauge.values()):
                    break  # every partition of both topics reported, and all caught up
                assert now < 240, f"not drained in time: gauge {gauge}; broker {lags}"
    finally:
        scores.close()
        broker.close()

    total = len(log)
    # Fairness: the first records came while most of the backlog was still waiting on the events topic.
    assert backlog_at_first_record is not None and backlog_at_first_record > total / 2, (
        f"first record with {backlog_at_first_record} of {total} events still waiting"
    )
    # The gauge tells the truth (refreshed at each scrape from the broker's end offsets): within what two
    # seconds of processing move (the broker's committed offsets trail the worker's by a batch and a
    # commit interval; a busy worker answers a scrape late) plus 10 % of what the broker says is waiting.
    events = [(t, g, b) for t, topic, g, b in samples if topic == env.events_topic]
    rate = total / max(events[-1][0] - events[0][0], 1.0)
    busy = [(t, g, b) for t, g, b in events if b > 2_000]
    assert busy, f"the backlog drained before it could be sampled: {events[:5]}"
    off = [(t, g, b) for t, g, b in busy if abs(g - b) > 0.1 * b + 2 * rate + 1_000]
    assert not off, f"events gauge vs broker at {rate:.0f} events/s: {off[:5]} of {len(busy)} samples"
    # On the effects topic the gauge counts what the worker has absorbed, which is ahead of what its
    # reader has committed for lag tools (after each batch, at most every 0.2 s): never more than that.
    frames = [(t, g, b) for t, topic, g, b in samples if topic != env.events_topic]
    assert frames, "no effects lag reported"
    off = [(t, g, b) for t, g, b in frames if not 0 <= g <= b + 50]
    assert not off, f"effects gauge vs broker: {off[:5]} of {len(frames)} samples"
