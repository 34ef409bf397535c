"""docs/events.md's tables against the decoder's contract, and docs/streaming.md's topics against the
topics a worker creates (no broker needed)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from ssi_stream.events.contract import CONTRACT
from ssi_stream.events.rejection import RejectionCode
from ssi_stream.events.types import EVENT_TYPES
from ssi_stream.ops.settings import Settings
from ssi_stream.scoring.model import load_model
from ssi_stream.stream.topology import ScoringTopology, topic_specs

REPO = Path(__file__).parents[3]
EVENTS = (REPO / "docs" / "events.md").read_text()


def table_rows(text: str, header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header row starts with `header`, as cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_rejection_table_lists_every_reason_the_decoder_gives() -> None:
    documented = [re.fullmatch(r"`(\w+)`", row[0]).group(1) for row in table_rows(EVENTS, "| `reason` |")]  # type: ignore[union-attr]
    assert sorted(documented) == sorted(code.value for code in RejectionCode)


def test_the_type_tables_state_each_types_fields_which_are_required_and_which_name_another_member() -> None:
    documented: dict[str, tuple[list[tuple[str, bool]], str | None]] = {}
    for header in (
        "| `type` | Members (required **bold**) | Who",
        "| `type` | Members (required **bold**) | What",
    ):
        for row in table_rows(EVENTS, header):
            fields = []
            counterpart = None
            for part in re.split(r",\s*(?![^(]*\))", row[1]):
                match = re.match(r"(\*\*)?`(\w+)`", part.strip())
                assert match is not None, part
                fields.append((match.group(2), match.group(1) is not None))
                if "≠ actor" in part:
                    counterpart = match.group(2)
            for name in re.findall(r"`(\w+)`", row[0]):
                documented[name] = (fields, counterpart)
    assert documented.keys() == EVENT_TYPES.keys()
    for name, spec in CONTRACT.items():
        fields = [(field.name, field.required) for field in spec.fields]
        assert documented[name] == (fields, spec.counterpart), name


def test_the_count_of_event_types_the_doc_gives_is_the_contracts() -> None:
    assert f"One of the {len(EVENT_TYPES)} types below" in EVENTS
    assert f"not one of the {len(EVENT_TYPES)}" in EVENTS


def test_the_streaming_topic_table_is_what_a_worker_creates(tmp_path: Path) -> None:
    """Every topic of the table, with `<app>` the app id, is created by the worker, and every one it
    creates is in the table."""
    settings = replace(Settings(), store="memory://", data_dir=str(tmp_path))
    topology = ScoringTopology(settings, "127.0.0.1:9", load_model())
    created = {spec.name for spec in [*topic_specs(settings), *topology.changelog_specs()]}
    streaming = (REPO / "docs" / "streaming.md").read_text()
    documented = set()
    for row in table_rows(streaming, "| topic | key | value | written by |"):
        documented.update(name.replace("<app>", settings.app_id) for name in re.findall(r"`([^`]+)`", row[0]))
    assert documented == created
