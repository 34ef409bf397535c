"""Who the simulated members are: persona, industry, seniority, time zone, kept in compact arrays.

Member number `i` (0-based) has the id `member_id(i)` ("m000123"). Everything here is fixed for the
whole run; what changes (connections, posts, profile sections) lives in `graph.py` and `activity.py`.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from ssi_stream.simulation.config import SimulationConfig
from ssi_stream.simulation.personas import (
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    PERSONAS,
    SENIORITIES,
    SENIORITY_WEIGHTS,
    Persona,
)

#: Members' UTC offsets in minutes and their weights (Americas, Europe, India, East Asia, Australia).
UTC_OFFSETS_MINUTES: tuple[int, ...] = (-480, -300, 0, 60, 330, 480, 600)
UTC_OFFSET_WEIGHTS: tuple[float, ...] = (0.12, 0.28, 0.15, 0.22, 0.10, 0.08, 0.05)

#: Seniorities counted as decision makers when sellers look for relevant people.
DECISION_MAKER_SENIORITIES = frozenset(SENIORITIES.index(s) for s in ("vp", "cxo", "owner", "partner"))


@dataclass(frozen=True, slots=True)
class Member:
    """One member's fixed attributes, for inspection and tests."""

    member_id: str
    persona: str
    industry: str
    seniority: str
    utc_offset_minutes: int
    #: Day index from which a lapsing member stops, or None.
    lapse_day: int | None


class Population:
    """Fixed attributes of every member, indexed by member number; about 10 bytes per member."""

    def __init__(self, config: SimulationConfig) -> None:
        rng = random.Random(f"{config.seed}:population")
        n = config.members
        self.size = n
        self.personas: tuple[Persona, ...] = tuple(PERSONAS.values())
        self._id_format = f"m%0{max(6, len(str(n - 1)))}d"

        counts = _quotas(n, [config.mix.get(p.name, 0.0) for p in self.personas])
        persona_of = bytearray()
        for index, count in enumerate(counts):
            persona_of.extend(bytes([index]) * count)
        rng.shuffle(persona_of)
        #: Persona index of each member (into `personas`).
        self.persona_of = persona_of

        industry_cum = list(accumulate(INDUSTRY_WEIGHTS))
        seniority_cum = list(accumulate(SENIORITY_WEIGHTS))
        persona_seniority_cum = [
            list(accumulate(p.seniority_weights)) if p.seniority_weights else seniority_cum
            for p in self.personas
        ]
        persona_industry = [INDUSTRIES.index(p.industry) if p.industry else -1 for p in self.personas]
        offset_cum = list(accumulate(UTC_OFFSET_WEIGHTS))

        self.industry_of = bytearray(n)
        self.seniority_of = bytearray(n)
        self.offset_of = bytearray(n)
        #: Day from which each member lapses (-1: never).
        self.lapse_day = array("h", [-1]) * n
        rand = rng.random
        for i in range(n):
            p = persona_of[i]
            fixed = persona_industry[p]
            self.industry_of[i] = fixed if fixed >= 0 and rand() < 0.9 else _pick(industry_cum, rand())
            self.seniority_of[i] = _pick(persona_seniority_cum[p], rand())
            self.offset_of[i] = _pick(offset_cum, rand())
            lapse = self.personas[p].lapse_after_days
            if lapse is not None:
                self.lapse_day[i] = rng.randint(*lapse)

        industry_members = [array("i") for _ in INDUSTRIES]
        decision_makers = [array("i") for _ in INDUSTRIES]
        persona_members = [array("i") for _ in self.personas]
        for i in range(n):
            industry_members[self.industry_of[i]].append(i)
            if self.seniority_of[i] in DECISION_MAKER_SENIORITIES:
                decision_makers[self.industry_of[i]].append(i)
            persona_members[persona_of[i]].append(i)
        #: Member numbers by industry index, by industry for decision makers, and by persona index.
        self.industry_members: tuple[array[int], ...] = tuple(industry_members)
        self.decision_makers: tuple[array[int], ...] = tuple(decision_makers)
        self.persona_members: tuple[array[int], ...] = tuple(persona_members)
        #: Cumulative weights of persona groups as follow targets (group size × follow appeal).
        self.follow_cum: list[float] = list(
            accumulate(len(m) * p.follow_appeal for m, p in zip(persona_members, self.personas, strict=True))
        )

    def member_id(self, i: int) -> str:
        """The wire id of member number `i`."""
        return self._id_format % i

    def index_of(self, member_id: str) -> int:
        """The member number of a wire id (inverse of `member_id`)."""
        return int(member_id[1:])

    def persona(self, i: int) -> Persona:
        """The persona of member number `i`."""
        return self.personas[self.persona_of[i]]

    def member(self, i: int) -> Member:
        """All fixed attributes of member number `i`."""
        lapse = self.lapse_day[i]
        return Member(
            member_id=self.member_id(i),
            persona=self.persona(i).name,
            industry=INDUSTRIES[self.industry_of[i]],
            seniority=SENIORITIES[self.seniority_of[i]],
            utc_offset_minutes=UTC_OFFSETS_MINUTES[self.offset_of[i]],
            lapse_day=None if lapse < 0 else lapse,
        )

    def persona_counts(self) -> dict[str, int]:
        """Number of members of each persona."""
        return {p.name: len(m) for p, m in zip(self.personas, self.persona_members, strict=True)}


def _pick(cum_weights: list[float], u: float) -> int:
    """Index drawn from cumulative weights, given a uniform `u` in [0, 1)."""
    return bisect_right(cum_weights, u * cum_weights[-1])


def _quotas(n: int, weights: list[float]) -> list[int]:
    """Split `n` into integer counts proportional to `weights` (largest remainder, ties by order)."""
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda k: (-(exact[k] - counts[k]), k))
    for k in by_remainder[: n - sum(counts)]:
        counts[k] += 1
    return counts
