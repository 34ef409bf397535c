"""A realistic set of member states, the digest of every card and record `score` gives on them, and its cost.

The states: every persona driven for six weeks (each closed day), a simulated population of 200 members
over 21 days replayed through `OfflineScorer` (each member-day it closes), and a few hundred seeded
random states for the corners (penalties, huge counts, empty profiles). `test_score_golden.py` pins the
digest, so a faster `score` must give byte-identical cards and records.

Run as a script to time `score` on the realistic states (µs per call, best of five passes)::

    .venv/bin/python tests/unit/scoring/golden_scores.py
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson

from ssi_stream.ledger import member_ledger
from ssi_stream.replay import Replay
from ssi_stream.scoring import MemberState, ScoreCard, daily_record, load_model, score
from ssi_stream.scoring.codec import decode_state, encode_state
from ssi_stream.scoring.state import N_LEVELS, N_SIGNALS, new_state
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings
from tests.support.personas import FIRST_DAY, PERSONAS, drive

MODEL = load_model()
PERSONA_DAYS = 42
SIMULATION = SimulationConfig(
    members=200, days=21, seed=5, jitter_seconds=600, duplicate_rate=0.005, invalid_rate=0.001
)
#: The receiving clock: after the simulated period, so no event is in the future.
NOW = datetime(2026, 6, 1, tzinfo=UTC)
RANDOM_STATES = 300


@dataclass(frozen=True)
class ScoredState:
    """A state as `score` saw it, with the member and the day its record is for."""

    member_id: str
    day: int
    state: MemberState


@cache
def persona_states() -> list[ScoredState]:
    """Each persona (seeds 0 and 1) after every closed day of its first six weeks (built once per
    process: the golden, catalog and columnar tests read them, none changes them)."""
    states = []
    for persona in PERSONAS:
        for seed in (0, 1):
            for offset, state in enumerate(drive(persona, PERSONA_DAYS, MODEL, seed=seed)):
                states.append(ScoredState(f"{persona.name}:{seed}", FIRST_DAY + offset, _copy(state)))
    return states


@cache
def simulated_states() -> tuple[list[ScoredState], list[dict[str, Any]]]:
    """Every member-day `Replay` closes over the simulated log, and the records it emits (built once per
    process, 3 s: the golden and catalog tests read them, neither changes them)."""
    states: list[ScoredState] = []
    with _recording_scores(states):
        scorer = Replay(MODEL, timeline=TimelineSettings(emit="daily"), now=NOW)
        lines = [(line, raw) for line, (_, raw) in enumerate(iter_encoded(SIMULATION), start=1)]
        records = scorer.feed(lines) + scorer.finish()
    # each partition scores its members in turn: the golden order is by day, then member
    states.sort(key=lambda scored: (scored.day, scored.member_id))
    return states, records


def random_states(count: int = RANDOM_STATES, seed: int = 11) -> list[ScoredState]:
    """Seeded states with sparse, wide-ranging signals: the corners realistic runs rarely reach."""
    rng = random.Random(seed)
    states = []
    for index in range(count):
        state = new_state()
        for signal in range(N_SIGNALS):
            if rng.random() < 0.6:
                state.decayed[signal] = rng.choice((0.4, 1.0, 3.0, 30.0, 400.0, 5000.0)) * rng.random()
        for level in range(N_LEVELS):
            if rng.random() < 0.6:
                state.levels[level] = rng.choice((1, 5, 50, 3000))
        state.profile.sections = rng.randrange(1 << 10)
        states.append(ScoredState(f"random-{index}", FIRST_DAY, state))
    return states


def card_entry(card: ScoreCard) -> list[Any]:
    """Everything on a card, unrounded: each pillar's points, contributions, top signals and next step."""
    return [
        card.ssi,
        [
            [
                p.pillar,
                p.points,
                [[c.signal, c.value, c.points, c.text] for c in p.contributions],
                [p.contributions.index(c) for c in p.top_signals],
                p.next_step,
            ]
            for p in card.pillars
        ],
    ]


def digest(entries: list[Any]) -> str:
    """SHA-256 of the orjson encoding (exact floats, keys in insertion order)."""
    return hashlib.sha256(orjson.dumps(entries)).hexdigest()


def score_entries(states: list[ScoredState]) -> list[Any]:
    """For each state: the card, and the daily record it gives."""
    entries = []
    for scored in states:
        card = score(scored.state, MODEL)
        record = daily_record(scored.member_id, scored.day, scored.state, card, MODEL)
        entries.append([card_entry(card), record])
    return entries


def _copy(state: MemberState) -> MemberState:
    return decode_state(encode_state(state))


@contextmanager
def _recording_scores(states: list[ScoredState]) -> Iterator[None]:
    """Record a copy of every state a record is built from (every member-day, emitting daily)."""
    original_ranked = member_ledger.ranked_record

    def ranked_record(member_id: str, ledger: Any, *args: Any) -> Any:
        states.append(ScoredState(member_id, ledger.state.last_closed, _copy(ledger.state)))
        return original_ranked(member_id, ledger, *args)

    member_ledger.ranked_record = ranked_record  # rank_member calls it by its module-level name
    try:
        yield
    finally:
        member_ledger.ranked_record = original_ranked


def microseconds_per_score(states: list[ScoredState], passes: int = 5) -> float:
    """`score` µs per call over `states`: the best of `passes` passes."""
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        for scored in states:
            score(scored.state, MODEL)
        best = min(best, time.perf_counter() - started)
    return best / len(states) * 1e6


if __name__ == "__main__":
    personas = persona_states()
    simulated, _ = simulated_states()
    print(f"persona states: {len(personas):,}, simulated member-days: {len(simulated):,}")
    print(f"score() on persona states:   {microseconds_per_score(personas):7.1f} µs/call")
    print(f"score() on simulated states: {microseconds_per_score(simulated):7.1f} µs/call")
    print(f"score() on both:             {microseconds_per_score(personas + simulated):7.1f} µs/call")
