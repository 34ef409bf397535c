"""The Faust cost matrix: CPU per record of Faust's paths, as ratios to a bare aiokafka loop (issue 15).

Why the worker reads its input in whole fetches and packs what it sends into frames: this puts a figure
on what Faust costs per message, per send and per table write, next to a bare consumer, on one broker
and one topic, in one run.

Method. One topic of N simulated events (`ssi_stream.simulation`, ~190 B of JSON each, 8 partitions,
one event per message) and the same events packed `--pack` (500) per message, per partition, in
offset order, as the worker packs its effects frames (`stream.wire.encode_frames`: a JSON array of
the entries joined as bytes, header `ssi-kind: frame`; here the entries are the events themselves).
Each variant then runs in its own child process (a clean interpreter, its own consumer group, reading
from the beginning) and reports, from the first record it sees to the last one handled (sends and table
writes delivered), its process CPU seconds (`time.process_time`: user + system, every thread) and wall
seconds. Start-up and the group join are outside that window.

Variants are measured **in pairs with the bare loop**, `bare` then the variant or the variant then
`bare`, alternating, so a change of the machine's load hits both sides of a ratio; each ratio is the
variant's CPU per record over its own pair's `bare`, and with `--repeat R` the table shows medians of R
rounds. The Faust children build their app with the worker's own settings (`faust_app_options` in
`ssi_stream/stream/topology.py`: asyncio's loop, Faust's default producer linger of 0 and its Monitor,
commit every 1 s or 1000 messages, acks=all, at-least-once, memory:// tables, web server on) and run
under `faust.Worker` at log level INFO, as `ssi-stream worker` does.

    bare              aiokafka `getmany` loop over the topic, counting records (the baseline, 1.0)
    faust             Faust agent that does nothing, one message per record (`async for _ in stream`)
    faust-tuned       the same with a no-op Monitor and `cython_optimizations=True`
    bare-packed       aiokafka `getmany` over the packed topic: parse each frame, touch each record
    faust-packed      Faust agent over the packed topic, the same parse and touch
    faust-send        Faust agent, one producer send per record to another topic (the worker's direct
                      `app.producer.send`, not `Topic.send`), delivery awaited at the end
    faust-send-linger the same with `producer_linger=0.02`
    faust-table       Faust agent, one table write per record (memory://, one changelog record each)
    faust-frames      Faust agent in batches (`take_events(SSI_BATCH_MAX, SSI_BATCH_MS)` as the worker's
                      absorb agent), one frame per destination partition per batch, delivered per batch
    bulk              aiokafka `getmany(max_records=SSI_BATCH_MAX)` + one frame send per partition per
                      batch, delivered before the next fetch: what the worker's bulk ingest does

    SSI_STREAM_HOME=bench/results/home .venv/bin/ssi-stream kafka up
    SSI_STREAM_HOME=bench/results/home .venv/bin/python bench/faust_cost_bench.py [--quick] [--repeat 3]

Figures go to stdout and to bench/results/faust-cost-<run>.json; child logs to
bench/results/faust-cost-<run>/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from stream_bench import RESULTS, Child, Run, child_json, drop_topics, precreate_changelogs

from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.kafka_broker import free_port
from ssi_stream.ops.kafka_security import aiokafka_config, kafka_producer, load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.ops.topics import TopicSpec, ensure_topics
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.wire import frame_headers

SCRIPT = Path(__file__).resolve()
STARTED = time.perf_counter()
#: The table the faust-table variant writes to (its changelog is created before the child starts).
TABLE = "records"


@dataclass(frozen=True)
class Variant:
    name: str
    title: str
    packed_input: bool = False  # reads the packed topic
    writes: bool = False  # sends to an output topic


VARIANTS = {
    variant.name: variant
    for variant in (
        Variant("bare", "bare aiokafka getmany loop (baseline)"),
        Variant("faust", "Faust agent, nothing, worker settings"),
        Variant("faust-tuned", "Faust agent, nothing, no-op Monitor + cython"),
        Variant("bare-packed", "bare getmany, packed 1 msg/frame, parse+touch", packed_input=True),
        Variant("faust-packed", "Faust agent, packed frames, parse+touch", packed_input=True),
        Variant("faust-send", "Faust agent, one send per record", writes=True),
        Variant("faust-send-linger", "Faust agent, one send per record, linger 0.02", writes=True),
        Variant("faust-table", "Faust agent, one table write per record", writes=True),
        Variant("faust-frames", "Faust agent, batches, one frame per partition", writes=True),
        Variant("bulk", "bare getmany + one frame per partition (ingest)", writes=True),
    )
}


@dataclass(frozen=True)
class Spec:
    """What a child needs to know (passed as JSON on its command line)."""

    variant: str
    bootstrap: str
    topic: str
    out_topic: str
    group: str
    records: int
    partitions: int
    pack: int


# -- children --------------------------------------------------------------------------------------
class Window:
    """CPU and wall clock from the partitions' assignment to the end; prints the child's one JSON line.

    Both clocks start at the last `mark()` before the first record: when the consumer has its
    partitions (a bare loop) or when Faust assigned them (Faust then starts its fetcher, after a
    recovery with nothing to recover), so the first fetch is inside the window and the group join is
    not. What the window spends before its first record is reported too (`cpu_to_first`,
    `wall_to_first`): for Faust it is a fixed start-up cost, not a cost per record."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0
        self.first: tuple[float, float] | None = None

    def mark(self) -> None:
        if self.first is None:
            self.cpu, self.wall = time.process_time(), time.perf_counter()

    def start(self) -> None:
        if self.first is None:
            self.first = time.process_time(), time.perf_counter()
            if not self.wall:
                self.cpu, self.wall = self.first

    def report(self, records: int, **extra: Any) -> None:
        cpu, wall = time.process_time() - self.cpu, time.perf_counter() - self.wall
        assert self.first is not None
        figures = {
            "records": records,
            "cpu": cpu,
            "wall": wall,
            "cpu_to_first": self.first[0] - self.cpu,
            "wall_to_first": self.first[1] - self.wall,
            "startup": self.wall - STARTED,
            **extra,
        }
        print(json.dumps(figures), flush=True)


async def assigned(consumer: Any) -> None:
    """Wait until the consumer's group has given it partitions."""
    while not consumer.assignment():
        await asyncio.sleep(0.01)


def pack(values: Iterable[bytes]) -> bytes:
    """Values that are JSON as one frame (a JSON array, joined as bytes as `encode_frames` does)."""
    return b"[" + b",".join(values) + b"]"


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def touch_frame(raw: bytes) -> tuple[int, int]:
    """Parse a frame and read each record's member id: (records, characters read)."""
    entries = orjson.loads(raw)
    return len(entries), sum(len(entry["member_id"]) for entry in entries)


def group_consumer(spec: Spec, security: dict[str, Any]) -> Any:
    """The bare children's consumer of `spec.topic`: its own group, from the start, committed by hand."""
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(
        spec.topic,
        bootstrap_servers=spec.bootstrap,
        group_id=spec.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **security,
    )


async def bare_child(spec: Spec, packed: bool) -> None:
    consumer = group_consumer(spec, aiokafka_config(load_security(Settings.from_env())))
    await consumer.start()
    window, count, touched, last_commit = Window(), 0, 0, 0.0
    try:
        await assigned(consumer)
        window.mark()
        while count < spec.records:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                window.start()
                if packed:
                    for record in records:
                        entries, characters = touch_frame(record.value)
                        count += entries
                        touched += characters
                else:
                    count += len(records)
            if batch and time.perf_counter() - last_commit >= 1.0:  # as Faust's broker_commit_interval
                await consumer.commit()
                last_commit = time.perf_counter()
        await consumer.commit()
        window.report(count, touched=touched)
    finally:
        await consumer.stop()


async def bulk_child(spec: Spec) -> None:
    """What the worker's ingest does with a fetch: pack it per partition, send, wait for delivery."""
    from aiokafka import AIOKafkaProducer

    from ssi_stream.stream.ingest import COMMIT_INTERVAL_SECONDS
    from ssi_stream.stream.topology import PRODUCER_BATCH_BYTES

    settings = Settings.from_env()
    security = aiokafka_config(load_security(settings))
    consumer = group_consumer(spec, security)
    # the producer settings the worker gives Faust: acks=all, no linger, its batch size
    producer = AIOKafkaProducer(
        bootstrap_servers=spec.bootstrap,
        acks="all",
        linger_ms=0,
        max_batch_size=PRODUCER_BATCH_BYTES,
        **security,
    )
    await consumer.start()
    await producer.start()
    window, count, frames, last_commit = Window(), 0, 0, 0.0
    try:
        await assigned(consumer)
        window.mark()
        while count < spec.records:
            batch = await consumer.getmany(timeout_ms=settings.batch_ms, max_records=settings.batch_max)
            sent = []
            for tp, records in batch.items():
                window.start()
                for chunk in chunks(records, spec.pack):
                    frame = pack(record.value for record in chunk)
                    headers = frame_headers(frame)
                    sent.append(
                        await producer.send(spec.out_topic, frame, partition=tp.partition, headers=headers)
                    )
                count += len(records)
            if sent:
                await asyncio.gather(*sent)  # delivered: the barrier before the positions move
                frames += len(sent)
            if batch and time.perf_counter() - last_commit >= COMMIT_INTERVAL_SECONDS:
                await consumer.commit()
                last_commit = time.perf_counter()
        await consumer.commit()
        window.report(count, frames=frames)
    finally:
        await consumer.stop()
        await producer.stop()


def faust_child(spec: Spec) -> None:
    """A Faust worker with one agent doing what `spec.variant` says; exits once it has seen every record."""
    import faust
    from faust.sensors import Monitor

    from ssi_stream.stream.delivery import ensure_complete_flush
    from ssi_stream.stream.topology import faust_app_options

    class QuietMonitor(Monitor):
        """Faust's Monitor with its per-message hooks doing nothing."""

        def on_message_in(self, *args: Any, **kwargs: Any) -> None: ...
        def on_stream_event_in(self, *args: Any, **kwargs: Any) -> None: ...
        def on_stream_event_out(self, *args: Any, **kwargs: Any) -> None: ...
        def on_message_out(self, *args: Any, **kwargs: Any) -> None: ...
        def on_send_initiated(self, *args: Any, **kwargs: Any) -> None: ...
        def on_send_completed(self, *args: Any, **kwargs: Any) -> None: ...
        def on_table_get(self, *args: Any, **kwargs: Any) -> None: ...
        def on_table_set(self, *args: Any, **kwargs: Any) -> None: ...

    settings = Settings.from_env()
    settings.data_path.mkdir(parents=True, exist_ok=True)  # as `run_worker` does
    options = faust_app_options(settings, spec.bootstrap)
    if spec.variant == "faust-tuned":
        options.update(Monitor=QuietMonitor, cython_optimizations=True)
    if spec.variant == "faust-send-linger":
        options["producer_linger"] = 0.02
    app = faust.App(settings.app_id, **options)
    ensure_complete_flush(app.producer)  # as the worker: a flush means delivered
    raw = {"key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(spec.topic, partitions=spec.partitions, **raw)
    if spec.variant == "faust-table":  # only there: a table adds its changelog to the assignment
        table = app.Table(TABLE, partitions=spec.partitions, key_type=bytes, value_type=bytes)
    window = Window()
    expected, out = spec.records, spec.out_topic

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        window.mark()  # fetching starts after this (and after recovery, with nothing to recover)

    send = app.producer.send

    async def finish(count: int, **extra: Any) -> None:
        await app.producer.flush()
        window.report(count, **extra)
        sys.stderr.flush()
        os._exit(0)  # the figures are out: no need for a clean shutdown

    async def nothing(stream: faust.StreamT) -> None:
        count = 0
        async for _ in stream:
            if not count:
                window.start()
            count += 1
            if count == expected:
                await finish(count)

    async def packed(stream: faust.StreamT) -> None:
        count = touched = 0
        async for frame in stream:
            window.start()
            entries, characters = touch_frame(frame)
            count += entries
            touched += characters
            if count >= expected:
                await finish(count, touched=touched)

    async def send_each(stream: faust.StreamT) -> None:
        count = 0
        sent = []
        async for event in stream.events():
            if not count:
                window.start()
            message = event.message
            sent.append(await send(out, message.key, message.value, None, None, None))
            count += 1
            if count == expected:
                await app.producer.flush()
                failed = sum(1 for future in sent if future.exception() is not None)
                await finish(count, failed=failed)

    async def write_each(stream: faust.StreamT) -> None:
        count = 0
        async for event in stream.events():
            if not count:
                window.start()
            message = event.message
            table[message.key] = message.value
            count += 1
            if count == expected:
                await finish(count)

    async def send_frames(stream: faust.StreamT) -> None:
        count = frames = 0
        async for batch in stream.take_events(settings.batch_max, within=settings.batch_ms / 1000):
            window.start()
            by_partition: dict[int, list[bytes]] = {}
            for event in batch:
                by_partition.setdefault(event.message.partition, []).append(event.message.value)
            sent = []
            for partition, values in sorted(by_partition.items()):
                for chunk in chunks(values, spec.pack):
                    frame = pack(chunk)
                    sent.append(await send(out, None, frame, partition, None, frame_headers(frame)))
            await app.producer.flush()  # delivered, per batch, as the worker's barrier
            frames += len(sent)
            count += len(batch)
            if count >= expected:
                await finish(count, frames=frames)

    agents = {
        "faust": nothing,
        "faust-tuned": nothing,
        "faust-packed": packed,
        "faust-send": send_each,
        "faust-send-linger": send_each,
        "faust-table": write_each,
        "faust-frames": send_frames,
    }
    app.agent(source, name="measured")(agents[spec.variant])
    sys.argv = [sys.argv[0], "worker"]
    faust.Worker(app, loglevel="INFO", quiet=True, redirect_stdouts=False).execute_from_commandline()


def child(spec: Spec) -> None:
    if spec.variant in ("bare", "bare-packed"):
        asyncio.run(bare_child(spec, packed=spec.variant == "bare-packed"))
    elif spec.variant == "bulk":
        asyncio.run(bulk_child(spec))
    else:
        faust_child(spec)


# -- the parent ------------------------------------------------------------------------------------
def simulated_records(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """`count` simulated events as (member key, JSON value), in the simulator's time order."""
    members = max(50, -(-count // 40))  # ~60 events per member in 7 days
    config = SimulationConfig(members=members, days=7, seed=seed)
    records = [(key.encode(), value) for key, value in islice(iter_encoded(config), count)]
    if len(records) < count:
        raise SystemExit(f"the simulator gave {len(records)} events, not {count}")
    return records


def produce_topics(run: Run, records: list[tuple[bytes, bytes]], pack_size: int) -> tuple[str, str]:
    """The records one per message, and packed `pack_size` per message, each on partition crc32(key) % P."""
    plain, packed = f"bench.{run.run_id}.records", f"bench.{run.run_id}.packed"
    specs = [TopicSpec(plain, run.partitions), TopicSpec(packed, run.partitions)]
    ensure_topics(run.bootstrap, specs, security=run.security)
    producer = kafka_producer(
        run.bootstrap,
        run.security,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        max_request_size=4 * 1024 * 1024,
    )
    by_partition: dict[int, list[bytes]] = {}
    try:
        for key, value in records:
            partition = zlib.crc32(key) % run.partitions
            producer.send(plain, key=key, value=value, partition=partition)
            by_partition.setdefault(partition, []).append(value)
        for partition, values in sorted(by_partition.items()):
            for chunk in chunks(values, pack_size):
                frame = pack(chunk)
                producer.send(packed, value=frame, partition=partition, headers=frame_headers(frame))
        producer.flush()
    finally:
        producer.close()
    return plain, packed


def run_child(
    run: Run, variant: Variant, topics: tuple[str, str], records: int, pack_size: int, tag: str
) -> dict[str, Any]:
    group = f"bench-{run.run_id}-{variant.name}-{tag}"
    out_topic = f"bench.{run.run_id}.out.{variant.name}.{tag}"
    if variant.writes:
        ensure_topics(run.bootstrap, [TopicSpec(out_topic, run.partitions)], security=run.security)
    if variant.name == "faust-table":
        precreate_changelogs(run, group, (TABLE,))
    spec = Spec(
        variant.name,
        run.bootstrap,
        topics[1] if variant.packed_input else topics[0],
        out_topic,
        group,
        records,
        run.partitions,
        pack_size,
    )
    env = {
        **os.environ,
        "SSI_BROKER": run.bootstrap,
        "SSI_APP_ID": group,
        "SSI_PARTITIONS": str(run.partitions),
        "SSI_STORE": "memory://",
        "SSI_DATA_DIR": str(run.workdir / "data"),
        "SSI_WORKER_ID": f"{variant.name}-{tag}",
        "SSI_WEB_PORT": str(free_port()),
    }
    argv = [sys.executable, str(SCRIPT), "--child", json.dumps(asdict(spec))]
    process = Child(argv, run.workdir / f"{variant.name}-{tag}.log", env)
    figures = child_json(process, timeout=120 + records * 0.01)
    figures["cpu_us_per_record"] = figures["cpu"] / figures["records"] * 1e6
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="20,000 records")
    parser.add_argument("--repeat", type=int, default=1, help="alternating rounds; the table shows medians")
    parser.add_argument("--pack", type=int, default=500, help="records per packed message")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--variants",
        default=",".join(name for name in VARIANTS if name != "bare"),
        help="comma-separated, each measured in a pair with bare",
    )
    parser.add_argument("--bootstrap", help="default: SSI_BROKER, else the local broker")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Spec(**json.loads(args.child)))
        return
    if args.quick:
        args.records = 20_000
    names = [name.strip() for name in args.variants.split(",") if name.strip() and name.strip() != "bare"]
    unknown = sorted(set(names) - VARIANTS.keys())
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {sorted(VARIANTS)}")

    settings = Settings.from_env()
    bootstrap = args.bootstrap or resolve_bootstrap(settings)
    run_id = time.strftime("%m%d%H%M%S") + uuid.uuid4().hex[:4]
    workdir = RESULTS / f"faust-cost-{run_id}"
    workdir.mkdir(parents=True, exist_ok=True)
    run = Run(bootstrap, run_id, args.partitions, workdir, load_security(settings))

    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    records = simulated_records(args.records, args.seed)
    mean_bytes = statistics.fmean(len(value) for _, value in records)
    topics = produce_topics(run, records, args.pack)
    del records
    say(
        f"{args.records:,} records of {mean_bytes:.0f} B mean on {topics[0]}, "
        f"packed {args.pack} per message on {topics[1]}"
    )
    results: dict[str, Any] = {
        "argv": sys.argv[1:],
        "python": platform.python_version(),
        "run_id": run_id,
        "records": args.records,
        "mean_record_bytes": mean_bytes,
        "load_average_before": os.getloadavg(),
        "pairs": [],
    }
    out = RESULTS / f"faust-cost-{run_id}.json"
    try:
        for round_ in range(args.repeat):
            for index, name in enumerate(names):
                order = ["bare", name] if (round_ + index) % 2 == 0 else [name, "bare"]
                pair: dict[str, Any] = {"round": round_, "variant": name, "order": order}
                for which in order:
                    pair[which if which == "bare" else "figures"] = run_child(
                        run, VARIANTS[which], topics, args.records, args.pack, f"r{round_}p{index}"
                    )
                pair["ratio"] = pair["figures"]["cpu_us_per_record"] / pair["bare"]["cpu_us_per_record"]
                pair["load_average"] = os.getloadavg()
                results["pairs"].append(pair)
                say(
                    f"round {round_ + 1}/{args.repeat} {name}: "
                    f"{pair['figures']['cpu_us_per_record']:.1f} µs/record, "
                    f"bare {pair['bare']['cpu_us_per_record']:.2f}, ratio {pair['ratio']:.1f} "
                    f"(load {pair['load_average'][0]:.1f})"
                )
    finally:
        results["load_average_after"] = os.getloadavg()
        out.write_text(json.dumps(results, indent=2))
        drop_topics(run.bootstrap, run.security, run.run_id)
    summarise(results, names)
    print(f"figures: {out}")


#: What each difference of two variants' CPU per record isolates.
DIFFERENCES = (
    ("Faust's consume path, one message per record", "faust", "bare"),
    ("Faust's consume path, packed (per record inside the frames)", "faust-packed", "bare-packed"),
    ("one send per record", "faust-send", "faust"),
    ("one send per record, producer_linger=0.02", "faust-send-linger", "faust"),
    ("one table write per record", "faust-table", "faust"),
    ("batches and one frame per partition per batch", "faust-frames", "faust"),
    ("the bulk ingest's frames over bare reading", "bulk", "bare"),
)


def summarise(results: dict[str, Any], names: list[str]) -> None:
    pairs = results["pairs"]
    bare = [pair["bare"] for pair in pairs]
    median = statistics.median
    print(
        f"\n{results['records']:,} records of {results['mean_record_bytes']:.0f} B, "
        f"{len(pairs) // max(1, len(names))} round(s); medians; ratio = CPU/record ÷ its pair's bare;\n"
        "clocks from the partitions' assignment to the last record handled; 1st s: of which before the first"
    )
    print(
        f"{'variant':<18}{'what':<50}{'records':>9}{'wall s':>8}{'1st s':>7}{'CPU s':>8}"
        f"{'CPU µs/rec':>11}{'× bare':>8}"
    )

    def row(name: str, figures: list[dict[str, Any]], ratio: float) -> None:
        print(
            f"{name:<18}{VARIANTS[name].title:<50}{median(f['records'] for f in figures):>9,.0f}"
            f"{median(f['wall'] for f in figures):>8.2f}{median(f['wall_to_first'] for f in figures):>7.2f}"
            f"{median(f['cpu'] for f in figures):>8.2f}"
            f"{median(f['cpu_us_per_record'] for f in figures):>11.2f}{ratio:>8.1f}"
        )

    row("bare", bare, 1.0)
    us = {"bare": median(f["cpu_us_per_record"] for f in bare)}
    for name in names:
        mine = [pair for pair in pairs if pair["variant"] == name]
        if mine:
            row(name, [pair["figures"] for pair in mine], median(pair["ratio"] for pair in mine))
            us[name] = median(pair["figures"]["cpu_us_per_record"] for pair in mine)
    print("CPU µs per record on top (differences of the medians above):")
    for what, more, less in DIFFERENCES:
        if more in us and less in us:
            print(f"  {what:<62}{more + ' − ' + less:<32}{us[more] - us[less]:>8.2f}")
    load = results["load_average_before"], results["load_average_after"]
    print(f"load average (1, 5, 15 min) before {load[0]}, after {load[1]}")


if __name__ == "__main__":
    main()
