"""A second implementation of JSON Schema, jsonschema-rs (Rust), loads every schema and agrees with
jsonschema on the examples and on what ssi-stream writes.

`validator_for` (tests/unit/events/contract_world.py) checks every verdict against jsonschema-rs, so every
schema test (simulated effects, marks and shares, fuzzed events, dead letters, drawn messages) is also a
test of agreement; this file adds the records of a whole replay, written by the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tests.unit.events.contract_world import (
    _FORMATS,
    AgreeingValidator,
    StrictValidator,
    example_events,
    load_schema,
    rs_registry,
    validator_for,
)
from tests.unit.schemas.test_schema_files import SCHEMA_FILES
from tests.unit.schemas.test_score_record_schema import check_score_record

#: Slow (a second JSON Schema implementation over a log): `make test` runs it, `make unit` does not.
pytestmark = pytest.mark.slow

CLI = Path(sys.executable).with_name("ssi-stream")
#: Alert thresholds low enough that the simulated members (who mostly score below 70) cross them.
ALERTING = {"SSI_ALERT_THRESHOLD": "30", "SSI_ALERT_WEEKLY_DROP_POINTS": "2"}


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_jsonschema_rs_accepts_the_schema_and_its_examples(name: str) -> None:
    schema = load_schema(name)
    assert jsonschema_rs.meta.is_valid(schema)
    second = jsonschema_rs.validator_for(schema, validate_formats=True, registry=rs_registry(), offline=True)
    for example in schema.get("examples", []):
        assert second.is_valid(example), example
        validator_for(name).validate(example)


def test_jsonschema_rs_accepts_every_example_event() -> None:
    second = jsonschema_rs.validator_for(load_schema("events/event.json"), validate_formats=True)
    for name, event in example_events().items():
        assert second.is_valid(event), name


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """A simulated log with duplicates and broken lines, replayed by `ssi-stream replay`: its records.

    30 members over three weeks (4,800 lines, 140 of them broken, every kind of rejection; 6 alerts): each
    line costs jsonschema half a millisecond, so the log is small and its broken lines are frequent."""
    folder = tmp_path_factory.mktemp("replay")
    simulate = ["simulate", "--members", "30", "--days", "21", "--seed", "5", "--jitter-seconds", "900"]
    simulate += ["--duplicate-rate", "0.02", "--invalid-rate", "0.03", "-o", "events.jsonl"]
    replay = ["replay", "events.jsonl", "--output", "scores.jsonl", "--dlq", "dlq.jsonl"]
    replay += ["--alerts", "alerts.jsonl"]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("SSI_")}
    for arguments in (simulate, replay):
        subprocess.run(
            [str(CLI), *arguments], cwd=folder, env=environment | ALERTING, check=True, capture_output=True
        )
    records = {}
    for name in ("events", "scores", "dlq", "alerts"):
        lines = (folder / f"{name}.jsonl").read_bytes().splitlines()
        records[name] = [json.loads(line) for line in lines if _is_json(line)]
    return records


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:  # the simulator's broken lines include text that is not JSON
        return False
    return True


def test_both_implementations_accept_every_score_record_of_a_replay(replayed: dict[str, list[Any]]) -> None:
    assert replayed["scores"], "the replay wrote no scores"
    for record in replayed["scores"]:
        check_score_record(record)  # schemas/v2/records/score.json


@pytest.mark.parametrize(
    ("records", "name"),
    [
        ("alerts", "records/alert.json"),
        ("dlq", "v2/records/dead_letter.json"),
    ],
)
def test_both_implementations_accept_every_record_of_a_replay(
    replayed: dict[str, list[Any]], records: str, name: str
) -> None:
    assert replayed[records], f"the replay wrote no {records}"
    validator = validator_for(name)
    for record in replayed[records]:
        validator.validate(record)


def test_both_implementations_agree_on_every_line_of_a_simulated_log(replayed: dict[str, list[Any]]) -> None:
    """Valid events and the simulator's broken ones (wrong types, missing fields, bad timestamps...)."""
    verdicts = [validator_for("events/event.json").is_valid(event) for event in replayed["events"]]
    assert True in verdicts and False in verdicts


def test_a_disagreement_fails_the_test() -> None:
    """The check can fail: jsonschema here asserts only date and date-time formats, jsonschema-rs all."""
    validator = AgreeingValidator(
        StrictValidator({"type": "string", "format": "email"}, format_checker=_FORMATS)
    )
    with pytest.raises(AssertionError, match="jsonschema-rs the opposite"):
        validator.is_valid("not an address")
