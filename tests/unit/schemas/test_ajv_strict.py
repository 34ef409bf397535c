"""Ajv, the JavaScript validator, in its default strict mode (unknown keywords and formats are errors) loads
every schema and accepts every example: a third implementation beside jsonschema and jsonschema-rs.

Ajv is not downloaded here: the test runs when Node finds `ajv` and `ajv-formats` (`npm install --no-save
ajv@8 ajv-formats@3` at the repository root, or NODE_PATH), and is skipped otherwise, saying so.
test_strict_keywords.py makes the same keyword check in Python, always."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.events.contract_world import SCHEMAS

SCRIPT = Path(__file__).with_name("ajv_check.cjs")
REPO = SCHEMAS.parents[1]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the Ajv check needs Node.js (test_strict_keywords.py runs without)")
    found = subprocess.run(
        [node, "-e", "require.resolve('ajv/dist/2020'); require.resolve('ajv-formats')"],
        cwd=SCRIPT.parent,
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.skip(
            "Ajv is not installed: `npm install --no-save ajv@8 ajv-formats@3` at the repository root"
        )
    return node


def test_ajv_strict_mode_loads_every_schema_and_accepts_every_example() -> None:
    node = _node()
    schemas = sorted(path for path in SCHEMAS.parent.rglob("*.json") if "examples" not in path.parts)
    event = SCHEMAS / "events" / "event.json"
    examples = [f"{event}={path}" for path in sorted((SCHEMAS / "examples" / "events").glob("*.json"))]
    arguments = [*map(str, schemas), *examples]
    result = subprocess.run(
        [node, str(SCRIPT), *arguments], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == set(arguments)
    assert {argument: found["errors"] for argument, found in report.items() if found["errors"]} == {}
