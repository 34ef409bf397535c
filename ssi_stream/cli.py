"""`ssi-stream`: one entry point. It parses arguments and calls the package; it holds no logic."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from ssi_stream import __version__
from ssi_stream.events.limits import DecodeLimits
from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import KafkaSetupError, LocalBroker
from ssi_stream.ops.kafka_dist import install_kafka
from ssi_stream.ops.settings import Settings, SettingsError
from ssi_stream.scoring.model import ModelError
from ssi_stream.simulation.config import SimulationConfig
from ssi_stream.timeline.policy import TimelineSettings

EXIT_USAGE = 2


def _broker(args: argparse.Namespace) -> LocalBroker:
    home = Path(args.home).resolve() if args.home else ssi_home()
    return LocalBroker(home)


def cmd_kafka_install(args: argparse.Namespace) -> int:
    broker = _broker(args)
    dist = install_kafka(broker.home)
    print(f"Kafka {dist.version} installed in {dist.libs}")
    return 0


def cmd_kafka_up(args: argparse.Namespace) -> int:
    state = _broker(args).up(port=args.port, timeout=args.timeout)
    print(f"Kafka {state.kafka_version} running at {state.bootstrap} (pid {state.pid}, log {state.log_path})")
    return 0


def cmd_kafka_down(args: argparse.Namespace) -> int:
    stopped = _broker(args).down(timeout=args.timeout)
    print("Kafka stopped" if stopped else "Kafka was not running")
    return 0


def cmd_kafka_status(args: argparse.Namespace) -> int:
    status = _broker(args).status()
    if args.bootstrap:
        if not status.running or status.state is None:
            print(f"not running: {status.detail}", file=sys.stderr)
            return 1
        print(status.state.bootstrap)
        return 0
    print(("running: " if status.running else "not running: ") + status.detail)
    return 0 if status.running else 1


def cmd_kafka_logs(args: argparse.Namespace) -> int:
    broker = _broker(args)
    if not broker.log_path.exists():
        print(f"no broker log yet at {broker.log_path}", file=sys.stderr)
        return 1
    print(broker.log_tail(args.lines))
    if args.follow:
        with open(broker.log_path, errors="replace") as log:
            log.seek(0, 2)
            try:
                while True:
                    line = log.readline()
                    if line:
                        print(line, end="", flush=True)
                    else:
                        time.sleep(0.3)
            except KeyboardInterrupt:
                pass
    return 0


def _timeline(args: argparse.Namespace, settings: Settings) -> TimelineSettings:
    return replace(
        settings.timeline(),
        partitions=args.partitions or settings.partitions,
        grace_seconds=settings.grace_seconds if args.grace_seconds is None else args.grace_seconds,
    )


def cmd_replay(args: argparse.Namespace) -> int:
    from ssi_stream.replay import replay_file
    from ssi_stream.scoring.model import load_model

    settings = Settings.from_env()
    events = Path(args.events)
    if not events.is_file():
        print(f"ssi-stream replay: cannot read {events}: no such file", file=sys.stderr)
        return 1
    model = load_model(args.model or settings.model_path or None)
    result = replay_file(
        events,
        output_path=Path(args.output) if args.output else None,
        dlq_path=Path(args.dlq) if args.dlq else None,
        alerts_path=Path(args.alerts) if args.alerts else None,
        model=model,
        timeline=_timeline(args, settings),
        now=datetime.now(UTC),
        limits=DecodeLimits(max_bytes=settings.max_event_bytes),
    )
    print(result.summary(), file=sys.stderr)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from ssi_stream.simulation import generate, write_jsonl

    try:
        config = SimulationConfig(
            members=args.members,
            days=args.days,
            start=date.fromisoformat(args.start),
            seed=args.seed,
            events_per_member_day_scale=args.scale,
            jitter_seconds=args.jitter_seconds,
            duplicate_rate=args.duplicate_rate,
            invalid_rate=args.invalid_rate,
        )
    except ValueError as exc:
        print(f"ssi-stream simulate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.kafka:
        count = _simulate_to_kafka(config, rate=args.rate)
    elif args.output in (None, "-"):
        count = write_jsonl(generate(config), sys.stdout.buffer)
    else:
        count = write_jsonl(generate(config), args.output)
    print(f"simulate: {count} events for {config.members} members over {config.days} days", file=sys.stderr)
    return 0


def _simulate_to_kafka(config: SimulationConfig, *, rate: float | None) -> int:
    from ssi_stream.ops.bootstrap import resolve_bootstrap
    from ssi_stream.ops.topics import ensure_topics
    from ssi_stream.simulation import iter_encoded
    from ssi_stream.stream.producer import produce_events
    from ssi_stream.stream.topology import topic_specs

    settings = Settings.from_env()
    bootstrap = resolve_bootstrap(settings)
    ensure_topics(bootstrap, topic_specs(settings))
    started = time.monotonic()

    def progress(sent: int) -> None:
        if sys.stderr.isatty():
            rate_now = sent / max(time.monotonic() - started, 1e-9)
            sys.stderr.write(
                f"\rsimulate: {sent:,} events sent to {settings.events_topic} ({rate_now:,.0f}/s)"
            )
            sys.stderr.flush()

    count = produce_events(
        bootstrap, settings.events_topic, iter_encoded(config), rate=rate, on_progress=progress
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    return count


def cmd_worker(args: argparse.Namespace) -> int:
    from ssi_stream.stream.worker import run_worker

    overrides = {
        name: value
        for name, value in (
            ("worker_id", args.worker_id),
            ("web_port", args.web_port),
            ("data_dir", args.data_dir),
        )
        if value is not None
    }
    settings = replace(Settings.from_env(), **overrides)
    return run_worker(settings, loglevel=args.loglevel)


def cmd_demo(args: argparse.Namespace) -> int:
    from ssi_stream.demo.runner import DemoOptions, run_demo

    options = DemoOptions(
        members=args.members, days=args.days, rate=args.rate, seed=args.seed, duration=args.duration
    )
    return run_demo(Settings.from_env(), options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssi-stream", description=__doc__)
    parser.add_argument("--version", action="version", version=f"ssi-stream {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kafka = commands.add_parser("kafka", help="manage the local single-node Kafka broker")
    kafka.add_argument("--home", help="state directory (default: $SSI_STREAM_HOME or ~/.cache/ssi-stream)")
    kafka_commands = kafka.add_subparsers(dest="kafka_command", required=True, metavar="ACTION")
    install = kafka_commands.add_parser("install", help="download Kafka with mvn into the cache (once)")
    install.set_defaults(run=cmd_kafka_install)
    up = kafka_commands.add_parser("up", help="start the broker (idempotent)")
    up.add_argument("--port", type=int, help="listen on this port (default: a free one)")
    up.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the broker to answer")
    up.set_defaults(run=cmd_kafka_up)
    down = kafka_commands.add_parser("down", help="stop the broker (SIGTERM, then SIGKILL)")
    down.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL")
    down.set_defaults(run=cmd_kafka_down)
    status = kafka_commands.add_parser("status", help="is the broker running and answering?")
    status.add_argument("--bootstrap", action="store_true", help="print only the bootstrap address")
    status.set_defaults(run=cmd_kafka_status)
    logs = kafka_commands.add_parser("logs", help="show the broker log")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.add_argument("-f", "--follow", action="store_true")
    logs.set_defaults(run=cmd_kafka_logs)

    replay = commands.add_parser("replay", help="score a JSON-lines event log offline, as the stream would")
    replay.add_argument("events", metavar="EVENTS.jsonl")
    replay.add_argument("--output", metavar="SCORES.jsonl", help="daily score records (default: stdout)")
    replay.add_argument("--dlq", metavar="DLQ.jsonl", help="dead-letter records for rejected lines")
    replay.add_argument(
        "--alerts", metavar="ALERTS.jsonl", help="score alerts (what the stream sends to ssi.alerts)"
    )
    replay.add_argument("--model", help="scoring model file (default: $SSI_MODEL_PATH or the packaged one)")
    replay.add_argument(
        "--partitions", type=int, help="partitions of the events topic (default: $SSI_PARTITIONS)"
    )
    replay.add_argument(
        "--grace-seconds", type=int, help="grace before a day closes (default: $SSI_GRACE_SECONDS)"
    )
    replay.set_defaults(run=cmd_replay)

    simulate = commands.add_parser("simulate", help="generate a simulated population's events as JSON lines")
    simulate.add_argument("--members", type=int, default=500)
    simulate.add_argument("--days", type=int, default=28)
    simulate.add_argument("--start", default="2026-03-02", help="first simulated day (YYYY-MM-DD)")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--scale", type=float, default=1.0, help="multiplies every activity rate")
    simulate.add_argument("--jitter-seconds", type=float, default=0.0)
    simulate.add_argument("--duplicate-rate", type=float, default=0.0)
    simulate.add_argument("--invalid-rate", type=float, default=0.0)
    simulate.add_argument("--output", "-o", help="file to write (default: stdout)")
    simulate.add_argument(
        "--kafka",
        action="store_true",
        help="produce to $SSI_EVENTS_TOPIC instead (the local broker by default)",
    )
    simulate.add_argument(
        "--rate", type=float, help="with --kafka: events per second (default: as fast as possible)"
    )
    simulate.set_defaults(run=cmd_simulate)

    worker = commands.add_parser("worker", help="run a scoring worker (settings from SSI_* variables)")
    worker.add_argument("--worker-id", help="this worker's name (default: $SSI_WORKER_ID)")
    worker.add_argument("--web-port", type=int, help="HTTP port (default: $SSI_WEB_PORT)")
    worker.add_argument("--data-dir", help="table data directory (default: $SSI_DATA_DIR)")
    worker.add_argument("--loglevel", default="INFO")
    worker.set_defaults(run=cmd_worker)

    demo = commands.add_parser(
        "demo", help="run the live demo: broker, worker, simulated members, live scores"
    )
    demo.add_argument("--members", type=int, default=2000)
    demo.add_argument("--days", type=int, default=60, help="simulated days")
    demo.add_argument("--rate", type=float, default=2000.0, help="events per second to produce")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (KafkaSetupError, SettingsError, ModelError) as exc:
        print(f"ssi-stream: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
