"""Score records v2 (schemas/v2/records/score.json): a valid draft 2020-12 schema whose codes are the
code's, whose examples both implementations accept, and which refuses what a v2 record must not be."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from ssi_stream.scoring.explain import ACTIONS
from ssi_stream.scoring.model import PILLARS
from ssi_stream.scoring.pillars import COMPONENTS

PATH = Path(__file__).resolve().parents[3] / "schemas" / "v2" / "records" / "score.json"


@cache
def schema() -> dict[str, Any]:
    return json.loads(PATH.read_text(encoding="utf-8"))


@cache
def validators() -> tuple[Any, Any]:
    """jsonschema (formats asserted) and jsonschema-rs: every verdict must agree."""
    Draft202012Validator.check_schema(schema())
    first = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    second = jsonschema_rs.validator_for(schema(), validate_formats=True, offline=True)
    return first, second


def check_score_record(record: dict[str, Any]) -> None:
    """Fail unless `record` is a valid v2 score record for both implementations."""
    first, second = validators()
    errors = [error.message for error in first.iter_errors(record)]
    assert not errors, (errors, record)
    assert second.is_valid(record), record


def test_the_schema_has_its_path_as_id_and_valid_examples() -> None:
    assert schema()["$id"] == "https://ssi-stream.dev/schemas/v2/records/score.json"
    assert len(schema()["examples"]) >= 2
    for example in schema()["examples"]:
        check_score_record(example)


def test_the_outcome_types_are_the_contract_s() -> None:
    from ssi_stream.events.types import OUTCOME_TYPES

    assert list(schema()["properties"]["outcomes"]["properties"]) == list(OUTCOME_TYPES)


def test_the_codes_are_the_pillars_signals_and_actions() -> None:
    defs = schema()["$defs"]
    for pillar in PILLARS:
        signal_codes = defs[f"signals_{pillar}"]["items"]["prefixItems"][0]["enum"]
        assert signal_codes == [component.name for component in COMPONENTS[pillar]]
        action_codes = defs[f"next_step_{pillar}"]["prefixItems"][0]["enum"]
        assert action_codes == [action.name for action in ACTIONS[pillar]]


@pytest.mark.parametrize(
    "breaks",
    [
        lambda r: r.update(schema_version=1),
        lambda r: r["signals"]["professional_brand"][0].__setitem__(0, "followers_count"),
        lambda r: r["signals"].update(find_right_people=[["connections", 1, 1.0]]),  # another pillar's
        lambda r: r["next_steps"].update(professional_brand=["complete_profile", 0]),
        lambda r: r.update(late_events=0),
        lambda r: r.update(explanations={}),
        lambda r: r.pop("signals"),
        lambda r: r.update(outcomes={}),  # omitted when there are none
        lambda r: r["outcomes"].update(meeting_booked={"recent": 0.5, "total": 0}),
        lambda r: r["outcomes"].update(invite_sent={"recent": 1.0, "total": 1}),  # not an outcome
        lambda r: r["outcomes"]["opportunity_created"].pop("recent"),
        lambda r: r["outcomes"]["opportunity_created"].update(recent=-0.1),
    ],
)
def test_what_a_v2_record_must_not_be_is_refused(breaks: Any) -> None:
    record = json.loads(json.dumps(schema()["examples"][0]))
    breaks(record)
    first, second = validators()
    assert not first.is_valid(record) and not second.is_valid(record)
