"""Replayed ranks equal a brute-force ranking of a simulated population: the industry ranks from every
record of the day, the network ranks from the connection graph rebuilt from the log's own events."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from typing import Any

import orjson

from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.days import day_of

from .conftest import TIMELINE, replay_bytes

#: No reordering or faults: every event counts in its own day, so the graph is easy to rebuild.
CONFIG = SimulationConfig(members=150, days=8, seed=11, events_per_member_day_scale=1.5)


def standing(score: float, group: list[float]) -> dict[str, Any]:
    position = 1 + sum(1 for other in group if other > score)
    return {
        "top_percent": math.ceil(10_000 * position / len(group)) / 100,
        "position": position,
        "population": len(group),
    }


def test_replayed_industry_and_network_ranks_equal_a_brute_force_ranking() -> None:
    raws = [raw for _key, raw in iter_encoded(CONFIG)]
    records = replay_bytes(b"".join(raw + b"\n" for raw in raws), TIMELINE).records
    events = [orjson.loads(raw) for raw in raws]
    # connection changes per day, applied in (occurred_at, event_id) order at the day's end
    changes: dict[int, list[tuple[str, str, str, str, bool]]] = defaultdict(list)
    for event in events:
        if event["type"] == "invite_accepted":
            other, connects = event["inviter_member_id"], True
        elif event["type"] == "connection_removed":
            other, connects = event["other_member_id"], False
        else:
            continue
        at = _epoch(event["occurred_at"])
        changes[day_of(at)].append((at, event["event_id"], event["member_id"], other, connects))
    by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_date[record["date"]].append(record)
    links: dict[str, set[str]] = defaultdict(set)
    applied_through = min(changes) - 1
    ranked_industries = ranked_networks = 0
    for date in sorted(by_date):
        day = _day(date)
        for pending in range(applied_through + 1, day + 1):
            for _at, _id, member, other, connects in sorted(changes.get(pending, [])):
                if member == other:
                    continue
                if connects:
                    links[member].add(other)
                    links[other].add(member)
                else:
                    links[member].discard(other)
                    links[other].discard(member)
        applied_through = day
        day_records = by_date[date]
        ssi = {r["member_id"]: r["ssi"] for r in day_records}
        for record in day_records:
            industry = record["industry"]
            if industry is None:
                assert record["industry_rank"] is None
            else:
                group = [r["ssi"] for r in day_records if r["industry"] == industry]
                assert record["industry_rank"] == standing(record["ssi"], group), record["member_id"]
                ranked_industries += 1
            scored = [ssi[c] for c in links[record["member_id"]] if c in ssi]
            if not scored:
                assert record["network_rank"] is None
            else:
                expected = standing(record["ssi"], [record["ssi"], *scored])
                assert record["network_rank"] == expected, (date, record["member_id"])
                ranked_networks += 1
    assert ranked_industries > len(records) / 2 and ranked_networks > len(records) / 4


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _day(date: str) -> int:
    return _epoch(date + "T00:00:00Z") // 86_400
