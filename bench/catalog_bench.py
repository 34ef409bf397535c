"""What the message catalog costs per member: its numbers, and one member's explanations rendered.

    .venv/bin/python bench/catalog_bench.py

States: the persona runs and the simulated member-days of the scoring golden set, and its seeded
corners (tests/unit/scoring/golden_scores.py). Per member, best of 5 passes, one core:
`parameters` + `next_step_parameters` (every code's numbers), then per locale the rendering of what a
record explains — 4 pillar titles, 3 top signals per pillar, 4 next steps — and `card.score` beside them
for scale. The codes rendered are the card's (`top_signals`, `next_code`), found before timing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.support

from ssi_stream.catalog import KEEP_GOING, LOCALES, next_step_parameters, parameters, render
from ssi_stream.scoring import MemberState, score
from ssi_stream.scoring.model import PILLARS
from tests.unit.scoring.golden_scores import MODEL, persona_states, random_states, simulated_states

Explained = tuple[MemberState, list[str], list[str]]


def explained(state: MemberState) -> Explained:
    """A state with the codes its card explains: its top signals and its next steps."""
    card = score(state, MODEL)
    top = [c.signal for p in card.pillars for c in p.top_signals]
    return state, top, [p.next_code or KEEP_GOING for p in card.pillars]


def best_microseconds(members: list[Explained], one: Callable[[Explained], object], passes: int = 5) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        for member in members:
            one(member)
        best = min(best, time.perf_counter() - started)
    return best / len(members) * 1e6


def numbers(member: Explained) -> object:
    state = member[0]
    return parameters(state, MODEL), next_step_parameters(state, MODEL)


def explanations(locale: str) -> Callable[[Explained], list[str]]:
    def one(member: Explained) -> list[str]:
        state, top, steps = member
        signal_numbers, step_numbers = parameters(state, MODEL), next_step_parameters(state, MODEL)
        texts = [render(locale, pillar) for pillar in PILLARS]
        texts += [render(locale, code, signal_numbers[code]) for code in top]
        texts += [render(locale, code, step_numbers[code]) for code in steps]
        return texts

    return one


def main() -> None:
    simulated, _ = simulated_states()
    members = [explained(s.state) for s in [*persona_states(), *simulated, *random_states()]]
    print(f"{len(members):,} member states; µs per member, best of 5 passes")
    rows = [
        ("card.score (for scale)", lambda m: score(m[0], MODEL)),
        ("parameters + next_step_parameters", numbers),
        *(
            (f"{locale}: numbers + 20 texts (4 titles, 12 signals, 4 steps)", explanations(locale))
            for locale in LOCALES
        ),
    ]
    for name, one in rows:
        print(f"  {name:<58} {best_microseconds(members, one):7.1f}")


if __name__ == "__main__":
    main()
