"""The simulator's public outputs: event dicts, encoded (key, bytes) pairs for Kafka, JSON-lines files."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from os import PathLike
from typing import IO, Any

import orjson

from ssi_stream.simulation.activity import Simulation
from ssi_stream.simulation.config import SimulationConfig
from ssi_stream.simulation.faults import apply_faults


def keyed_events(config: SimulationConfig) -> Iterator[tuple[str, dict[str, Any] | bytes]]:
    """(member_id, event) pairs; the event is a dict, or raw bytes for a deliberately broken payload."""
    stream = Simulation(config).ordered_events()
    if not _has_faults(config):
        for _, event in stream:
            yield event["member_id"], event
        return
    yield from apply_faults(
        stream,
        rng=random.Random(f"{config.seed}:faults"),
        jitter_ms=int(config.jitter_seconds * 1000),
        duplicate_rate=config.duplicate_rate,
        invalid_rate=config.invalid_rate,
        invalid_id_prefix=f"s{config.seed}-x",
    )


def generate(config: SimulationConfig) -> Iterator[dict[str, Any] | bytes]:
    """Stream the run's events as JSON-ready dicts in occurred_at order (bytes only for invalid payloads).

    Order is non-decreasing except for `jitter_seconds` reordering and re-emitted duplicates; with
    `invalid_rate` 0 every item is a dict.
    """
    if not _has_faults(config):
        for _, event in Simulation(config).ordered_events():
            yield event
        return
    for _, item in keyed_events(config):
        yield item


def iter_encoded(config: SimulationConfig) -> Iterator[tuple[str, bytes]]:
    """(member_id key, value bytes) pairs ready for a Kafka producer, in emission order."""
    dumps = orjson.dumps
    for key, item in keyed_events(config):
        yield key, item if isinstance(item, bytes) else dumps(item)


def write_jsonl(
    events: Iterable[Mapping[str, Any] | bytes], path_or_file: str | PathLike[str] | IO[bytes]
) -> int:
    """Write one event per line (orjson; raw bytes written as they are) and return the line count."""
    if isinstance(path_or_file, (str, PathLike)):
        with open(path_or_file, "wb") as file:
            return _write_lines(events, file)
    return _write_lines(events, path_or_file)


def _has_faults(config: SimulationConfig) -> bool:
    return bool(config.jitter_seconds or config.duplicate_rate or config.invalid_rate)


def _write_lines(events: Iterable[Mapping[str, Any] | bytes], file: IO[bytes]) -> int:
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    count = 0
    batch: list[bytes] = []
    for item in events:
        batch.append(item + b"\n" if isinstance(item, bytes) else dumps(item, option=newline))
        count += 1
        if len(batch) >= 4096:
            file.write(b"".join(batch))
            batch.clear()
    file.write(b"".join(batch))
    return count
