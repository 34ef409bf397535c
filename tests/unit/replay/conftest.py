"""One simulated event log per session, replayed once in file order; helpers to replay variations of it.

The world: 60 members over 10 days with the delivery faults a real topic shows (reordering jitter within
the grace period, re-sent duplicates, broken payloads), as the lines of a JSON-lines log with the Kafka
key each line was produced with.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from ssi_stream.events.decode import Rejected, decode
from ssi_stream.replay import Replay, ReplayResult, ReplayStats, replay_log
from ssi_stream.scoring.model import Model, load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import TimelineSettings

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "v1"
#: The receiving clock: months after the simulated period, so no event is in the future.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MODEL: Model = load_model()
TIMELINE = TimelineSettings(partitions=8, grace_seconds=3600)
WORLD_CONFIG = SimulationConfig(
    members=60, days=10, seed=3, jitter_seconds=900, duplicate_rate=0.02, invalid_rate=0.005
)

#: A numbered log line as the scorer reads it: (1-based line number, raw bytes without the newline).
Line = tuple[int, bytes]


@dataclass(frozen=True)
class World:
    """The simulated log: each line's key (its member), bytes and decoded form (None if rejected)."""

    keys: tuple[str, ...]
    raws: tuple[bytes, ...]
    events: tuple[dict[str, Any] | None, ...]

    @property
    def log(self) -> bytes:
        return b"".join(raw + b"\n" for raw in self.raws)

    def lines(self) -> list[Line]:
        return list(enumerate(self.raws, start=1))

    def partitions(self, count: int) -> list[list[Line]]:
        """The log split as Kafka would place it: by the key's partition, each in log order."""
        split: list[list[Line]] = [[] for _ in range(count)]
        for line, (key, raw) in enumerate(zip(self.keys, self.raws, strict=True), start=1):
            split[partition_for(key, count)].append((line, raw))
        return split

    def is_valid(self, line: int) -> bool:
        return self.events[line - 1] is not None


@dataclass(frozen=True)
class Replayed:
    """What scoring a log produced: the records exactly as replay writes them, the DLQ, the stats."""

    output: bytes
    dead_letters: list[dict[str, Any]]
    stats: ReplayStats
    scorer: Replay | None = None
    result: ReplayResult | None = None

    @property
    def records(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.output.splitlines()]


def score_lines(lines: Iterable[Line], timeline: TimelineSettings = TIMELINE) -> Replayed:
    """Feed numbered lines to a `Replay` in the order given (in batches), encoding records as replay does."""
    dead_letters: list[dict[str, Any]] = []
    scorer = Replay(MODEL, timeline=timeline, now=NOW, on_dead_letter=dead_letters.append)
    ordered = list(lines)
    records = []
    for start in range(0, len(ordered), 500):
        records += scorer.feed(ordered[start : start + 500])
    records += scorer.finish()
    out = [orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records]
    return Replayed(b"".join(out), dead_letters, scorer.stats, scorer)


def replay_bytes(log: bytes, timeline: TimelineSettings = TIMELINE, name: str = "events.jsonl") -> Replayed:
    """`replay_log` (the function behind `ssi-stream replay`) over an in-memory log."""
    output, dlq = io.BytesIO(), io.BytesIO()
    result = replay_log(
        io.BytesIO(log),
        output,
        model=MODEL,
        timeline=timeline,
        now=NOW,
        dead_letters=dlq,
        source_name=name,
    )
    dead = [orjson.loads(line) for line in dlq.getvalue().splitlines()]
    return Replayed(output.getvalue(), dead, result.stats, None, result)


@cache
def schema_validator(name: str) -> Draft202012Validator:
    """A Draft 2020-12 validator (formats asserted) for `schemas/v1/<name>` (`schemas/<name>` for `v2/`)."""
    schema = json.loads(((SCHEMAS.parent if name.startswith("v2/") else SCHEMAS) / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="session")
def world() -> World:
    keys, raws, events = [], [], []
    for key, raw in iter_encoded(WORLD_CONFIG):
        keys.append(key)
        raws.append(raw)
        events.append(None if isinstance(decode(raw, now=NOW), Rejected) else orjson.loads(raw))
    return World(tuple(keys), tuple(raws), tuple(events))


@pytest.fixture(scope="session")
def replayed(world: World) -> Replayed:
    """The world's log replayed once, in file order, by `replay_log`."""
    return replay_bytes(world.log)
