"""Delivery faults layered on an ordered event stream: reordering jitter, duplicates, broken payloads.

Each fault is off by default. With all three off the stream passes through unchanged, so a consumer's
dedup and dead-letter paths are exercised only when a test asks for it.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from typing import Any

import orjson

#: How much later (ms of simulated time) a duplicate is re-emitted: up to ten minutes.
DUPLICATE_DELAY_MS = 600_000

#: Kinds of broken payload, chosen uniformly.
INVALID_KINDS: tuple[str, ...] = (
    "not_json",
    "truncated_json",
    "not_an_object",
    "missing_field",
    "bad_timestamp",
    "timestamp_without_offset",
    "unknown_type",
    "wrong_field_type",
    "event_id_too_long",
)

_ENVELOPE = ("event_id", "member_id", "type", "occurred_at")


def apply_faults(
    stream: Iterator[tuple[int, dict[str, Any]]],
    *,
    rng: random.Random,
    jitter_ms: int,
    duplicate_rate: float,
    invalid_rate: float,
    invalid_id_prefix: str,
) -> Iterator[tuple[str, dict[str, Any] | bytes]]:
    """Yield (member key, event or broken bytes) from an ordered stream of (time ms, event)."""
    rand = rng.random
    delayed: list[tuple[float, int, dict[str, Any]]] = []  # jitter buffer
    duplicates: list[tuple[int, int, dict[str, Any]]] = []
    seq = 0
    invalid_count = 0

    for t, event in stream:
        if jitter_ms:
            heapq.heappush(delayed, (t + rand() * jitter_ms, seq, event))
            seq += 1
            ready = []
            while delayed and delayed[0][0] <= t:
                ready.append(heapq.heappop(delayed)[2])
        else:
            ready = [event]
        for out in ready:
            while duplicates and duplicates[0][0] <= t:
                again = heapq.heappop(duplicates)[2]
                yield again["member_id"], again
            yield out["member_id"], out
            if duplicate_rate and rand() < duplicate_rate:
                heapq.heappush(duplicates, (t + int(rand() * DUPLICATE_DELAY_MS), seq, out))
                seq += 1
            if invalid_rate and rand() < invalid_rate:
                invalid_count += 1
                yield out["member_id"], broken_payload(out, rng, f"{invalid_id_prefix}{invalid_count}")
    while delayed:
        out = heapq.heappop(delayed)[2]
        yield out["member_id"], out
    while duplicates:
        again = heapq.heappop(duplicates)[2]
        yield again["member_id"], again


def broken_payload(event: dict[str, Any], rng: random.Random, event_id: str) -> bytes:
    """A single-line payload derived from `event` that violates the contract; never valid JSON+schema."""
    kind = INVALID_KINDS[int(rng.random() * len(INVALID_KINDS))]
    broken = dict(event)
    broken["event_id"] = event_id
    if kind == "not_json":
        return b"<html>502 Bad Gateway</html> " + event_id.encode()
    if kind == "truncated_json":
        whole = orjson.dumps(broken)
        return whole[: max(1, len(whole) // 2)]
    if kind == "not_an_object":
        return orjson.dumps([broken["event_id"], broken["member_id"], broken["type"]])
    if kind == "missing_field":
        required = [k for k in broken if k != "schema_version" and not _optional(broken["type"], k)]
        del broken[required[int(rng.random() * len(required))]]
    elif kind == "bad_timestamp":
        broken["occurred_at"] = rng.choice(("2026-02-30T25:61:00Z", "yesterday", "", "1709370904"))
    elif kind == "timestamp_without_offset":
        broken["occurred_at"] = broken["occurred_at"][:23]
    elif kind == "unknown_type":
        broken["type"] = "profile_poked"
    elif kind == "wrong_field_type":
        broken["member_id"] = 123456
    else:  # event_id_too_long
        broken["event_id"] = (event_id + "-") * (129 // (len(event_id) + 1) + 1)
    return orjson.dumps(broken)


_OPTIONAL_FIELDS: dict[str, frozenset[str]] = {
    "profile_updated": frozenset({"industry", "seniority", "completed_sections"}),
    "invite_sent": frozenset({"target_seniority"}),
    "invite_accepted": frozenset({"inviter_seniority", "member_seniority"}),
    "connection_removed": frozenset({"other_seniority", "member_seniority"}),
    "search_performed": frozenset({"results_viewed"}),
}


def _optional(event_type: str, field: str) -> bool:
    return field in _OPTIONAL_FIELDS.get(event_type, frozenset())
