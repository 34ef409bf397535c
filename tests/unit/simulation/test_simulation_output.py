"""The wire forms: JSON lines on disk and (key, bytes) pairs for a producer."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

from ssi_stream.simulation import SimulationConfig, generate, iter_encoded, write_jsonl

CONFIG = SimulationConfig(members=60, days=3, seed=4, invalid_rate=0.05, duplicate_rate=0.05)


def test_write_jsonl_writes_one_line_per_item_and_returns_the_count(tmp_path: Path) -> None:
    items = list(generate(CONFIG))
    path = tmp_path / "events.jsonl"
    assert write_jsonl(iter(items), path) == len(items)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == len(items)
    for line, item in zip(lines, items, strict=False):
        assert line == item if isinstance(item, bytes) else orjson.loads(line) == item


def test_write_jsonl_accepts_an_open_binary_file() -> None:
    buffer = io.BytesIO()
    items = list(generate(SimulationConfig(members=30, days=1, seed=4)))
    assert write_jsonl(items, buffer) == len(items) == buffer.getvalue().count(b"\n")


def test_iter_encoded_keys_by_member_and_encodes_the_generated_events() -> None:
    pairs = list(iter_encoded(CONFIG))
    items = list(generate(CONFIG))
    assert len(pairs) == len(items)
    for (key, value), item in zip(pairs, items, strict=True):
        if isinstance(item, bytes):
            assert value == item and key.startswith("m")
        else:
            assert value == orjson.dumps(item) and key == item["member_id"]
