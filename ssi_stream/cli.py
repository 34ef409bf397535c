"""`ssi-stream`: one entry point. It parses arguments and calls the package; it holds no logic."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ssi_stream import __version__
from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import KafkaSetupError, LocalBroker
from ssi_stream.ops.kafka_dist import install_kafka
from ssi_stream.ops.settings import SettingsError

EXIT_USAGE = 2
EXIT_NOT_BUILT = 3


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


def _not_built(name: str, issue: str) -> Callable[[argparse.Namespace], int]:
    def run(_: argparse.Namespace) -> int:
        print(f"`ssi-stream {name}` is not built yet (see the {issue} issue).", file=sys.stderr)
        return EXIT_NOT_BUILT

    return run


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

    for name, issue, text in (
        ("worker", "streaming", "run a scoring worker"),
        ("replay", "scoring", "score a JSON-lines event log offline"),
        ("simulate", "simulator", "generate a simulated population's events"),
        ("demo", "demo", "run the live demo"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.set_defaults(run=_not_built(name, issue))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (KafkaSetupError, SettingsError) as exc:
        print(f"ssi-stream: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
