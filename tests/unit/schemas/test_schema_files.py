"""Every schema under schemas/ is a valid draft 2020-12 schema whose `$id` is its path and whose
`examples` it accepts."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from tests.unit.events.contract_world import SCHEMAS, load_schema, validator_for

ALL_JSON = sorted(path.relative_to(SCHEMAS.parent).as_posix() for path in SCHEMAS.parent.rglob("*.json"))
#: Every JSON file under schemas/ but the example events (tests/unit/events checks those against event.json).
SCHEMA_FILES = [
    name.removeprefix("v1/") for name in ALL_JSON if "/examples/" not in name and name.startswith("v1/")
]
#: The version 2 schemas, as `load_schema` names them (score.json has test_score_record_schema.py too).
V2_SCHEMA_FILES = [name for name in ALL_JSON if name.startswith("v2/")]


def test_every_json_file_is_under_v1_and_the_internal_schemas_are_found() -> None:
    assert all(name.startswith(("v1/", "v2/")) for name in ALL_JSON), "a new version needs its own tests"
    assert set(V2_SCHEMA_FILES) == {"v2/records/score.json", "v2/records/dead_letter.json"}
    assert {
        "events/event.json",
        "internal/effect.json",
        "internal/source_mark.json",
        "internal/day_share.json",
    } <= set(SCHEMA_FILES)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_each_schema_is_draft_2020_12_with_its_path_as_id_and_valid_examples(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://ssi-stream.dev/schemas/v1/{name}"
    examples = schema.get("examples", [])
    assert examples or name == "events/event.json", "every schema but event.json carries examples"
    for example in examples:
        validator_for(name).validate(example)


@pytest.mark.parametrize("name", V2_SCHEMA_FILES)
def test_each_v2_schema_is_draft_2020_12_with_its_path_as_id_and_valid_examples(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://ssi-stream.dev/schemas/{name}"
    assert len(schema["examples"]) >= 2
    for example in schema["examples"]:
        validator_for(name).validate(example)
