"""A small simulated population with outcomes, replayed once per session: the report's world.

240 members over 45 days, rich in genuine sellers (whose answered outreach becomes business) and with
spammers (whose volume does not): the log, its score records as `ssi-stream replay` writes them, and
each member's persona as the groups `ssi-stream report --groups` reads.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from ssi_stream.replay import replay_log
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import Population, SimulationConfig, generate, write_jsonl
from ssi_stream.timeline.policy import TimelineSettings

CONFIG = SimulationConfig(
    members=240,
    days=45,
    seed=21,
    mix={"genuine_seller": 0.25, "spammer": 0.06, "occasional": 0.44, "lurker": 0.25},
    outcomes=True,
)
NOW = datetime(2026, 9, 1, tzinfo=UTC)
#: A window that fits the 45 days: members are observed on day 25, outcomes counted on days 26-45.
WINDOW = 20


@dataclass(frozen=True)
class ReportWorld:
    events: bytes
    records: bytes
    personas: dict[str, str]

    def record_lines(self) -> list[bytes]:
        return self.records.splitlines(keepends=True)


@pytest.fixture(scope="session")
def report_world() -> ReportWorld:
    events = io.BytesIO()
    write_jsonl(generate(CONFIG), events)
    records = io.BytesIO()
    replay_log(
        io.BytesIO(events.getvalue()), records, model=load_model(), timeline=TimelineSettings(), now=NOW
    )
    population = Population(CONFIG)
    personas = {population.member_id(i): population.persona(i).name for i in range(CONFIG.members)}
    return ReportWorld(events.getvalue(), records.getvalue(), personas)
