"""`ssi-stream report` and `ssi-stream simulate --outcomes --personas` as a user runs them."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import orjson
import pytest

from ssi_stream.cli import main
from ssi_stream.events.types import OUTCOME_TYPES

from .conftest import CLI_CONFIG, CONFIG, WINDOW, ReportWorld

#: Slow (the report command over a simulated world): `make test` runs it, `make unit` leaves it out.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _no_ssi_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SSI_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def files(cli_world: ReportWorld, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report-cli")
    paths = {name: folder / name for name in ("events.jsonl", "scores.jsonl.gz", "personas.csv")}
    paths["events.jsonl"].write_bytes(cli_world.events)
    paths["scores.jsonl.gz"].write_bytes(gzip.compress(cli_world.records))
    personas = "".join(f"{member},{persona}\n" for member, persona in cli_world.personas.items())
    paths["personas.csv"].write_text("member_id,group\n" + personas)
    return paths


def test_a_report_over_records_or_over_their_event_log_is_the_same(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--window", str(WINDOW), "--groups", str(files["personas.csv"]), "--resamples", "200"]
    over_records = [str(files["scores.jsonl.gz"]), "--events", str(files["events.jsonl"])]
    html, first, second = tmp_path / "report.html", tmp_path / "a.json", tmp_path / "b.json"
    assert main(["report", *over_records, *common, "--html", str(html), "--json", str(first)]) == 0
    err = capsys.readouterr().err
    assert f"score records of {CLI_CONFIG.members} members read" in err and "leaders (70+)" in err
    assert main(["report", str(files["events.jsonl"]), *common, "--json", str(second)]) == 0
    assert "events replayed into" in capsys.readouterr().err
    assert json.loads(first.read_text()) == json.loads(second.read_text())
    report = json.loads(first.read_text())
    assert report["window_days"] == WINDOW and report["volume"] is not None and report["groups"]
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_the_json_can_go_to_stdout(
    files: dict[str, Path], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code = main(
        ["report", str(files["scores.jsonl.gz"]), "--window", "10", "--json", "-", "--resamples", "100"]
    )
    out, _ = capsysbinary.readouterr()
    assert code == 0 and orjson.loads(out)["window_days"] == 10


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ([], "give --html FILE, --json FILE or both"),
        (["--json", "-", "--html", "-"], "cannot both be stdout"),
        (["--json", "-", "--outcome", "deal"], "invalid choice: 'deal'"),
        (["--json", "-", "--window", "0"], "must be a whole number above 0"),
        (["--json", "-", "--resamples", "10"], "at least 100 bootstrap resamples"),
    ],
)
def test_usage_errors_name_the_option(
    files: dict[str, Path], arguments: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(files["scores.jsonl.gz"]), *arguments])
    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err


def test_runtime_errors_are_one_line_naming_the_file(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = str(files["scores.jsonl.gz"])
    assert main(["report", scores, "--window", "60", "--json", "-"]) == 1
    assert "no score has a 60-day window after it" in capsys.readouterr().err
    bad_groups = tmp_path / "groups.csv"
    bad_groups.write_text("m000001 seller\n")
    assert main(["report", scores, "--groups", str(bad_groups), "--json", "-"]) == 1
    assert "line 1 is not 'member_id,group'" in capsys.readouterr().err
    neither = tmp_path / "other.jsonl"
    neither.write_text('{"hello": 1}\n')
    assert main(["report", str(neither), "--json", "-"]) == 1
    assert "neither a score record" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.jsonl"), "--json", "-"]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_simulate_writes_outcomes_and_the_personas_for_the_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events, personas = tmp_path / "events.jsonl", tmp_path / "personas.csv"
    arguments = ["--members", "120", "--days", "20", "--seed", str(CONFIG.seed), "-o", str(events)]
    assert main(["simulate", *arguments, "--outcomes", "--personas", str(personas)]) == 0
    types = {orjson.loads(line)["type"] for line in events.read_bytes().splitlines()}
    assert set(OUTCOME_TYPES) & types >= {"meeting_booked", "call_logged"}
    lines = personas.read_text().splitlines()
    assert lines[0] == "member_id,group" and len(lines) == 121
    assert {line.split(",")[1] for line in lines[1:]} >= {"genuine_seller", "occasional", "spammer"}
    without = tmp_path / "plain.jsonl"
    assert main(["simulate", *arguments[:-1], str(without)]) == 0
    assert (
        not types
        - {orjson.loads(line)["type"] for line in without.read_bytes().splitlines()}
        - set(OUTCOME_TYPES)
    )
    assert not set(OUTCOME_TYPES) & {orjson.loads(line)["type"] for line in without.read_bytes().splitlines()}
