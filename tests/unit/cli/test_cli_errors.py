"""`ssi-stream` as a user meets it: help, each command's own usage, one-line errors and exit codes, `-`
for stdin and stdout, gzip input."""

from __future__ import annotations

import argparse
import gzip
import lzma
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from ssi_stream.cli import EXIT_RUNTIME, EXIT_USAGE, build_parser, main

#: Arguments of the small log every test replays (deterministic: the same bytes each session).
SIMULATE = ["simulate", "--members", "20", "--days", "3", "--seed", "4", "--invalid-rate", "0.01"]


@pytest.fixture(autouse=True)
def _no_ssi_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's defaults, not whatever SSI_* variables the shell running the tests has."""
    for name in list(os.environ):
        if name.startswith("SSI_"):
            monkeypatch.delenv(name)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """main(argv) as the console script runs it: exit code (argparse's SystemExit too), stdout, stderr."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def cli(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SSI_")}
    return subprocess.run(
        [sys.executable, "-m", "ssi_stream.cli", *argv],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "events.jsonl"
    assert main([*SIMULATE, "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def scores(log: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The log's score records, replayed from the plain file."""
    path = tmp_path_factory.mktemp("cli-scores") / "scores.jsonl"
    assert main(["replay", str(log), "--output", str(path)]) == 0
    assert path.stat().st_size > 0
    return path.read_bytes()


def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every (sub)command's parser under it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                found.extend(parsers(subparser))
    return found


# -- help ------------------------------------------------------------------------------------------


def test_the_top_level_help_describes_the_tool_not_the_module() -> None:
    text = build_parser().format_help()
    assert "Social Selling Index" in text and "SSI_*" in text
    assert "holds no logic" not in text and "entry point" not in text


def test_every_option_of_every_command_has_help() -> None:
    for parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):  # each command has its own line of help
                for command in action._choices_actions:
                    assert command.help, f"{parser.prog} {command.dest} has no help"
                continue
            assert action.help, f"{parser.prog} {action.option_strings or action.dest} has no help"


def test_help_shows_the_defaults() -> None:
    simulate = next(p for p in parsers(build_parser()) if p.prog == "ssi-stream simulate").format_help()
    assert "(default: 500)" in simulate and "(default: 2026-03-02)" in simulate and "(default: 0)" in simulate
    replay = next(p for p in parsers(build_parser()) if p.prog == "ssi-stream replay").format_help()
    assert "$SSI_PARTITIONS, else 8" in replay
    assert "(default: None)" not in replay and "(default: False)" not in replay


# -- usage errors: exit 2, the command's own usage -------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "prog", "message"),
    [
        (["replay", "x.jsonl", "--bogus"], "ssi-stream replay", "unrecognized arguments: --bogus"),
        (["replay", "--bogus"], "ssi-stream replay", "the following arguments are required: EVENTS_FILE"),
        (["kafka", "up", "--bogus"], "ssi-stream kafka up", "unrecognized arguments: --bogus"),
        (["simulate", "--bogus", "1"], "ssi-stream simulate", "unrecognized arguments: --bogus 1"),
        (["--bogus", "replay", "x"], "ssi-stream", "unrecognized arguments: --bogus"),
        (
            ["replay", "x.jsonl", "--partitions", "0"],
            "ssi-stream replay",
            "argument --partitions: must be a whole number above 0, got '0'",
        ),
        (
            ["replay", "x.jsonl", "--grace-seconds", "-1"],
            "ssi-stream replay",
            "argument --grace-seconds: must be a whole number, 0 or more, got '-1'",
        ),
        (
            ["simulate", "--members", "1"],
            "ssi-stream simulate",
            "argument --members: must be a whole number from 2 to 100,000,000, got '1'",
        ),
        (
            ["simulate", "--start", "2026-02-30"],
            "ssi-stream simulate",
            "argument --start: must be a date (YYYY-MM-DD), got '2026-02-30'",
        ),
        (
            ["simulate", "--duplicate-rate", "1.5"],
            "ssi-stream simulate",
            "argument --duplicate-rate: must be a number from 0 to 1, got '1.5'",
        ),
        (["simulate", "--rate", "10"], "ssi-stream simulate", "--rate paces --kafka"),
        (
            ["simulate", "--kafka", "-o", "x"],
            "ssi-stream simulate",
            "argument -o/--output: not allowed with argument --kafka",
        ),
        (
            ["demo", "--rate", "nan"],
            "ssi-stream demo",
            "argument --rate: must be a number above 0, got 'nan'",
        ),
        (
            ["kafka", "up", "--port", "70000"],
            "ssi-stream kafka up",
            "argument --port: must be a port number (1-65535)",
        ),
        (
            ["worker", "--loglevel", "loud"],
            "ssi-stream worker",
            "argument --loglevel: invalid choice: 'LOUD'",
        ),
        (
            ["replay", "x.jsonl", "--dlq", "-"],
            "ssi-stream replay",
            "--output, --dlq would write to stdout together (--output does when not given)",
        ),
        (["replay", "-", "--model", "-"], "ssi-stream replay", "the events and the model cannot both be"),
        (["completion", "fish"], "ssi-stream completion", "argument shell: invalid choice: 'fish'"),
        (
            ["dlq", "resend", "--offsets", "200-100"],
            "ssi-stream dlq resend",
            "argument --offsets: must be offsets like 100-200, 100- or -200, got '200-100'",
        ),
        (
            ["dlq", "resend", "--since", "yesterday"],
            "ssi-stream dlq resend",
            "argument --since: must be a date (YYYY-MM-DD, UTC) or a timestamp with an offset",
        ),
        (
            ["dlq", "resend", "--until", "2026-03-02T09:15:00"],
            "ssi-stream dlq resend",
            "argument --until: must be a date (YYYY-MM-DD, UTC) or a timestamp with an offset",
        ),
        (
            ["dlq", "resend", "--reason", "bad_vibes"],
            "ssi-stream dlq resend",
            "argument --reason: invalid choice: 'bad_vibes'",
        ),
        (
            ["dlq", "resend", "--file", "x", "--since", "2026-03-03", "--until", "2026-03-02"],
            "ssi-stream dlq resend",
            "--since must be before --until",
        ),
        (["dlq", "bounce"], "ssi-stream dlq", "argument ACTION: invalid choice: 'bounce'"),
        (
            ["report", "--json", "-"],
            "ssi-stream report",
            "one of the arguments INPUT --scores-topic is required",
        ),
        (
            ["report", "scores.jsonl", "--scores-topic", "--json", "-"],
            "ssi-stream report",
            "argument --scores-topic: not allowed with argument INPUT",
        ),
        (
            ["report", "--scores-topic", "ssi.scores.daily", "scores.jsonl", "--json", "-"],
            "ssi-stream report",
            "argument INPUT: not allowed with argument --scores-topic",
        ),
        (
            ["report", "--scores-topic", "scores daily", "--json", "-"],
            "ssi-stream report",
            "argument --scores-topic: must be a Kafka topic name (letters, digits, '.', '_' and '-'; at most"
            " 249), got 'scores daily'",
        ),
        (
            ["report", "--scores-topic", "..", "--json", "-"],
            "ssi-stream report",
            "argument --scores-topic: must be a Kafka topic name",
        ),
    ],
)
def test_a_usage_error_exits_2_under_the_usage_of_the_command_that_got_it(
    argv: list[str], prog: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith(f"usage: {prog} ")
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"{prog}: error: {message}"), last


@pytest.mark.parametrize(
    ("argv", "topic", "input"),
    [
        (["--scores-topic", "--json", "-"], "", None),  # "": the topic of SSI_SCORES_TOPIC
        (["--json", "-", "--scores-topic"], "", None),
        (["--scores-topic", "t.scores-2_b", "--json", "-"], "t.scores-2_b", None),
        (["scores.jsonl", "--json", "-"], None, "scores.jsonl"),
        (["-", "--json", "-"], None, "-"),
    ],
)
def test_the_report_reads_either_input_or_the_scores_topic(
    argv: list[str], topic: str | None, input: str | None
) -> None:
    args = build_parser().parse_args(["report", *argv])
    assert (args.scores_topic, args.input) == (topic, input)


# -- runtime errors: exit 1, one line naming the path ----------------------------------------------


def test_runtime_errors_are_one_line_naming_the_whole_path(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xz = tmp_path / "events.jsonl.xz"
    xz.write_bytes(lzma.compress(log.read_bytes()))
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(gzip.compress(log.read_bytes())[:2000])
    missing = tmp_path / "no" / "such"
    cases = [
        (["replay", str(tmp_path)], f"ssi-stream replay: cannot read {tmp_path}: is a directory"),
        (
            ["replay", str(tmp_path / "nope")],
            f"ssi-stream replay: cannot read {tmp_path / 'nope'}: no such file",
        ),
        (
            ["simulate", "-o", str(missing / "x")],
            f"ssi-stream simulate: cannot write {missing / 'x'}: directory {missing} does not exist",
        ),
        (
            ["replay", str(log), "--output", str(missing / "x")],
            f"ssi-stream replay: cannot write {missing / 'x'}: directory {missing} does not exist",
        ),
        (
            ["replay", str(log), "--output", str(log / "x")],
            f"ssi-stream replay: cannot write {log / 'x'}: {log} is not a directory",
        ),
        (
            ["replay", str(log), "--dlq", str(tmp_path)],
            f"ssi-stream replay: cannot write {tmp_path}: is a directory",
        ),
        (
            ["replay", str(log), "--model", "/x.toml"],
            "ssi-stream replay: cannot read the model file /x.toml: no such file",
        ),
        (
            ["replay", str(xz)],
            f"ssi-stream replay: {xz} is xz-compressed: decompress it first (gzip is read as it is)",
        ),
        (["replay", str(truncated)], f"ssi-stream replay: {truncated}: not a complete gzip stream ("),
    ]
    for argv, message in cases:
        code, out, err = run(argv, capsys)
        assert (code, out) == (EXIT_RUNTIME, ""), argv
        assert err.count("\n") == 1 and err.startswith(message), (argv, err)


def test_a_bad_model_path_from_the_environment_names_the_variable(
    log: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSI_MODEL_PATH", "/etc/ssi/model.toml")
    code, _, err = run(["replay", str(log)], capsys)
    assert code == EXIT_RUNTIME
    assert err == (
        "ssi-stream replay: cannot read the model file /etc/ssi/model.toml (SSI_MODEL_PATH): no such file\n"
    )


def test_an_unusable_setting_is_one_line_naming_the_variable(
    log: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSI_PARTITIONS", "0")
    code, _, err = run(["replay", str(log)], capsys)
    assert (code, err) == (EXIT_RUNTIME, "ssi-stream replay: SSI_PARTITIONS must be positive, got 0\n")


def test_a_failed_output_leaves_the_other_outputs_untouched(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = tmp_path / "scores.jsonl"
    previous.write_text("yesterday's scores\n")
    code, _, _ = run(["replay", str(log), "--output", str(previous), "--dlq", str(tmp_path / "no/x")], capsys)
    assert code == EXIT_RUNTIME
    assert previous.read_text() == "yesterday's scores\n"


def test_runtime_errors_carry_no_traceback(tmp_path: Path) -> None:
    for argv in (["replay", str(tmp_path)], ["simulate", "-o", str(tmp_path / "no" / "x")]):
        result = cli(*argv)
        assert result.returncode == EXIT_RUNTIME
        assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr


def test_a_closed_pipe_stops_quietly(log: Path) -> None:
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    env = {name: value for name, value in os.environ.items() if not name.startswith("SSI_")}
    writer = subprocess.run(
        [sys.executable, "-m", "ssi_stream.cli", "simulate", "--members", "3000", "--days", "3"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        env=env,
        check=False,
    )
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait()
    assert writer.returncode == EXIT_RUNTIME
    assert writer.stderr == b""


# -- `-` and gzip ----------------------------------------------------------------------------------


def test_replay_reads_stdin_and_gzip_as_it_reads_the_plain_file(log: Path, scores: bytes) -> None:
    plain = log.read_bytes()
    for name, source in [("-", plain), ("-", gzip.compress(plain))]:
        result = cli("replay", name, stdin=source)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout == scores
    compressed = log.with_suffix(".jsonl.gz")
    compressed.write_bytes(gzip.compress(plain))
    result = cli("replay", str(compressed))
    assert result.returncode == 0 and result.stdout == scores


def test_replay_writes_any_one_output_to_stdout(log: Path, scores: bytes, tmp_path: Path) -> None:
    result = cli("replay", str(log), "--output", str(tmp_path / "s.jsonl"), "--dlq", "-")
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "s.jsonl").read_bytes() == scores
    rejected = result.stdout.splitlines()
    assert rejected and all(b'"reason"' in line for line in rejected)
    assert cli("replay", str(log), "--output", "-").stdout == scores


def test_dead_letters_of_stdin_have_no_file_name(log: Path, tmp_path: Path) -> None:
    """docs/events.md: a replayed line's `source.file` is the path, or null for stdin."""
    dlq = tmp_path / "dlq.jsonl"
    result = cli("replay", "-", "--dlq", str(dlq), stdin=log.read_bytes())
    assert result.returncode == 0
    sources = [orjson.loads(line)["source"] for line in dlq.read_bytes().splitlines()]
    assert sources and {source["file"] for source in sources} == {None}
    assert all(source["line"] >= 1 for source in sources)


def test_the_model_can_come_from_stdin(log: Path, scores: bytes) -> None:
    from importlib import resources

    model = resources.files("ssi_stream").joinpath("model", "default.toml").read_bytes()
    result = cli("replay", str(log), "--model", "-", stdin=model)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == scores


def test_simulate_writes_the_same_events_to_stdout_and_to_a_file(log: Path) -> None:
    result = cli(*SIMULATE, "-o", "-")
    assert result.returncode == 0
    assert result.stdout == log.read_bytes() == cli(*SIMULATE).stdout


def test_replay_passes_the_event_size_limit_from_the_settings(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSI_MAX_EVENT_BYTES", "100")  # smaller than every simulated event
    code, _, err = run(["replay", str(log), "--output", str(tmp_path / "s.jsonl")], capsys)
    assert code == 0
    events = sum(1 for line in log.read_bytes().splitlines() if line.strip())
    assert f"{events} events read, {events} rejected" in err and "too_large" in err


def test_replay_takes_schema_registry_framing_off_as_the_settings_say(
    log: Path,
    scores: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    framed = tmp_path / "framed.jsonl"
    lines = [line for line in log.read_bytes().splitlines() if line.strip()]
    framed.write_bytes(b"".join(b"\x00\x00\x00\x00\x07" + line + b"\n" for line in lines))
    output = tmp_path / "s.jsonl"
    code, _, err = run(["replay", str(framed), "--output", str(output)], capsys)
    assert code == 0 and f"{len(lines)} rejected (schema_registry_framed {len(lines)})" in err
    monkeypatch.setenv("SSI_SCHEMA_REGISTRY_FRAMING", "check")
    monkeypatch.setenv("SSI_SCHEMA_REGISTRY_IDS", "7")
    assert run(["replay", str(framed), "--output", str(output)], capsys)[0] == 0
    assert output.read_bytes() == scores  # the same records as the plain log
