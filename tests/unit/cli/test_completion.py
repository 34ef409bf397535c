"""`ssi-stream completion bash`: the script bash sources completes what the parser accepts."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from ssi_stream.cli import build_parser, main
from ssi_stream.completion import bash_completion

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "ssi-stream.bash"
    path.write_text(bash_completion(build_parser()))
    return path


def complete(script: Path, *words: str, cwd: Path | None = None) -> list[str]:
    """What bash offers for the last of `words` (the word being typed) after the others."""
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ssi_stream;'
        ' printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        ["bash", "-c", program, "bash", str(script), "ssi-stream", *words],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_the_command_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    out = capsys.readouterr().out
    assert out == bash_completion(build_parser())
    assert out.rstrip().endswith("complete -F _ssi_stream ssi-stream")


def test_every_command_and_every_option_is_offered(script: Path) -> None:
    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        options = {option for action in parser._actions for option in action.option_strings}
        assert set(complete(script, *path, "-")) == options, path
        sub = commands(parser)
        if sub:
            assert complete(script, *path, "") == list(sub), path
        for name, subparser in sub.items():
            walk(subparser, [*path, name])

    walk(build_parser(), [])


def test_values_complete_as_choices_files_or_directories(script: Path, tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text("")
    (tmp_path / "events.d").mkdir()
    assert complete(script, "worker", "--loglevel", "W") == ["WARNING"]
    assert complete(script, "completion", "") == ["bash"]
    assert complete(script, "kafka", "--home", str(tmp_path), "u") == ["up"]  # the option's value is skipped
    assert sorted(complete(script, "replay", "ev", cwd=tmp_path)) == ["events.d", "events.jsonl"]
    assert sorted(complete(script, "replay", "x", "--dlq", "ev", cwd=tmp_path)) == [
        "events.d",
        "events.jsonl",
    ]
    assert complete(script, "worker", "--data-dir", "ev", cwd=tmp_path) == ["events.d"]
    assert complete(script, "replay", "--partitions", "") == []  # a number: nothing to offer


def test_an_option_whose_value_may_be_left_out_is_followed_by_options_too(
    script: Path, tmp_path: Path
) -> None:
    (tmp_path / "report.json").write_text("")
    assert complete(script, "report", "--scores-topic", "--js") == ["--json"]
    assert complete(script, "report", "--scores-topic", "") == []  # a topic name: nothing to offer
    assert complete(script, "report", "--scores-topic", "--json", "rep", cwd=tmp_path) == ["report.json"]
    assert complete(script, "report", "--scores-topic", "scores", "--json", "rep", cwd=tmp_path) == [
        "report.json"
    ]
    assert complete(script, "report", "--scores-topic", "--json", "x", "--gro") == ["--groups"]
