"""Simulated CRM outcomes: meetings, calls, opportunities and deals that follow from behaviour.

The score plays no part. What turns into business is what the member's network answered: an invitation
with a personal note that was accepted, a conversation the prospect answered (and answered again). Each
such moment may become a lead — a booked meeting with that prospect, often a call — and a lead may
become an opportunity, later won or lost. Invitations nobody asked for and messages nobody answers
almost never do (`BLIND_INVITATION`, `STARTED_CONVERSATION`). Each member also has a closing skill (a
lognormal factor, mean 1) that the network does not see.

Every draw comes from its own generator, seeded `f"{seed}:outcomes"`, and the pipeline keeps its own
queue, counter and ids (`s{seed}-o{n}`, opportunities `o{seed}-{n}`): turning outcomes on adds events to
a run without changing one byte of its activity events. docs/simulation.md gives the rates.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable, Iterator
from math import exp, log
from statistics import NormalDist
from typing import Any

from ssi_stream.simulation.population import UTC_OFFSETS_MINUTES, Population
from ssi_stream.simulation.timeline import DAY_MS, HOUR_MS, MINUTE_MS

Event = dict[str, Any]
#: Builds an event envelope: (time ms, member number, type, event id) -> event dict.
Envelope = Callable[[int, int, str, str], Event]

#: Probability that a moment becomes a lead (a booked meeting with that prospect), before skill.
PERSONALISED_INVITATION = 0.02  # an accepted invitation with a personal note
BLIND_INVITATION = 0.0005  # an accepted invitation without one
STARTED_CONVERSATION = 0.0002  # any conversation the member starts, answered or not
#: By the prospect's reply number in a thread the member started: the first, second, third or later.
ANSWERED_CONVERSATION = (0.02, 0.08, 0.12)
#: Of leads: a call is logged first; an opportunity follows; of opportunities, won and lost.
CALL_FIRST = 0.5
OPPORTUNITY = 0.35
WON, LOST = 0.3, 0.45
#: Spread of the members' closing skill (sigma of its logarithm).
SKILL_SIGMA = 0.5
#: Opportunity values: a lognormal around this many US dollars, in each region's currency.
MEDIAN_DEAL_USD = 20_000.0
#: By `UTC_OFFSETS_MINUTES`: the currency members in that offset sell in, and US dollars in it.
CURRENCIES: tuple[tuple[str, float], ...] = (
    ("USD", 1.0),
    ("USD", 1.0),
    ("GBP", 0.8),
    ("EUR", 0.92),
    ("INR", 83.0),
    ("SGD", 1.35),
    ("AUD", 1.5),
)
assert len(CURRENCIES) == len(UTC_OFFSETS_MINUTES)

# Pipeline steps queued for later: (time ms, sequence, step, owner, contact, opportunity, amount).
_MEETING, _CALL, _OPPORTUNITY, _WON, _LOST = range(5)
_Step = tuple[int, int, int, int, int, int, float]
_NORMAL = NormalDist()


class OutcomePipeline:
    """Outcomes of one run: told what the network answered, it yields the CRM events due by a time."""

    def __init__(self, seed: int, population: Population, envelope: Envelope) -> None:
        self._seed = seed
        self._population = population
        self._envelope = envelope
        self._rng = random.Random(f"{seed}:outcomes")
        self._rand = self._rng.random
        self._queue: list[_Step] = []
        self._seq = 0
        self._events = 0
        self._opportunities = 0
        self._skill: dict[int, float] = {}

    # --------------------------------------------------------------------- what the network answered

    def invitation_accepted(self, t: int, inviter: int, invitee: int, personalised: bool) -> None:
        """`invitee` accepted `inviter`'s invitation at `t`."""
        self._maybe_lead(t, inviter, invitee, PERSONALISED_INVITATION if personalised else BLIND_INVITATION)

    def conversation_started(self, t: int, sender: int, recipient: int) -> None:
        """`sender` started a thread with `recipient` at `t` (whether anyone answers is not known yet)."""
        self._maybe_lead(t, sender, recipient, STARTED_CONVERSATION)

    def prospect_replied(self, t: int, starter: int, prospect: int, reply_number: int) -> None:
        """`prospect` answered, for the `reply_number`-th time (from 1), a thread `starter` began."""
        chance = ANSWERED_CONVERSATION[min(reply_number, len(ANSWERED_CONVERSATION)) - 1]
        self._maybe_lead(t, starter, prospect, chance)

    # --------------------------------------------------------------------------------------- output

    def due(self, limit: int) -> Iterator[tuple[int, Event]]:
        """(time ms, event) of every outcome before `limit`, in time order."""
        queue = self._queue
        while queue and queue[0][0] < limit:
            t, _, step, owner, contact, opportunity, amount = heapq.heappop(queue)
            yield t, self._fire(t, step, owner, contact, opportunity, amount)

    def pending(self) -> int:
        return len(self._queue)

    # ------------------------------------------------------------------------------------ internals

    def _maybe_lead(self, t: int, owner: int, contact: int, chance: float) -> None:
        if owner == contact or self._rand() >= chance * self._skill_of(owner):
            return
        rand = self._rand
        meeting = t + HOUR_MS + int(rand() * 4 * DAY_MS)
        if rand() < CALL_FIRST:
            self._push(
                t + 30 * MINUTE_MS + int(rand() * (meeting - t - 30 * MINUTE_MS)), _CALL, owner, contact
            )
        self._push(meeting, _MEETING, owner, contact)
        if rand() < OPPORTUNITY:
            opened = meeting + DAY_MS + int(rand() * 13 * DAY_MS)
            self._opportunities += 1
            usd = MEDIAN_DEAL_USD * exp(0.8 * _NORMAL.inv_cdf(min(max(rand(), 1e-9), 1 - 1e-9)))
            self._push(opened, _OPPORTUNITY, owner, contact, self._opportunities, usd)
            u = rand()
            if u < WON + LOST:
                closed = opened + 14 * DAY_MS + int(rand() * 61 * DAY_MS)
                final = usd * (0.8 + 0.4 * rand())
                self._push(closed, _WON if u < WON else _LOST, owner, contact, self._opportunities, final)

    def _skill_of(self, member: int) -> float:
        """The member's closing skill: lognormal with mean 1, a pure function of (seed, member)."""
        skill = self._skill.get(member)
        if skill is None:
            digest = hashlib.blake2b(f"{self._seed}:skill:{member}".encode(), digest_size=8).digest()
            u = (int.from_bytes(digest, "big") + 0.5) / 2**64
            skill = self._skill[member] = exp(SKILL_SIGMA * _NORMAL.inv_cdf(u) - SKILL_SIGMA**2 / 2)
        return skill

    def _push(
        self, t: int, step: int, owner: int, contact: int, opportunity: int = 0, amount: float = 0.0
    ) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, step, owner, contact, opportunity, amount))

    def _fire(self, t: int, step: int, owner: int, contact: int, opportunity: int, amount: float) -> Event:
        self._events += 1
        event_id = f"s{self._seed}-o{self._events}"
        population = self._population
        if step == _MEETING:
            event = self._envelope(t, owner, "meeting_booked", event_id)
            event["contact_member_id"] = population.member_id(contact)
            return event
        if step == _CALL:
            event = self._envelope(t, owner, "call_logged", event_id)
            event["contact_member_id"] = population.member_id(contact)
            event["duration_seconds"] = 60 + int(-log(1.0 - self._rand()) * 900)
            return event
        kind = {_OPPORTUNITY: "opportunity_created", _WON: "deal_won", _LOST: "deal_lost"}[step]
        event = self._envelope(t, owner, kind, event_id)
        event["opportunity_id"] = f"o{self._seed}-{opportunity}"
        if step != _LOST or self._rand() < 0.8:  # a lost deal's value is often left blank
            code, per_usd = CURRENCIES[population.offset_of[owner]]
            event["amount"] = float(round(amount * per_usd))
            event["currency"] = code
        return event
