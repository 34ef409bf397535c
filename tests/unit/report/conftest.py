"""A small simulated population with outcomes, replayed once per run: the report's world.

240 members over 45 days, rich in genuine sellers (whose answered outreach becomes business) and with
spammers (whose volume does not): the log, its score records as `ssi-stream replay` writes them, and
each member's persona as the groups `ssi-stream report --groups` reads. The command-line tests, which
check the command's plumbing rather than the statistics, use a quarter of the members (`CLI_CONFIG`).
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from ssi_stream.replay import replay_log
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import Population, SimulationConfig, generate, write_jsonl
from ssi_stream.timeline.policy import TimelineSettings
from tests.support.suite import built_once_per_run

CONFIG = SimulationConfig(
    members=240,
    days=45,
    seed=21,
    mix={"genuine_seller": 0.25, "spammer": 0.06, "occasional": 0.44, "lurker": 0.25},
    outcomes=True,
)
NOW = datetime(2026, 9, 1, tzinfo=UTC)
#: The world of the command-line tests: the same mix and days, 60 members.
CLI_CONFIG = dataclasses.replace(CONFIG, members=60)
#: A window that fits the 45 days: members are observed on day 25, outcomes counted on days 26-45.
WINDOW = 20


@dataclass(frozen=True)
class ReportWorld:
    events: bytes
    records: bytes
    personas: dict[str, str]

    def record_lines(self) -> list[bytes]:
        return self.records.splitlines(keepends=True)


def build_world(config: SimulationConfig) -> ReportWorld:
    """The simulated log of `config`, its score records as replay writes them, each member's persona."""
    events = io.BytesIO()
    write_jsonl(generate(config), events)
    records = io.BytesIO()
    replay_log(
        io.BytesIO(events.getvalue()), records, model=load_model(), timeline=TimelineSettings(), now=NOW
    )
    population = Population(config)
    personas = {population.member_id(i): population.persona(i).name for i in range(config.members)}
    return ReportWorld(events.getvalue(), records.getvalue(), personas)


@pytest.fixture(scope="session")
def report_world(tmp_path_factory: pytest.TempPathFactory) -> ReportWorld:
    """The `CONFIG` world (8 s of replay): built by one xdist worker, read by the others."""
    parts = built_once_per_run(
        tmp_path_factory.getbasetemp(), "report-world", lambda: dataclasses.astuple(build_world(CONFIG))
    )
    return ReportWorld(*parts)


@pytest.fixture(scope="session")
def cli_world() -> ReportWorld:
    """The `CLI_CONFIG` world."""
    return build_world(CLI_CONFIG)
