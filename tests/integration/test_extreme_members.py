"""Extreme members on the real broker: a hub gaining thousands of connections and a member flooding
invitations give the same records in the stream as in replay, with the whole log waiting as a backlog
(several days open at once), the connection caps lowered so that a small log exercises every one.

The full-size figures (20,000 connections, 50,000 invitations a day) are `bench/extreme_members_bench.py`
(the ledger's size and cost); the caps' order independence is `tests/unit/engine/test_order_independence.py`.
"""

from __future__ import annotations

import re
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ssi_stream.ranking.connections import LinkLimits
from ssi_stream.simulation import SimulationConfig, iter_encoded

from .streaming import StreamEnv, Worker, collect_scores, produce, replay_records, running

pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(600)]

#: Lowered caps: a few thousand events exercise them (the defaults are 30,000 and 2,000).
LIMITS = LinkLimits(connections=800, changes_per_day=300)
HUB, FLOODER = "hub-0001", "flood-0001"


def extreme_log() -> list[tuple[str, bytes]]:
    """A simulated population over 4 days, plus a hub that 1,500 members connect to (500 a day, past
    the daily cap; past the connection cap on the third day) and a member sending 2,100 invitations a
    day for two days to distinct people (past the 4,096 ids its dedup set holds within the horizon)."""
    base = list(iter_encoded(SimulationConfig(members=100, days=4, seed=17, duplicate_rate=0.01)))
    start = datetime(2026, 3, 2, tzinfo=UTC)
    extra: list[tuple[datetime, str, bytes]] = []
    for day in range(3):
        for n in range(500):
            number = day * 500 + n
            at = start + timedelta(days=day, seconds=(n * 86_400) // 500 + 7)
            acceptor = f"fan-{number:05d}"
            extra.append(
                (
                    at,
                    acceptor,
                    _event(f"hub-{number}", "invite_accepted", acceptor, at, inviter_member_id=HUB),
                )
            )
        for n in range(2_100 if day < 2 else 0):
            at = start + timedelta(days=day, seconds=(n * 86_400) // 2_100 + 11)
            target = f"inv-{day}-{n:05d}"
            payload = _event(
                f"flood-{day}-{n}", "invite_sent", FLOODER, at, target_member_id=target, personalized=False
            )
            extra.append((at, FLOODER, payload))
    merged = [(_occurred(payload), key, payload) for key, payload in base if payload.startswith(b"{")]
    merged += extra
    merged.sort(key=lambda entry: entry[0])  # each partition's events in event-time order, as upstream sends
    return [(key, payload) for _, key, payload in merged]


def _event(event_id: str, kind: str, member: str, at: datetime, **fields: object) -> bytes:
    wire = {
        "event_id": event_id,
        "type": kind,
        "member_id": member,
        "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "schema_version": 1,
        **fields,
    }
    return orjson.dumps(wire)


def _occurred(payload: bytes) -> datetime:
    return datetime.fromisoformat(orjson.loads(payload)["occurred_at"].replace("Z", "+00:00"))


def test_a_hub_and_a_flooder_score_as_in_replay_under_a_backlog(kafka_bootstrap: str, tmp_path: Path) -> None:
    env = StreamEnv(kafka_bootstrap)
    log = extreme_log()
    timeline = replace(env.timeline(), links=LIMITS)
    expected = {(r["member_id"], r["date"]): r for r in replay_records(log, timeline)}
    hub_days = sorted(date for member, date in expected if member == HUB)
    hub_network = [expected[HUB, date]["network_rank"] for date in hub_days]
    assert hub_network[-1] is not None and hub_network[-1]["population"] > 1_000  # its fans list it
    produce(kafka_bootstrap, env.events_topic, log, env.partitions)  # all of it waits: a backlog
    worker_env = {
        **env.worker_env(tmp_path / "data", "w1"),
        "SSI_MAX_CONNECTIONS": str(LIMITS.connections),
        "SSI_MAX_CONNECTION_CHANGES_PER_DAY": str(LIMITS.changes_per_day),
    }
    worker = Worker(worker_env, tmp_path / "w1.log")
    with running(worker):
        streamed = collect_scores(
            kafka_bootstrap, env.scores_topic, len(expected), timeout=420, workers=(worker,)
        )
        metrics = (
            urllib.request.urlopen(f"http://127.0.0.1:{worker_env['SSI_WEB_PORT']}/metrics").read().decode()
        )
    assert streamed.keys() == expected.keys()
    mismatched = [key for key in expected if streamed[key] != expected[key]]
    assert not mismatched, f"{len(mismatched)} of {len(expected)} records differ, e.g. {mismatched[:3]}"
    capped = dict(re.findall(r'^ssi_capped_total\{cap="(\w+)"\} ([0-9.e+]+)$', metrics, re.MULTILINE))
    for cap in ("connection_changes_per_day", "connections", "dedup_ids"):
        assert float(capped[cap]) > 0, f"the {cap} cap was not exercised: {capped}"
