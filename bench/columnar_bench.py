"""The daily close's scoring, scalar (a Python call per member) vs columnar (numpy passes), side by side.

    .venv/bin/python bench/columnar_bench.py                    # 10k and 100k members, then 1M columnar
    .venv/bin/python bench/columnar_bench.py --members 10000 --columnar-only 1000000

Members are a realistic population (`personas.population`, each driven for 7-70 days), its distinct
states repeated to the size asked. µs per member, one core (numpy's element-wise loops are single
threaded): scalar `card.pillar_totals` and `card.score` over every member (best of 3 passes at 10k, one
pass above), and the columnar one-day decay (`columns.decay_rows`), pillar totals
(`columnar.pillar_totals`) and everything a record needs but its texts (`columnar.score_columns`:
points, pillars, record SSI, top signals, next steps with their gains), best of 5 passes. `card.score`
also builds each contribution's sentence, which `score_columns` leaves to the record (a text per member
shown is a string format, not a score).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.support

from ssi_stream.scoring import MemberState, card, load_model
from ssi_stream.scoring import columnar as col
from ssi_stream.scoring.columns import StateColumns, decay_rows, from_states
from ssi_stream.scoring.record import record_ssi
from tests.support.personas import drive, population

MODEL = load_model()


def base_states(size: int, seed: int = 1) -> list[MemberState]:
    """`size` members of the population mix, each driven for its own 7-70 days."""
    rng = random.Random(seed)
    states = []
    for index, persona in enumerate(population(size, seed)):
        *_, last = drive(persona, rng.randint(7, 70), MODEL, seed=index)
        states.append(last)
    return states


def tiled(columns: StateColumns, n: int) -> StateColumns:
    rows = np.arange(n) % len(columns)
    return StateColumns(**{f.name: getattr(columns, f.name)[rows].copy() for f in fields(columns)})


def same_as_cards(states: list[MemberState], base: StateColumns) -> bool:
    """The columnar pillars and record SSI equal the cards' on every distinct state (floats with ==)."""
    scores = col.score_columns(base, MODEL)
    cards = [card.score(state, MODEL) for state in states]
    pillars = [[p.points for p in c.pillars] for c in cards]
    return pillars == scores.pillars.tolist() and [record_ssi(row) for row in pillars] == scores.ssi.tolist()


def per_member(run: Callable[[], object], n: int, passes: int) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


def scalar_figures(states: list[MemberState], n: int) -> tuple[float, float]:
    members = [states[i % len(states)] for i in range(n)]
    passes = 3 if n <= 10_000 else 1

    def totals() -> None:
        for state in members:
            card.pillar_totals(state, MODEL)

    def scores() -> None:
        for state in members:
            card.score(state, MODEL)

    return per_member(totals, n, passes), per_member(scores, n, passes)


def columnar_figures(base: StateColumns, n: int) -> tuple[float, float, float]:
    columns = tiled(base, n)
    decay = per_member(lambda: decay_rows(columns, None, 1, MODEL), n, 5)
    columns = tiled(base, n)  # score the states as they were, like the scalar side
    totals = per_member(lambda: col.pillar_totals(columns, MODEL), n, 5)
    explained = per_member(lambda: col.score_columns(columns, MODEL), n, 5)
    return decay, totals, explained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="10000,100000", help="sizes for both paths (comma-separated)")
    parser.add_argument("--columnar-only", default="1000000", help="sizes for the columnar path only")
    parser.add_argument("--distinct", type=int, default=2000, help="distinct member states")
    args = parser.parse_args()
    sizes = [int(s) for s in args.members.split(",") if s]
    columnar_sizes = [int(s) for s in args.columnar_only.split(",") if s]

    started = time.perf_counter()
    states = base_states(args.distinct)
    base = from_states(states)
    conversion = per_member(lambda: from_states(states), len(states), 3)
    print(
        f"{len(states):,} distinct states from the population mix in {time.perf_counter() - started:.1f} s; "
        f"from_states {conversion:.2f} µs/member; exp backend: {col.EXP_BACKEND}; "
        f"columnar pillars and SSI == the cards': {same_as_cards(states, base)}"
    )
    header = (
        f"{'members':>9} | {'scalar totals':>13} | {'scalar score':>12} | {'col decay':>9} | "
        f"{'col totals':>10} | {'col score':>9} | {'decay+score':>11} | {'totals ×':>8} | {'score ×':>7}"
    )
    print("µs per member (one core)")
    print(header)
    print("-" * len(header))
    for n in sizes + columnar_sizes:
        decay, totals, explained = columnar_figures(base, n)
        if n in sizes:
            scalar_totals, scalar_score = scalar_figures(states, n)
            scalar = f"{scalar_totals:13.2f} | {scalar_score:12.2f}"
            ratios = f"{scalar_totals / totals:7.0f}x | {scalar_score / explained:6.0f}x"
        else:
            scalar, ratios = f"{'—':>13} | {'—':>12}", f"{'—':>8} | {'—':>7}"
        print(
            f"{n:>9,} | {scalar} | {decay:9.3f} | {totals:10.3f} | {explained:9.3f} | "
            f"{decay + explained:11.3f} | {ratios}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
