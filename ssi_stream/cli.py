"""`ssi-stream`: one entry point. It parses arguments, opens files and calls the package; no logic."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import math
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ssi_stream import __version__
from ssi_stream.catalog import DEFAULT_LOCALE, LOCALES
from ssi_stream.completion import bash_completion
from ssi_stream.events.rejection import RejectionCode
from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import KafkaSetupError, LocalBroker
from ssi_stream.ops.kafka_dist import install_kafka
from ssi_stream.ops.kafka_security import KafkaAccessError
from ssi_stream.ops.settings import EMIT_MODES, Settings, SettingsError
from ssi_stream.scoring.model import ModelError
from ssi_stream.simulation.config import SimulationConfig
from ssi_stream.timeline.policy import TimelineSettings

if TYPE_CHECKING:
    from ssi_stream.ops.topic_snapshot import TopicSnapshot
    from ssi_stream.report.inputs import LineSource

EXIT_RUNTIME = 1
EXIT_USAGE = 2
STDIO = "-"

DESCRIPTION = """\
Compute a Social Selling Index (0-100, four pillars of 25 points) for every member of a professional
network from their activity events: continuously from Kafka (`worker`), or offline from a file
(`replay`), and measure whether it predicts selling (`report`). It also runs a local Kafka broker, a
simulated population and a live demo."""
EPILOG = """\
Settings (topics, partitions, grace period, model file, ...) come from SSI_* environment variables:
see the README's Configuration table. `ssi-stream COMMAND --help` shows a command's options.

Exit status: 0 success, 1 a runtime error (file, broker, model), 2 a usage error."""

#: The defaults of every setting, to show in help texts next to the variable that overrides them.
_DEFAULTS = Settings()
#: First bytes of compressed files: gzip is read as it is, the others are refused with a hint.
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_COMPRESSION = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


class CommandError(Exception):
    """A runtime failure a person can fix (a path, a file's content); main prints it on one line."""


class UsageError(Exception):
    """Arguments that parse but do not go together; main reports it like argparse does (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """Unknown arguments are refused by the (sub)command that got them, so its own usage is shown."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows `(default: X)` after every option with a default worth showing; fills paragraphs of
    descriptions and epilogs to the terminal's width but keeps indented lines (examples) as they are."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help = action.help or ""
        unshown = action.default is None or action.default is False or action.default is argparse.SUPPRESS
        if action.option_strings and not unshown and "default" not in help:
            help += " (default: %(default)s)"
        return help

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks: list[str] = []
        paragraph: list[str] = []
        for line in [*text.splitlines(), None]:
            if line and not line[0].isspace():
                paragraph.append(line)
                continue
            if paragraph:
                blocks.append(super()._fill_text(" ".join(paragraph), width, indent))
                paragraph = []
            if line is not None:
                blocks.append(indent + line if line else "")
        return "\n".join(blocks)


# -- argument types: a bad value is a usage error, reported by the command that got it ---------------


def _number(
    kind: type[int] | type[float], what: str, low: float = 0, high: float = math.inf, *, above: bool = False
) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` in [low, high] (or (low, high] when `above`); NaN refused."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not (low <= value <= high and value < math.inf) or (above and value == low):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


_positive_int = _number(int, "a whole number above 0", above=True)
_whole = _number(int, "a whole number, 0 or more")
_positive = _number(float, "a number above 0", above=True)
_non_negative = _number(float, "a number, 0 or more")
_fraction = _number(float, "a number from 0 to 1", 0, 1)
_members = _number(int, "a whole number from 2 to 100,000,000", 2, 100_000_000)
_seed = _number(int, "a whole number from 0 to 2**63 - 1", 0, 2**63 - 1)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (1-65535), got {text!r}")
    return port


def _offsets(text: str) -> tuple[int | None, int | None]:
    """`FROM-TO`, `FROM-`, `-TO` or `N`: an inclusive range of offsets, either end open."""
    low, dash, high = text.partition("-")
    try:
        first = int(low) if low else None
        last = int(high) if high else None
        if not dash:
            last = first
    except ValueError:
        first = last = -1
    if (
        (first is None and last is None)
        or any(end is not None and end < 0 for end in (first, last))
        or (first is not None and last is not None and first > last)
    ):
        raise argparse.ArgumentTypeError(f"must be offsets like 100-200, 100- or -200, got {text!r}")
    return first, last


def _instant(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset, or a date (its midnight, UTC)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"must be a date (YYYY-MM-DD, UTC) or a timestamp with an offset"
            f" (like 2026-03-02T09:15:00Z), got {text!r}"
        )
    return when


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date (YYYY-MM-DD), got {text!r}") from None


_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


def _topic(text: str) -> str:
    """A Kafka topic name, or "" (the option given without one: the setting's topic)."""
    if text and (not _TOPIC_NAME.fullmatch(text) or text in (".", "..")):
        raise argparse.ArgumentTypeError(
            f"must be a Kafka topic name (letters, digits, '.', '_' and '-'; at most 249), got {text!r}"
        )
    return text


# -- files: `-` is stdin or stdout; a bad path is one line naming it ----------------------------------


def _why(exc: OSError, path: str, *, writing: bool) -> str:
    parent = Path(path).parent
    if writing and isinstance(exc, FileNotFoundError) and not parent.exists():
        return f"directory {parent} does not exist"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, NotADirectoryError):
        return f"{parent} is not a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()


def _open_read(path: str) -> IO[bytes]:
    if path == STDIO:
        return _Borrowed(sys.stdin.buffer)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {_why(exc, path, writing=False)}") from None


def _open_write(path: str | None) -> IO[bytes]:
    if path is None or path == STDIO:
        return _Borrowed(sys.stdout.buffer)
    try:
        return open(path, "wb")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {_why(exc, path, writing=True)}") from None


def _check_writable(*paths: str | None) -> None:
    """Fail before any output file is created (or an existing one emptied) if one of them cannot be."""
    for path in paths:
        if path is None or path == STDIO:
            continue
        target = Path(path)
        if target.is_dir():
            raise CommandError(f"cannot write {path}: is a directory")
        if not target.parent.is_dir():
            error = FileNotFoundError() if not target.parent.exists() else NotADirectoryError()
            raise CommandError(f"cannot write {path}: {_why(error, path, writing=True)}")


def _check_readable(path: str, what: str) -> None:
    """Fail now, naming the whole path, if `path` is not a file that can be read."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise CommandError(f"cannot read {what}: {_why(exc, path, writing=False)}") from None


class _Borrowed(io.RawIOBase):
    """stdin or stdout's binary stream for a command that closes its files: flushed, never closed."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return self.stream.readable()

    def writable(self) -> bool:
        return self.stream.writable()

    def readinto(self, buffer: Any) -> int:
        return self.stream.readinto(buffer)  # type: ignore[attr-defined,no-any-return]

    def write(self, data: Any) -> int:
        return self.stream.write(data)

    def close(self) -> None:
        if not self.closed and self.stream.writable():
            self.stream.flush()
        super().close()


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff its format): gives them back first."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            count = min(len(buffer), len(self.head))
            buffer[:count] = self.head[:count]
            self.head = self.head[count:]
            return count
        return self.rest.readinto(buffer)  # type: ignore[attr-defined,no-any-return]


def _events_stream(raw: IO[bytes], name: str) -> IO[bytes]:
    """The event log's lines: gzip is decompressed on the fly, other compressions are refused."""
    head = raw.read(6)
    if raw.seekable():
        raw.seek(0)
        stream: IO[bytes] = raw
    else:
        stream = io.BufferedReader(_Prefixed(head, raw), buffer_size=1 << 16)
    if head.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(filename=name, fileobj=stream, mode="rb")  # type: ignore[return-value]
    for magic, format_name in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            raise CommandError(
                f"{name} is {format_name}-compressed: decompress it first (gzip is read as it is)"
            )
    return stream


# -- commands -------------------------------------------------------------------------------------


def _broker(args: argparse.Namespace) -> LocalBroker:
    home = Path(args.home).expanduser().resolve() if args.home else ssi_home()
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
        raise CommandError(f"no broker log yet at {broker.log_path}")
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
        partitions=settings.partitions if args.partitions is None else args.partitions,
        grace_seconds=settings.grace_seconds if args.grace_seconds is None else args.grace_seconds,
        emit=settings.emit if getattr(args, "emit", None) is None else args.emit,
    )


def cmd_replay(args: argparse.Namespace) -> int:
    from ssi_stream.ops.collector import tune_collector
    from ssi_stream.replay import replay_log
    from ssi_stream.scoring.model import load_model

    to_stdout = [
        name
        for name, path in (("--output", args.output), ("--dlq", args.dlq), ("--alerts", args.alerts))
        if path == STDIO or (name == "--output" and path is None)
    ]
    if len(to_stdout) > 1:
        raise UsageError(
            f"{', '.join(to_stdout)} would write to stdout together (--output does when not given);"
            " give all but one of them a file"
        )
    if args.events == STDIO and args.model == STDIO:
        raise UsageError("the events and the model cannot both be read from stdin")
    settings = Settings.from_env()
    timeline = _timeline(args, settings)
    limits = settings.decode_limits()  # the size limit and the Schema Registry framing rule
    model_path = args.model or settings.model_path or None
    if model_path == STDIO:
        model_path = "/dev/stdin"
    elif model_path is not None:
        source = "" if args.model else " (SSI_MODEL_PATH)"
        _check_readable(model_path, f"the model file {model_path}{source}")
    with contextlib.ExitStack() as files:
        raw = files.enter_context(_open_read(args.events))
        name = "<stdin>" if args.events == STDIO else args.events
        events = files.enter_context(_events_stream(raw, name))
        model = load_model(model_path)  # before any output is created: nothing written for a bad model
        _check_writable(args.output, args.dlq, args.alerts)
        output = files.enter_context(_open_write(args.output))
        dead_letters = None if args.dlq is None else files.enter_context(_open_write(args.dlq))
        alerts = None if args.alerts is None else files.enter_context(_open_write(args.alerts))
        tune_collector(freeze=False)  # as the worker does (ops.collector); its start-up heap is small
        try:
            result = replay_log(
                events,
                output,
                model=model,
                timeline=timeline,
                now=datetime.now(UTC),
                dead_letters=dead_letters,
                alerts=alerts,
                progress=sys.stderr if sys.stderr.isatty() else None,
                source_name=None if args.events == STDIO else name,  # docs/events.md: null for stdin
                limits=limits,
                explain=args.locale if args.explain else None,
            )
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise CommandError(f"{name}: not a complete gzip stream ({exc})") from None
    print(result.summary(), file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ssi_stream.ops.topic_snapshot import TopicSnapshotError
    from ssi_stream.replay import Replay
    from ssi_stream.report import ActivityCounter, ReportOptions, activity_days, measure
    from ssi_stream.report.inputs import FILE, InputError, read_activity, read_scores
    from ssi_stream.scoring.model import load_model

    if args.html is None and args.json is None:
        raise UsageError("give --html FILE, --json FILE or both: where the report goes")
    if args.html == STDIO and args.json == STDIO:
        raise UsageError("--html and --json cannot both be stdout")
    if STDIO in (args.groups, args.events) and args.input == STDIO:
        raise UsageError("only one file can be read from stdin")
    if args.html is not None:
        try:
            import matplotlib  # noqa: F401 - before a long input is read
        except ImportError:
            raise CommandError(
                "the HTML report draws its plots with matplotlib: pip install 'ssi-stream[report]'"
                " (or write only --json)"
            ) from None
    try:
        options = ReportOptions(
            window_days=args.window,
            at=None if args.at is None else (args.at - date(1970, 1, 1)).days,
            every_days=args.every,
            outcome=args.outcome,
            resamples=args.resamples,
            seed=args.seed,
            groups=None if args.groups is None else _read_groups(args.groups),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = Settings.from_env()
    timeline = _timeline(args, settings)
    model_path = args.model or settings.model_path or None
    _check_writable(args.html, args.json)
    progress = sys.stderr if sys.stderr.isatty() else None
    activity = ActivityCounter()
    snapshot = None
    with contextlib.ExitStack() as files:
        if args.scores_topic is None:
            name, source = "<stdin>" if args.input == STDIO else args.input, FILE
            lines = files.enter_context(_events_stream(files.enter_context(_open_read(args.input)), name))
        else:
            name = args.scores_topic or settings.scores_topic
            snapshot, source = _scores_snapshot(settings, name)
            files.enter_context(snapshot)
            lines = snapshot.values()

        def scorer() -> Replay:
            """The replay of an event log (a file of records needs no model)."""
            if model_path is not None:
                source = "" if args.model else " (SSI_MODEL_PATH)"
                _check_readable(model_path, f"the model file {model_path}{source}")
            limits = settings.decode_limits()  # as replay: the size limit and the framing rule
            return Replay(
                load_model(model_path),
                timeline=timeline,
                limits=limits,
                now=datetime.now(UTC),
                source_name=name,
            )

        try:
            table, summary = read_scores(
                lines, replay=scorer, activity=activity, progress=progress, source=source
            )
            if args.events is not None:
                if summary.kind == "events":
                    raise UsageError(f"{name} is an event log already: --events is for a file of records")
                log_name = "<stdin>" if args.events == STDIO else args.events
                log = files.enter_context(
                    _events_stream(files.enter_context(_open_read(args.events)), log_name)
                )
                try:
                    days = activity_days(table, options)
                except ValueError as exc:
                    raise CommandError(f"{name}: {exc}") from None
                read_activity(log, activity, days)
        except InputError as exc:
            raise CommandError(f"{name}: {exc}") from None
        except TopicSnapshotError as exc:
            raise CommandError(str(exc)) from None
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise CommandError(f"{name}: not a complete gzip stream ({exc})") from None
    if snapshot is not None and snapshot.empty:
        empty = (
            "1 record without a value (a tombstone)"
            if snapshot.empty == 1
            else f"{snapshot.empty:,} records without a value (tombstones)"
        )
        print(f"report: {empty} on {name} passed over", file=sys.stderr)
    print(summary.text(), file=sys.stderr)
    try:
        report = measure(table, options, activity if activity.events else None)
    except ValueError as exc:
        raise CommandError(f"{name}: {exc}") from None
    if args.json is not None:
        import orjson

        with _open_write(args.json) as output:
            output.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    if args.html is not None:
        from ssi_stream.report.html import render_html

        page = render_html(report).encode()
        with _open_write(args.html) as output:
            output.write(page)
    lift = report["lift"][options.outcome]["more"]
    shown = "n/a" if lift["value"] is None else f"{100 * lift['value']:+.0f}%"
    print(
        f"report: {report['members']:,} members, {report['observations']:,} scores from "
        f"{report['anchors'][0]} to {report['anchors'][-1]}, {options.window_days}-day window; "
        f"leaders (70+) {shown} {options.outcome} over the rest",
        file=sys.stderr,
    )
    return 0


def _scores_snapshot(settings: Settings, topic: str) -> tuple[TopicSnapshot, LineSource]:
    """The snapshot of `topic` on the configured broker (else the local one), and how the report names
    its records: `topic`, partition and offset."""
    from ssi_stream.ops.bootstrap import resolve_bootstrap
    from ssi_stream.ops.kafka_security import load_security
    from ssi_stream.ops.topic_snapshot import TopicSnapshot, TopicSnapshotError
    from ssi_stream.report.inputs import LineSource

    security = load_security(settings)
    bootstrap = resolve_bootstrap(settings)
    try:
        snapshot = TopicSnapshot(bootstrap, security, topic, client_id="ssi-stream-report")
    except TopicSnapshotError as exc:
        raise CommandError(str(exc)) from None
    source = LineSource(
        unit=f"records of {topic}",
        total=snapshot.total,
        locate=lambda number: f"the record at partition {snapshot.partition}, offset {snapshot.offset}",
        events=False,
    )
    return snapshot, source


def _read_groups(path: str) -> dict[str, str]:
    """`member_id,group` lines (a header line `member_id,group` is allowed), as a dict."""
    groups: dict[str, str] = {}
    with _open_read(path) as raw:
        for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), start=1):
            text = line.strip()
            if not text or (number == 1 and text.replace(" ", "") == "member_id,group"):
                continue
            member_id, comma, group = text.partition(",")
            if not comma or not member_id or not group.strip():
                raise CommandError(f"{path}: line {number} is not 'member_id,group': {text[:80]!r}")
            groups[member_id] = group.strip()
    return groups


def cmd_simulate(args: argparse.Namespace) -> int:
    from ssi_stream.simulation import generate, write_jsonl

    try:
        config = SimulationConfig(
            members=args.members,
            days=args.days,
            start=args.start,
            seed=args.seed,
            events_per_member_day_scale=args.scale,
            jitter_seconds=args.jitter_seconds,
            duplicate_rate=args.duplicate_rate,
            invalid_rate=args.invalid_rate,
            outcomes=args.outcomes,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.rate is not None and not args.kafka:
        raise UsageError("--rate paces --kafka; a file or stdout is written as fast as possible")
    if args.personas is not None:
        if args.personas == STDIO and args.output in (None, STDIO) and not args.kafka:
            raise UsageError("--personas and the events cannot both go to stdout")
        _check_writable(args.personas)
        _write_personas(config, args.personas)
    if args.kafka:
        count = _simulate_to_kafka(config, rate=args.rate)
    else:
        with _open_write(args.output) as output:
            count = write_jsonl(generate(config), output)
    print(f"simulate: {count} events for {config.members} members over {config.days} days", file=sys.stderr)
    return 0


def _write_personas(config: SimulationConfig, path: str) -> None:
    """`member_id,persona` of every simulated member: the groups `ssi-stream report --groups` reads."""
    from ssi_stream.simulation import Population

    population = Population(config)
    with _open_write(path) as output:
        output.write(b"member_id,group\n")
        output.write(
            "".join(
                f"{population.member_id(i)},{population.persona(i).name}\n" for i in range(config.members)
            ).encode()
        )


def _simulate_to_kafka(config: SimulationConfig, *, rate: float | None) -> int:
    from ssi_stream.ops.bootstrap import resolve_bootstrap
    from ssi_stream.ops.kafka_security import load_security
    from ssi_stream.ops.topics import ensure_topics
    from ssi_stream.simulation import iter_encoded
    from ssi_stream.stream.producer import produce_events
    from ssi_stream.stream.topology import topic_specs

    settings = Settings.from_env()
    bootstrap = resolve_bootstrap(settings)
    security = load_security(settings)
    ensure_topics(bootstrap, topic_specs(settings), security=security)
    started = time.monotonic()

    def progress(sent: int) -> None:
        if sys.stderr.isatty():
            rate_now = sent / max(time.monotonic() - started, 1e-9)
            sys.stderr.write(
                f"\rsimulate: {sent:,} events sent to {settings.events_topic} ({rate_now:,.0f}/s)"
            )
            sys.stderr.flush()

    count = produce_events(
        bootstrap,
        settings.events_topic,
        iter_encoded(config),
        rate=rate,
        on_progress=progress,
        security=security,
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
        members=args.members,
        days=args.days,
        rate=args.rate,
        seed=args.seed,
        duration=args.duration,
        locale=args.locale,
    )
    return run_demo(Settings.from_env(), options)


def cmd_dlq_resend(args: argparse.Namespace) -> int:
    from ssi_stream.events.resend import ResendFilter, ResendTally
    from ssi_stream.ops.bootstrap import resolve_bootstrap
    from ssi_stream.ops.kafka_security import load_security
    from ssi_stream.stream.dlq_resend import (
        EventsProducer,
        ResendError,
        dead_letters_in_file,
        dead_letters_on_topic,
        describe,
        resend,
    )

    settings = Settings.from_env()
    first, last = args.offsets or (None, None)
    selection = ResendFilter(
        reasons=frozenset(args.reason or ()),
        partition=args.partition,
        first_offset=first,
        last_offset=last,
        since=args.since,
        until=args.until,
    )
    if args.since is not None and args.until is not None and args.since >= args.until:
        raise UsageError("--since must be before --until")
    tally = ResendTally()
    needs_broker = args.file is None or not args.dry_run
    bootstrap = resolve_bootstrap(settings) if needs_broker else ""
    security = load_security(settings)
    source = settings.dlq_topic if args.file is None else ("<stdin>" if args.file == STDIO else args.file)

    def listed(item: Any) -> None:
        if args.dry_run:
            print(describe(item))

    with contextlib.ExitStack() as closing:
        if args.file is None:
            dead_letters = dead_letters_on_topic(
                bootstrap, security, settings.dlq_topic, tally, timeout=args.timeout
            )
        else:
            lines = closing.enter_context(_open_read(args.file))
            dead_letters = dead_letters_in_file(lines, source, tally)
        sender = None if args.dry_run else EventsProducer(bootstrap, security, settings.events_topic)
        try:
            resend(
                dead_letters,
                selection,
                tally,
                send=sender,
                key_by_member_id=args.key_by_member_id,
                on_item=listed,
            )
        except ResendError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if sender is not None:
                try:
                    sender.close()
                except ResendError as exc:
                    raise CommandError(str(exc)) from None
    print(
        f"dlq resend: {tally.summary(source, settings.events_topic, dry_run=args.dry_run)}", file=sys.stderr
    )
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    print(bash_completion(build_parser()), end="")
    return 0


# -- the parser -----------------------------------------------------------------------------------


def _command(
    commands: argparse._SubParsersAction,
    name: str,
    run: Callable[[argparse.Namespace], int],
    help: str,
    description: str | None = None,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help,
        description=description or help[:1].upper() + help[1:] + ".",
        epilog=epilog,
        formatter_class=_HelpFormatter,
    )
    parser.set_defaults(run=run, command_parser=parser)
    return parser


def _group(
    commands: argparse._SubParsersAction, name: str, help: str, dest: str
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help, description=help[:1].upper() + help[1:] + ".", formatter_class=_HelpFormatter
    )
    parser.set_defaults(command_parser=parser)
    return parser, parser.add_subparsers(dest=dest, required=True, metavar="ACTION")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ssi-stream", description=DESCRIPTION, epilog=EPILOG, formatter_class=_HelpFormatter
    )
    parser.set_defaults(command_parser=parser)
    parser.add_argument("--version", action="version", version=f"ssi-stream {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kafka, kafka_commands = _group(
        commands, "kafka", "manage the local single-node Kafka broker", "kafka_command"
    )
    kafka.add_argument(
        "--home",
        metavar="DIR",
        help="cache and state directory"
        " (default: $SSI_STREAM_HOME, else $XDG_CACHE_HOME/ssi-stream, else ~/.cache/ssi-stream)",
    )
    _command(kafka_commands, "install", cmd_kafka_install, "download Kafka with mvn into the cache (once)")
    up = _command(kafka_commands, "up", cmd_kafka_up, "start the broker on 127.0.0.1 (idempotent)")
    up.add_argument("--port", type=_port, help="listen on this port (default: a free one)")
    up.add_argument(
        "--timeout", type=_positive, default=90.0, help="seconds to wait for the broker to answer"
    )
    down = _command(kafka_commands, "down", cmd_kafka_down, "stop the broker (SIGTERM, then SIGKILL)")
    down.add_argument("--timeout", type=_positive, default=30.0, help="seconds before SIGKILL")
    status = _command(
        kafka_commands,
        "status",
        cmd_kafka_status,
        "is the broker running and answering? (exit 1 if not)",
        description="Say whether the broker is running and answering metadata requests; exit 1 if not.",
    )
    status.add_argument(
        "--bootstrap", action="store_true", help="print only the bootstrap address, for scripts"
    )
    logs = _command(kafka_commands, "logs", cmd_kafka_logs, "show the end of the broker log")
    logs.add_argument("-n", "--lines", type=_whole, default=40, help="how many of the last lines to show")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing lines as they are written")

    replay = _command(
        commands,
        "replay",
        cmd_replay,
        "score a JSON-lines event log offline, as the stream would",
        epilog="""\
Replay uses the stream's code and settings (SSI_PARTITIONS, SSI_GRACE_SECONDS, SSI_MAX_EVENT_BYTES, the
model file) and prints a summary to stderr. Examples:
  ssi-stream replay events.jsonl --output scores.jsonl --dlq rejected.jsonl
  ssi-stream simulate --members 50 | ssi-stream replay - > scores.jsonl
  ssi-stream replay events.jsonl.gz --alerts alerts.jsonl""",
    )
    replay.add_argument(
        "events", metavar="EVENTS_FILE", help="the event log: JSON lines, or gzip of them; - for stdin"
    )
    replay.add_argument("--output", metavar="FILE", help="daily score records (default: stdout)")
    replay.add_argument("--dlq", metavar="FILE", help="dead-letter records for rejected lines; - for stdout")
    replay.add_argument(
        "--alerts",
        metavar="FILE",
        help="score alerts (what the stream sends to its alerts topic); - for stdout",
    )
    replay.add_argument(
        "--model",
        metavar="FILE",
        help="scoring model file; - for stdin (default: $SSI_MODEL_PATH, else the packaged one)",
    )
    replay.add_argument(
        "--partitions",
        type=_positive_int,
        help=f"partitions of the events topic (default: $SSI_PARTITIONS, else {_DEFAULTS.partitions})",
    )
    replay.add_argument(
        "--grace-seconds",
        type=_whole,
        help="how long past midnight a day stays open for late events"
        f" (default: $SSI_GRACE_SECONDS, else {_DEFAULTS.grace_seconds})",
    )
    replay.add_argument(
        "--explain",
        action="store_true",
        help="add to each record its explanations as texts (`texts`), in --locale",
    )
    replay.add_argument(
        "--locale",
        choices=LOCALES,
        default=DEFAULT_LOCALE,
        help="the language of --explain's texts",
    )
    replay.add_argument(
        "--emit",
        choices=EMIT_MODES,
        help="which score records to write: 'changes' (a member's first scored day, days they acted, days"
        " their SSI, a pillar or a rank moved) or 'daily' (every member, every day)"
        f" (default: $SSI_EMIT, else {_DEFAULTS.emit})",
    )

    simulate = _command(
        commands,
        "simulate",
        cmd_simulate,
        "generate a simulated population's activity events as JSON lines",
        epilog="The same arguments give the same bytes. See docs/simulation.md.",
    )
    simulate.add_argument("--members", type=_members, default=500, help="members in the population")
    simulate.add_argument("--days", type=_positive_int, default=28, help="simulated days")
    simulate.add_argument(
        "--start", type=_iso_date, default=date(2026, 3, 2), metavar="YYYY-MM-DD", help="first simulated day"
    )
    simulate.add_argument("--seed", type=_seed, default=0, help="random seed")
    simulate.add_argument("--scale", type=_non_negative, default=1.0, help="multiplies every activity rate")
    simulate.add_argument(
        "--jitter-seconds",
        type=_non_negative,
        default=0.0,
        help="emit events up to this far out of time order",
    )
    simulate.add_argument(
        "--duplicate-rate", type=_fraction, default=0.0, help="share of events sent again (0-1)"
    )
    simulate.add_argument(
        "--invalid-rate", type=_fraction, default=0.0, help="broken payloads per valid event (0-1)"
    )
    target = simulate.add_mutually_exclusive_group()
    target.add_argument(
        "-o", "--output", metavar="FILE", help="file to write; - for stdout (default: stdout)"
    )
    target.add_argument(
        "--kafka",
        action="store_true",
        help="produce to $SSI_EVENTS_TOPIC instead (on $SSI_BROKER, else the local broker)",
    )
    simulate.add_argument(
        "--rate", type=_positive, help="with --kafka: events per second (default: as fast as possible)"
    )
    simulate.add_argument(
        "--outcomes",
        action="store_true",
        help="also emit CRM outcome events (meetings, calls, opportunities, deals) that follow from"
        " behaviour; the activity events are the same either way",
    )
    simulate.add_argument(
        "--personas",
        metavar="FILE",
        help="also write each member's persona as 'member_id,group' lines (for report --groups)",
    )

    report = _command(
        commands,
        "report",
        cmd_report,
        "measure whether the score predicts outcomes: an HTML and JSON report",
        epilog="""\
INPUT is a file of score records (replay's output, or a copy of the scores topic) or an event log,
which is replayed first with replay's settings (SSI_PARTITIONS, SSI_GRACE_SECONDS, the model file).
--scores-topic reads the score records from Kafka instead (SSI_BROKER, else the local broker; SSI_KAFKA_*
security): every partition from its earliest offset to the end it had when the report started, without
a consumer group. Records without a value (tombstones) are passed over and counted; any other value that
is not a score record stops the report, naming its partition and offset. Each member scored on the
anchor day (--at, and every --every days before it) is observed with the outcomes they log in the
--window days after. Examples:
  ssi-stream simulate --members 2000 --days 150 --outcomes --personas personas.csv -o events.jsonl
  ssi-stream report events.jsonl --groups personas.csv --html report.html --json report.json
  ssi-stream replay events.jsonl --output scores.jsonl
  ssi-stream report scores.jsonl --events events.jsonl --window 60 --json -
  ssi-stream report --scores-topic --events events.jsonl --json report.json""",
    )
    report_input = report.add_mutually_exclusive_group(required=True)
    report_input.add_argument(
        "input",
        nargs="?",
        metavar="INPUT",
        help="score records or an event log: JSON lines, or gzip of them; - for stdin",
    )
    report_input.add_argument(
        "--scores-topic",
        nargs="?",
        const="",
        type=_topic,
        metavar="TOPIC",
        help="instead of INPUT: the score records on this Kafka topic, as they stand when the report"
        " starts (default TOPIC: $SSI_SCORES_TOPIC, else " + _DEFAULTS.scores_topic + ")",
    )
    report.add_argument(
        "--html", metavar="FILE", help="the report as one HTML page with its plots; - for stdout"
    )
    report.add_argument("--json", metavar="FILE", help="the report's figures as JSON; - for stdout")
    report.add_argument(
        "--window",
        type=_positive_int,
        default=90,
        metavar="DAYS",
        help="days after each score to count outcomes in",
    )
    report.add_argument(
        "--at",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the anchor day (default: the last day with a whole window after it)",
    )
    report.add_argument(
        "--every", type=_positive_int, metavar="DAYS", help="also anchor every DAYS days before --at"
    )
    report.add_argument(
        "--outcome",
        choices=OUTCOME_TYPES,
        default="opportunity_created",
        help="the outcome of the headline lift and of the calibration views",
    )
    report.add_argument(
        "--groups", metavar="FILE", help="'member_id,group' lines: outcomes by group (simulate --personas)"
    )
    report.add_argument(
        "--events",
        metavar="FILE",
        help="with score records: the event log, to count each member's own activity (volume)",
    )
    report.add_argument(
        "--resamples", type=_positive_int, default=1000, help="bootstrap resamples (100 or more)"
    )
    report.add_argument("--seed", type=_seed, default=0, help="the bootstrap's random seed")
    report.add_argument(
        "--model",
        metavar="FILE",
        help="with an event log: the scoring model file (default: $SSI_MODEL_PATH, else the packaged one)",
    )
    report.add_argument(
        "--partitions",
        type=_positive_int,
        help=f"with an event log: partitions (default: $SSI_PARTITIONS, else {_DEFAULTS.partitions})",
    )
    report.add_argument(
        "--grace-seconds",
        type=_whole,
        help="with an event log: how long past midnight a day stays open"
        f" (default: $SSI_GRACE_SECONDS, else {_DEFAULTS.grace_seconds})",
    )

    worker = _command(
        commands,
        "worker",
        cmd_worker,
        "run a scoring worker (settings from SSI_* variables)",
        epilog="Workers with the same SSI_APP_ID share the partitions; SIGTERM or Ctrl-C stops one cleanly.",
    )
    worker.add_argument(
        "--worker-id", help=f"this worker's name (default: $SSI_WORKER_ID, else {_DEFAULTS.worker_id})"
    )
    worker.add_argument(
        "--web-port", type=_port, help=f"HTTP port (default: $SSI_WEB_PORT, else {_DEFAULTS.web_port})"
    )
    worker.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"table data directory (default: $SSI_DATA_DIR, else {_DEFAULTS.data_dir})",
    )
    worker.add_argument(
        "--loglevel",
        type=str.upper,
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="log level",
    )

    demo = _command(
        commands,
        "demo",
        cmd_demo,
        "run the live demo: broker, worker, simulated members, live scores",
        epilog="Ctrl-C stops the simulator, the worker and the broker it started.",
    )
    demo.add_argument("--members", type=_members, default=2000, help="members in the population")
    demo.add_argument("--days", type=_positive_int, default=60, help="simulated days")
    demo.add_argument("--rate", type=_positive, default=2000.0, help="events per second to produce")
    demo.add_argument("--seed", type=_seed, default=1, help="random seed of the population")
    demo.add_argument(
        "--duration", type=_positive, help="stop after this many seconds (default: until Ctrl-C)"
    )
    demo.add_argument("--locale", choices=LOCALES, default=DEFAULT_LOCALE, help="the board's language")

    _, dlq_commands = _group(commands, "dlq", "work with the dead-letter queue", "dlq_command")
    resend = _command(
        dlq_commands,
        "resend",
        cmd_dlq_resend,
        "send dead letters back to the events topic, as they came, after a fix",
        epilog="""\
Reads the DLQ topic ($SSI_DLQ_TOPIC) from its beginning (nothing is committed or deleted), or --file,
and sends each selected dead letter's original value, key and headers (not the error headers) to
$SSI_EVENTS_TOPIC. A dead letter whose value was cut (too_large) or that had none (null_value) is
skipped. Every condition given must hold. The broker and its security come from the SSI_* settings.
Examples:
  ssi-stream dlq resend --reason schema_registry_framed --dry-run
  ssi-stream dlq resend --reason wrong_key --key-by-member-id --since 2026-03-02T09:00:00Z
  ssi-stream dlq resend --partition 3 --offsets 1800-1900
  ssi-stream replay events.jsonl --dlq rejected.jsonl && ssi-stream dlq resend --file rejected.jsonl""",
    )
    resend.add_argument(
        "--file",
        metavar="FILE",
        help="read dead-letter records from this JSON-lines file (what `replay --dlq` writes); - for stdin"
        " (default: the DLQ topic)",
    )
    resend.add_argument(
        "--reason",
        action="append",
        choices=[code.value for code in RejectionCode],
        metavar="REASON",
        help="only dead letters rejected for this reason (docs/events.md); repeat for several",
    )
    resend.add_argument(
        "--partition",
        type=_whole,
        metavar="N",
        help="only records rejected from this partition of the events topic",
    )
    resend.add_argument(
        "--offsets",
        type=_offsets,
        metavar="FROM-TO",
        help="only records rejected at these offsets of the events topic (inclusive; 100-, -200 or 150"
        " also work)",
    )
    resend.add_argument(
        "--since",
        type=_instant,
        metavar="WHEN",
        help="only records rejected at or after WHEN: a date (UTC) or a timestamp like 2026-03-02T09:15:00Z",
    )
    resend.add_argument(
        "--until", type=_instant, metavar="WHEN", help="only records rejected before WHEN (same forms)"
    )
    resend.add_argument(
        "--key-by-member-id",
        action="store_true",
        help="key every record by its event's member_id instead of its original key (the fix for"
        " wrong_key); a line of a replayed file is always keyed so",
    )
    resend.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be sent, one line per record, and send nothing",
    )
    resend.add_argument(
        "--timeout",
        type=_positive,
        default=60.0,
        metavar="SECONDS",
        help="seconds to wait for the DLQ topic when no message arrives",
    )

    completion = _command(
        commands,
        "completion",
        cmd_completion,
        "print a shell completion script",
        epilog="""\
Install for bash:
  ssi-stream completion bash > ~/.local/share/bash-completion/completions/ssi-stream
or for the current shell only:
  source <(ssi-stream completion bash)""",
    )
    completion.add_argument("shell", choices=["bash"], help="the shell")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: argparse.ArgumentParser = args.command_parser
    try:
        return int(args.run(args))
    except UsageError as exc:
        command.error(str(exc))  # exits with EXIT_USAGE, after the command's usage
    except (CommandError, KafkaSetupError, KafkaAccessError, SettingsError, ModelError) as exc:
        print(f"{command.prog}: {exc}", file=sys.stderr)
    except BrokenPipeError:  # e.g. `ssi-stream replay events.jsonl | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python exits
    except OSError as exc:  # a disk that fills up, a broker that refuses: one line, not a traceback
        print(f"{command.prog}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return EXIT_RUNTIME


if __name__ == "__main__":
    sys.exit(main())
