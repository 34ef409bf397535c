"""The record schemas are valid draft 2020-12 and their examples are records they accept, and only those."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .contract_world import load_schema, validator_for

RECORDS = [
    "records/daily_score.json",
    "records/alert.json",
    "records/dead_letter.json",
    "v2/records/dead_letter.json",
]


@pytest.mark.parametrize("name", RECORDS)
def test_every_record_example_is_valid(name: str) -> None:
    examples = load_schema(name)["examples"]
    assert len(examples) >= 2
    for example in examples:
        validator_for(name).validate(example)


def _broken(name: str, change: Any) -> dict[str, Any]:
    record = copy.deepcopy(load_schema(name)["examples"][0])
    change(record)
    return record


SCORE_BREAKS = {
    "ssi above 100": lambda r: r.update(ssi=100.5),
    "pillar above 25": lambda r: r["pillars"].update(find_right_people=25.01),
    "missing pillar": lambda r: r["pillars"].pop("build_relationships"),
    "bad date": lambda r: r.update(date="2026-02-30"),
    "date with time": lambda r: r.update(date="2026-03-15T00:00:00Z"),
    "rank without population": lambda r: r.update(industry_rank={"top_percent": 3.0, "position": 1}),
    "rank position 0": lambda r: r.update(network_rank={"top_percent": 3.0, "position": 0, "population": 9}),
    "negative late events": lambda r: r.update(late_events=-1),
    "schema version 2": lambda r: r.update(schema_version=2),
    "unknown member": lambda r: r.update(ssi_total=61.37),
    "signal without text": lambda r: r["explanations"]["find_right_people"]["top_signals"][0].pop("text"),
}
ALERT_BREAKS = {
    "unknown kind": lambda r: r.update(kind="spike"),
    "threshold and drop": lambda r: r.update(drop=3.0),
    "drop without kind": lambda r: (r.pop("threshold"), r.update(drop=3.0)),
}
DEAD_LETTER_BREAKS = {
    "unknown reason": lambda r: r.update(reason="bad_vibes"),
    "kafka source with a line": lambda r: r["source"].update(line=3),
    "rejected_at with offset": lambda r: r.update(rejected_at="2026-03-02T10:15:01+01:00"),
    "bad encoding": lambda r: r.update(payload_encoding="latin1"),
}
DEAD_LETTER_V2_BREAKS = {
    **DEAD_LETTER_BREAKS,
    "version 1": lambda r: r.update(schema_version=1),
    "no headers": lambda r: r.pop("headers"),
    "header without encoding": lambda r: r["headers"][0].pop("encoding"),
    "key as a bare string": lambda r: r.update(key="m-1"),
    "key in latin1": lambda r: r.update(key={"value": "m-1", "encoding": "latin1"}),
    "headers_truncated missing": lambda r: r.pop("headers_truncated"),
}


@pytest.mark.parametrize(
    ("name", "change"),
    [("records/daily_score.json", c) for c in SCORE_BREAKS.values()]
    + [("records/alert.json", c) for c in ALERT_BREAKS.values()]
    + [("records/dead_letter.json", c) for c in DEAD_LETTER_BREAKS.values()]
    + [("v2/records/dead_letter.json", c) for c in DEAD_LETTER_V2_BREAKS.values()],
    ids=[
        *SCORE_BREAKS,
        *ALERT_BREAKS,
        *DEAD_LETTER_BREAKS,
        *(f"v2 {name}" for name in DEAD_LETTER_V2_BREAKS),
    ],
)
def test_a_record_breaking_its_schema_is_rejected(name: str, change: Any) -> None:
    assert not validator_for(name).is_valid(_broken(name, change))
