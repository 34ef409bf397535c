"""The child processes of `stream_bench.py`: the ceiling, the two peers and the daily-close measurement.

Each runs in its own process (so its CPU and memory are its own) and prints one JSON line on stdout:

    python bench/stream_peers.py ceiling  BOOTSTRAP TOPIC EVENTS          bare aiokafka read + decode
    python bench/stream_peers.py quix     BOOTSTRAP TOPIC GROUP OUT P DIR  the scoring on Quix Streams
    python bench/stream_peers.py quix-durable BOOTSTRAP TOPIC GROUP P DIR N  durable re-keyed absorb, on Quix
    python bench/stream_peers.py faust    BOOTSTRAP TOPIC GROUP P DIR PORT a naive per-event Faust agent
    python bench/stream_peers.py close    LOG P MEMBERS[,MEMBERS...]      daily close + memory per member
    python bench/stream_peers.py engine   LOG P BATCH                     the engine alone, in memory

The peers call the same pure core as the worker (`decode`, `effects_of`, the member ledgers); none has a
copy of scoring logic.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ssi_stream.events.decode import Rejected, decode
from ssi_stream.ledger.member_ledger import (
    absorb_effect,
    close_member_day,
    decode_ledger,
    encode_ledger,
    member_day,
    new_ledger,
    ranked_record,
)
from ssi_stream.ops.collector import tune_collector
from ssi_stream.ops.kafka_security import KafkaSecurity, aiokafka_config, faust_credentials, load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.ranking.exchange import DayBoard, day_shares
from ssi_stream.replay import Replay
from ssi_stream.scoring.effects import decode_effect, effects_of, encode_effect
from ssi_stream.scoring.model import load_model
from ssi_stream.stream.wire import decode_share, encode_share
from ssi_stream.timeline.days import day_of
from ssi_stream.timeline.policy import TimelineSettings


def _security() -> KafkaSecurity:
    """The SSI_KAFKA_* security of the environment, as the worker reads it (the peers are its children)."""
    return load_security(Settings.from_env())


def report(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


# -- the ceiling: read and decode, nothing else ------------------------------------------------------
async def _ceiling(bootstrap: str, topic: str, expected: int) -> None:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **aiokafka_config(_security()),
    )
    await consumer.start()
    count = rejected = 0
    first = 0.0
    now = datetime.now(UTC)
    try:
        while count < expected:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                if not first:
                    first = time.perf_counter()
                for record in records:
                    rejected += isinstance(decode(record.value, now=now), Rejected)
                count += len(records)
        seconds = time.perf_counter() - first
    finally:
        await consumer.stop()
    report(events=count, rejected=rejected, seconds=seconds, rate=count / seconds)


def _quix_app(bootstrap: str, group: str, state_dir: str, **options: Any) -> Any:
    """A Quix Streams application as both Quix peers run it (at least once, 1 s commits)."""
    from quixstreams import Application

    return Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        commit_interval=1.0,
        state_dir=state_dir,
        loglevel="WARNING",
        processing_guarantee="at-least-once",
        **options,
    )


# -- peer (a): the scoring on Quix Streams ------------------------------------------------------------
def quix_peer(
    bootstrap: str, topic: str, group: str, out_topic: str, partitions: int, state_dir: str, expected: int
) -> None:
    """`Replay` (replay's driver of the engine: decode, per-partition clocks, gates, in-process ledgers,
    day closes) fed message by message by a Quix Streams Application; each day's records go to `out_topic`.

    What it does not do: no re-keying topic (effects on another member are absorbed in this process),
    no durable member state (a dict, no changelog: a restart loses every ledger), one instance only
    (the gate is process-wide, valid because this process holds every partition).
    """
    from quixstreams import message_context

    app = _quix_app(bootstrap, group, state_dir, use_changelog_topics=False)
    source = app.topic(topic, key_deserializer="bytes", value_deserializer="bytes")
    scores = app.topic(out_topic, key_serializer="bytes", value_serializer="bytes")
    scorer = Replay(load_model(), timeline=TimelineSettings(partitions=partitions), now=datetime.now(UTC))
    tune_collector()  # as the worker and replay do: the same core, the same collector settings
    dumps = orjson.dumps
    clock = {"first": 0.0, "count": 0}

    def score_message(value: bytes) -> list[bytes]:
        context = message_context()
        if not clock["first"]:
            clock["first"] = time.perf_counter()
        clock["count"] += 1
        if clock["count"] == expected:  # the last event's closes are done when this returns
            seconds = time.perf_counter() - clock["first"]
            report(events=expected, seconds=seconds, rate=expected / seconds)
        # Replay places each event on its member's partition (Kafka's partitioner): the same one the
        # producer chose, so the clocks are the real partitions'.
        records = scorer.feed([(context.offset + 1, value)])
        return [dumps(record) for record in records]

    sdf = app.dataframe(source)
    sdf = sdf.apply(score_message, expand=True)
    sdf.to_topic(scores, key=lambda record: orjson.loads(record)["member_id"].encode())
    app.run()


# -- peer (a'): the worker's absorb on Quix Streams, durably -------------------------------------------
def quix_durable_peer(
    bootstrap: str, topic: str, group: str, partitions: int, state_dir: str, expected: int
) -> None:
    """What the worker does up to its ledgers, on Quix Streams: decode → effects_of → re-key each effect
    by the member it touches (`group_by`: a repartition topic) → per effect, that member's ledger (kept
    decoded in memory, as the worker keeps them; read from Quix's state the first time), absorbed, and
    written back encoded to Quix's state (RocksDB with a changelog topic; its `set` takes each new value).
    Durable and partitioned like the worker's absorb, with less to do: no clocks, marks, day closes,
    ranks or records. Reports when every event is decoded and every effect it made is absorbed."""
    from quixstreams.state.rocksdb import RocksDBOptions

    app = _quix_app(
        bootstrap,
        group,
        state_dir,
        use_changelog_topics=True,
        rocksdb_options=RocksDBOptions(dumps=_as_bytes, loads=bytes),  # ledgers are bytes already
    )
    source = app.topic(topic, key_deserializer="bytes", value_deserializer="bytes")
    model, policy = load_model(), TimelineSettings(partitions=partitions).dedup
    now = datetime.now(UTC)
    tune_collector()  # as the worker does
    tally = {"first": 0.0, "events": 0, "effects": 0, "absorbed": 0}

    def finished() -> None:
        if tally["events"] == expected and tally["absorbed"] == tally["effects"]:
            seconds = time.perf_counter() - tally["first"]
            report(events=expected, effects=tally["effects"], seconds=seconds, rate=expected / seconds)

    def effects(value: bytes) -> list[bytes]:
        if not tally["first"]:
            tally["first"] = time.perf_counter()
        decoded = decode(value, now=now)
        made = [] if isinstance(decoded, Rejected) else [encode_effect(e) for e in effects_of(decoded)]
        tally["events"] += 1
        tally["effects"] += len(made)
        finished()
        return made

    decoded_ledgers: dict[str, Any] = {}  # as the worker's LedgerCache: one process holds every partition

    def absorb(value: bytes, state: Any) -> None:
        effect = decode_effect(value)
        ledger = decoded_ledgers.get(effect.member_id)
        if ledger is None:
            stored = state.get("ledger")
            ledger = new_ledger(policy) if stored is None else decode_ledger(stored, policy)
            decoded_ledgers[effect.member_id] = ledger
        absorb_effect(ledger, effect, day_of(effect.occurred_at), late=False, model=model, policy=policy)
        state.set("ledger", encode_ledger(ledger))
        tally["absorbed"] += 1
        finished()

    sdf = app.dataframe(source)
    sdf = sdf.apply(effects, expand=True)
    sdf = sdf.group_by(
        lambda value: orjson.loads(value)["m"],  # encode_effect's member id
        name="member",
        key_serializer="str",
        key_deserializer="str",
        value_serializer="bytes",
        value_deserializer="bytes",
    )
    sdf.update(absorb, stateful=True)
    app.run()


def _as_bytes(value: bytes | str) -> bytes:
    """Quix's state serialiser for the durable peer: ledgers are bytes, keys (member ids) text."""
    return value if type(value) is bytes else value.encode()  # type: ignore[union-attr]


# -- peer (b): a naive Faust agent, one event at a time ----------------------------------------------
def faust_peer(bootstrap: str, topic: str, group: str, partitions: int, data_dir: str, port: int) -> None:
    """decode → effects_of → per effect: read its member's ledger from a Faust table, absorb, write it
    back; one event at a time, no re-keying, no clocks, no marks, no day closes."""
    import faust

    app = faust.App(
        group,
        broker=f"kafka://{bootstrap}",
        broker_credentials=faust_credentials(_security()),
        store="memory://",
        datadir=data_dir,
        web_enabled=False,
        web_port=port,
        topic_partitions=partitions,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        autodiscover=False,
        processing_guarantee="at_least_once",
    )
    events = app.topic(topic, partitions=partitions, key_serializer="raw", value_serializer="raw")
    ledgers = app.Table("ledgers", partitions=partitions, key_type=bytes, value_type=bytes)
    model, policy = load_model(), TimelineSettings(partitions=partitions).dedup
    now = datetime.now(UTC)

    @app.agent(events, name="absorb-events")
    async def absorb_events(stream: faust.StreamT) -> Any:
        async for event in stream.events():
            decoded = decode(event.message.value, now=now)
            if isinstance(decoded, Rejected):
                yield None
                continue
            for effect in effects_of(decoded):
                key = effect.member_id.encode()
                stored = ledgers.get(key)
                ledger = new_ledger(policy) if stored is None else decode_ledger(stored, policy)
                absorb_effect(
                    ledger, effect, day_of(effect.occurred_at), late=False, model=model, policy=policy
                )
                ledgers[key] = encode_ledger(ledger)
            yield None

    worker = faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    tune_collector()  # as the worker does
    worker.execute_from_commandline()


# -- the engine alone: no Kafka, no framework ------------------------------------------------------
def engine_alone(log: Path, partitions: int, batch: int) -> None:
    """`Replay` (the engine, in-process ledgers) over the log's lines held in memory: fed one event per
    call, as the Quix peer feeds it, then `batch` events per call, as the worker's fetches do. What a
    framework adds to the first is its overhead; nothing that runs this engine can go faster than it."""
    lines = [line for line in log.read_bytes().splitlines() if line.strip()]
    tune_collector()  # as the worker and replay do
    now = datetime.now(UTC)
    figures: dict[str, Any] = {"events": len(lines)}
    for name, size in (("one_per_call", 1), ("batched", batch)):
        best = math.inf
        for _ in range(2):
            scorer = Replay(load_model(), timeline=TimelineSettings(partitions=partitions), now=now)
            gc.collect()
            started = time.perf_counter()
            for start in range(0, len(lines), size):
                scorer.feed(list(enumerate(lines[start : start + size], start + 1)))
            best = min(best, time.perf_counter() - started)
        figures[name] = {"seconds": best, "rate": len(lines) / best, "us_per_event": best / len(lines) * 1e6}
    figures["rate"] = figures["one_per_call"]["rate"]
    report(**figures)


# -- the daily close and memory per member, on realistic ledgers --------------------------------------
def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def close_day(log: Path, partitions: int, sizes: list[int]) -> None:
    """Build ledgers by replaying `log` (no final close: members hold their open days as a worker's do),
    clone them to each size in `sizes`, then close the next day for every member the way the worker's
    absorb agent does: close (decode_ledger → close_member_day → encode_ledger), the day's shares and
    board (one partition here), then rank (decode_ledger → ranked_record → orjson.dumps(record) →
    encode_ledger)."""
    model = load_model()
    timeline = TimelineSettings(partitions=partitions)
    policy = timeline.dedup
    lines = [line for line in log.read_bytes().splitlines() if line.strip()]
    scorer = Replay(model, timeline=timeline, now=datetime(2100, 1, 1, tzinfo=UTC))
    scorer.feed(list(enumerate(lines, 1)))
    del lines
    source = [encode_ledger(ledger) for _, ledger in scorer.ledgers()]
    day = max(d.day for _, ledger in scorer.ledgers() for d in ledger.state.open_days)
    del scorer
    gc.collect()
    encoded = sorted(len(raw) for raw in source)

    figures: dict[str, Any] = {
        "template_members": len(source),
        "day": day,
        "ledger_bytes": {
            "mean": statistics.fmean(encoded),
            "p50": encoded[len(encoded) // 2],
            "p99": encoded[min(len(encoded) - 1, int(len(encoded) * 0.99))],
            "max": encoded[-1],
        },
        "runs": [],
    }
    for size in sizes:
        keys = [f"bench-{i:08d}" for i in range(size)]
        # memory: the bytes a memory:// table holds, then the decoded ledgers a dict-based peer holds
        gc.collect()
        before = _rss_kib()
        store = {key.encode(): bytes(memoryview(source[i % len(source)])) for i, key in enumerate(keys)}
        gc.collect()
        bytes_rss = (_rss_kib() - before) * 1024 / size
        before = _rss_kib()
        decoded = {key: decode_ledger(store[key.encode()], policy) for key in keys}
        gc.collect()
        objects_rss = (_rss_kib() - before) * 1024 / size
        del decoded
        gc.collect()

        started = time.perf_counter()
        for key in keys[: min(size, 20_000)]:  # the ledger codec alone, as every absorbed effect pays it
            encode_ledger(decode_ledger(store[key.encode()], policy))
        codec_us = (time.perf_counter() - started) / min(size, 20_000) * 1e6
        records = 0
        started = time.perf_counter()
        scored = []
        for key in keys:
            raw_key = key.encode()
            ledger = decode_ledger(store[raw_key], policy)
            if close_member_day(ledger, day, model, policy) is None:
                continue
            store[raw_key] = encode_ledger(ledger)
            scored.append(member_day(key, ledger))
        board = DayBoard()
        for share in day_shares(0, day, scored, 1)[0]:
            board.add(decode_share(encode_share(share)))
        for member in scored:
            raw_key = member.member_id.encode()
            ledger = decode_ledger(store[raw_key], policy)
            ranks = board.ranks(member.member_id, member.ssi, member.industry)
            orjson.dumps(ranked_record(member.member_id, ledger, model, ranks))
            store[raw_key] = encode_ledger(ledger)
            records += 1
        del scored, board
        seconds = time.perf_counter() - started
        figures["runs"].append(
            {
                "members": size,
                "records": records,
                "seconds": seconds,
                "us_per_member": seconds / size * 1e6,
                "codec_us_per_member": codec_us,
                "rss_bytes_per_member_encoded": bytes_rss,
                "rss_bytes_per_member_decoded": objects_rss,
            }
        )
        del store
        gc.collect()
    report(**figures)


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "ceiling":
        bootstrap, topic, expected = rest
        asyncio.run(_ceiling(bootstrap, topic, int(expected)))
    elif command == "quix":
        bootstrap, topic, group, out_topic, partitions, state_dir, expected = rest
        quix_peer(bootstrap, topic, group, out_topic, int(partitions), state_dir, int(expected))
    elif command == "quix-durable":
        bootstrap, topic, group, partitions, state_dir, expected = rest
        quix_durable_peer(bootstrap, topic, group, int(partitions), state_dir, int(expected))
    elif command == "faust":
        bootstrap, topic, group, partitions, data_dir, port = rest
        sys.argv = [sys.argv[0], "worker"]
        faust_peer(bootstrap, topic, group, int(partitions), data_dir, int(port))
    elif command == "engine":
        log, partitions, batch = rest
        engine_alone(Path(log), int(partitions), int(batch))
    elif command == "close":
        log, partitions, sizes = rest
        close_day(Path(log), int(partitions), [int(s) for s in sizes.split(",")])
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
