"""`ssi-stream replay` and `ssi-stream simulate` as a user runs them: exit codes, streams, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import orjson
import pytest

from ssi_stream.cli import main

from .conftest import Replayed, World


@pytest.fixture(autouse=True)
def _no_ssi_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's defaults, not whatever SSI_* variables the shell running the tests has."""
    for name in list(os.environ):
        if name.startswith("SSI_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def log_file(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay-cli") / "events.jsonl"
    path.write_bytes(world.log)
    return path


def test_replay_writes_records_to_output_dead_letters_to_dlq_and_the_summary_to_stderr(
    log_file: Path, replayed: Replayed, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    scores, dlq = tmp_path / "scores.jsonl", tmp_path / "dlq.jsonl"
    code = main(["replay", str(log_file), "--output", str(scores), "--dlq", str(dlq), "--partitions", "8"])
    out, err = capsysbinary.readouterr()
    assert code == 0
    assert out == b""
    assert scores.read_bytes() == replayed.output
    dead = [orjson.loads(line) for line in dlq.read_bytes().splitlines()]
    assert [d["source"]["line"] for d in dead] == [d["source"]["line"] for d in replayed.dead_letters]
    assert {d["source"]["file"] for d in dead} == {str(log_file)}
    summary = err.decode()
    stats = replayed.stats
    assert summary.startswith(f"replay: {stats.events_read} events read, {stats.rejected} rejected (")
    assert f"{stats.duplicates} duplicates, 0 late; 60 members, {stats.days} days" in summary
    assert "events/s" in summary


def test_replay_without_output_writes_the_records_to_stdout(log_file: Path, replayed: Replayed) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ssi_stream.cli", "replay", str(log_file)],
        capture_output=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("SSI_")},
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout == replayed.output
    assert run.stderr.decode().startswith("replay: ")
    assert "\r" not in run.stderr.decode()  # no progress bar when stderr is not a terminal


def test_replay_of_a_missing_file_fails_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.jsonl"
    code = main(["replay", str(missing)])
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    assert err.strip() == f"ssi-stream replay: cannot read {missing}: no such file"


def test_replay_with_an_invalid_model_fails_with_the_models_error(
    log_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    default = resources.files("ssi_stream").joinpath("model", "default.toml").read_text()
    assert "invitations = 14.0" in default
    broken = tmp_path / "broken-model.toml"
    broken.write_text(default.replace("invitations = 14.0", 'invitations = "fortnight"', 1))
    scores = tmp_path / "scores.jsonl"
    code = main(["replay", str(log_file), "--model", str(broken), "--output", str(scores)])
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    assert err.startswith("ssi-stream replay: broken-model.toml: half_life_days.invitations must be a number")
    assert "'fortnight'" in err
    assert not scores.exists()  # nothing written before the model was known to be good


def test_simulate_writes_the_events_it_reports_and_the_same_bytes_for_a_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = []
    for name in ("a.jsonl", "b.jsonl"):
        path = tmp_path / name
        argv = ["simulate", "--members", "12", "--days", "3", "--seed", "5", "--output", str(path)]
        assert main([*argv, "--duplicate-rate", "0.05"]) == 0
        runs.append(path.read_bytes())
    err = capsys.readouterr().err
    count = runs[0].count(b"\n")
    assert count > 50
    assert err.splitlines()[0] == f"simulate: {count} events for 12 members over 3 days"
    assert runs[0] == runs[1]
    other = tmp_path / "c.jsonl"
    main(["simulate", "--members", "12", "--days", "3", "--seed", "6", "--output", str(other)])
    assert other.read_bytes() != runs[0]


def test_replay_writes_schema_valid_alerts_one_per_crossing(
    log_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jsonschema import Draft202012Validator

    schema = orjson.loads((Path(__file__).parents[3] / "schemas/v1/records/alert.json").read_bytes())
    monkeypatch.setenv("SSI_ALERT_THRESHOLD", "20")  # thresholds this small population crosses in 10 days
    monkeypatch.setenv("SSI_ALERT_WEEKLY_DROP_POINTS", "0")
    scores, alerts = tmp_path / "scores.jsonl", tmp_path / "alerts.jsonl"
    assert main(["replay", str(log_file), "--output", str(scores), "--alerts", str(alerts)]) == 0
    raised = [orjson.loads(line) for line in alerts.read_bytes().splitlines()]
    records = {(r["member_id"], r["date"]): r for r in map(orjson.loads, scores.read_bytes().splitlines())}
    assert {a["kind"] for a in raised} >= {"recovered", "weekly_drop"}
    validator = Draft202012Validator(schema)
    for alert in raised:
        validator.validate(alert)
        assert alert["ssi"] == records[alert["member_id"], alert["date"]]["ssi"]
    below = [(a["member_id"], a["date"]) for a in raised if a["kind"] in ("below_threshold", "recovered")]
    assert len(below) == len(set(below))  # never the same crossing twice
    for (member, date), kind in {((a["member_id"], a["date"]), a["kind"]) for a in raised}:
        ssi = records[member, date]["ssi"]
        assert (kind != "below_threshold" or ssi < 20) and (kind != "recovered" or ssi >= 20)


def test_replay_honours_the_event_size_limit_the_worker_has(
    log_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSI_MAX_EVENT_BYTES", "100")  # smaller than any event: the worker rejects them all
    scores, dlq = tmp_path / "scores.jsonl", tmp_path / "dlq.jsonl"
    assert main(["replay", str(log_file), "--output", str(scores), "--dlq", str(dlq)]) == 0
    dead = [orjson.loads(line) for line in dlq.read_bytes().splitlines()]
    lines = [line for line in log_file.read_bytes().splitlines() if line.strip()]
    assert len(dead) == len(lines)
    assert all(d["reason"] == "too_large" for d in dead if d["payload_size"] > 100)
    assert sum(d["reason"] == "too_large" for d in dead) > len(lines) * 0.9
    assert scores.read_bytes() == b""
    capsys.readouterr()


def test_replay_emit_daily_writes_every_member_every_day_and_the_default_a_subset(
    log_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    daily, changes = tmp_path / "daily.jsonl", tmp_path / "changes.jsonl"
    assert main(["replay", str(log_file), "--output", str(daily), "--emit", "daily"]) == 0
    monkeypatch.setenv("SSI_EMIT", "daily")
    assert main(["replay", str(log_file), "--output", str(changes), "--emit", "changes"]) == 0  # flag wins
    every = daily.read_bytes().splitlines()
    some = changes.read_bytes().splitlines()
    assert len(some) < len(every) and set(some) <= set(every)
    monkeypatch.setenv("SSI_EMIT", "weekly")
    assert main(["replay", str(log_file), "--output", str(changes)]) == 1
    assert "SSI_EMIT must be one of changes, daily" in capsys.readouterr().err


def test_replay_explain_adds_texts_in_the_locale_asked_for(log_file: Path, tmp_path: Path) -> None:
    from tests.unit.schemas.test_score_record_schema import check_score_record

    texts = {}
    for locale in ("en", "it"):
        output = tmp_path / f"{locale}.jsonl"
        assert main(["replay", str(log_file), "--output", str(output), "--explain", "--locale", locale]) == 0
        records = [orjson.loads(line) for line in output.read_bytes().splitlines()]
        for record in records:
            check_score_record(record)
            assert record["texts"]["locale"] == locale
            for pillar, explained in record["texts"].items():
                if pillar != "locale":
                    assert len(explained["signals"]) == len(record["signals"].get(pillar, []))
                    assert all("{" not in text for text in [explained["next_step"], *explained["signals"]])
        texts[locale] = records
    assert texts["it"][0]["texts"]["build_relationships"]["title"] == "Coltiva le relazioni"
    strip = [{k: v for k, v in r.items() if k != "texts"} for r in texts["en"]]
    assert strip == [{k: v for k, v in r.items() if k != "texts"} for r in texts["it"]]
