"""A member's scoring state, rolled forward in event time, one UTC day at a time.

Effects land in an *open* day as integer counts (so absorbing is order-independent); `close_day` folds
a day's counts into time-decayed float32 accumulators, levels (connections, followers...) and the
profile. Scores read only closed days, so a record for day D never depends on effects from later days.
"""

from __future__ import annotations

import zlib
from array import array
from dataclasses import dataclass, field
from enum import IntEnum

from ssi_stream.events.types import DECISION_MAKERS, PostFormat, SearchKind, Seniority, ViewSource
from ssi_stream.scoring.effects import (
    FRUITFUL,
    INMAIL,
    PERSONALISED,
    POST_FORMATS,
    REPLY,
    SEARCH_KINDS,
    SECTIONS_GIVEN,
    VIEW_SOURCES,
    Effect,
    EffectKind,
)
from ssi_stream.scoring.model import Model


class Signal(IntEnum):
    """Time-decayed counters: each is a count of recent events, older ones weighing less."""

    INVITES_SENT = 0
    INVITES_PERSONALISED = 1
    INVITES_TO_DECISION_MAKERS = 2
    #: My invitations that were accepted (the acceptance-rate numerator).
    INVITES_ACCEPTED = 3
    INVITES_RECEIVED = 4
    INVITES_ACCEPTED_BY_ME = 5
    #: New connections at VP level and above, either direction.
    DECISION_MAKERS_CONNECTED = 6
    #: Messages that start a thread (InMails included).
    MESSAGES_INITIATED = 7
    INMAILS_SENT = 8
    REPLIES_RECEIVED = 9
    INMAIL_REPLIES_RECEIVED = 10
    #: Thread-starting messages others sent me.
    MESSAGES_RECEIVED = 11
    REPLIES_SENT = 12
    POSTS = 13
    ARTICLES = 14
    RESHARES = 15
    COMMENTS_RECEIVED = 16
    REACTIONS_RECEIVED = 17
    SHARES_RECEIVED = 18
    COMMENTS_GIVEN = 19
    REACTIONS_GIVEN = 20
    SHARES_GIVEN = 21
    PEOPLE_SEARCHES = 22
    COMPANY_SEARCHES = 23
    CONTENT_SEARCHES = 24
    JOB_SEARCHES = 25
    #: Searches after which at least one result was opened.
    FRUITFUL_SEARCHES = 26
    VIEWS_FROM_SEARCH = 27
    VIEWS_OTHER = 28
    VIEWS_RECEIVED = 29
    FOLLOWERS_GAINED = 30
    #: Days on which the member did something themselves.
    ACTIVE_DAYS = 31


class Level(IntEnum):
    """Running totals that do not decay."""

    CONNECTIONS = 0
    DECISION_MAKER_CONNECTIONS = 1
    FOLLOWERS = 2
    RECOMMENDATIONS = 3
    GROUPS = 4


N_SIGNALS = len(Signal)
N_LEVELS = len(Level)
#: Open-day count slots: one per signal, then one per level delta. The ACTIVE_DAYS slot counts actions.
N_SLOTS = N_SIGNALS + N_LEVELS

#: Which `half_life_days` entry of the model each family of signals decays with.
HALF_LIFE_FAMILIES: dict[str, tuple[Signal, ...]] = {
    "invitations": tuple(Signal(i) for i in range(Signal.INVITES_SENT, Signal.DECISION_MAKERS_CONNECTED + 1)),
    "messages": tuple(Signal(i) for i in range(Signal.MESSAGES_INITIATED, Signal.REPLIES_SENT + 1)),
    "content": (Signal.POSTS, Signal.ARTICLES, Signal.RESHARES),
    "engagement_received": (Signal.COMMENTS_RECEIVED, Signal.REACTIONS_RECEIVED, Signal.SHARES_RECEIVED),
    "engagement_given": (Signal.COMMENTS_GIVEN, Signal.REACTIONS_GIVEN, Signal.SHARES_GIVEN),
    "searches": tuple(Signal(i) for i in range(Signal.PEOPLE_SEARCHES, Signal.FRUITFUL_SEARCHES + 1)),
    "profile_views": (Signal.VIEWS_FROM_SEARCH, Signal.VIEWS_OTHER),
    "audience": (Signal.VIEWS_RECEIVED, Signal.FOLLOWERS_GAINED),
    "activity": (Signal.ACTIVE_DAYS,),
}
_FAMILY_OF = {signal: family for family, members in HALF_LIFE_FAMILIES.items() for signal in members}
assert len(_FAMILY_OF) == N_SIGNALS, "every signal needs a half-life family"

#: Seniority codes stored in the state: 0 = unknown, i + 1 = SENIORITIES[i].
SENIORITIES: tuple[Seniority, ...] = tuple(Seniority)
_SENIORITY_CODE = {value: index + 1 for index, value in enumerate(SENIORITIES)}
_SECTIONS_MASK = SECTIONS_GIVEN - 1


@dataclass(slots=True)
class ProfileFacts:
    """Profile fields, each with the stamp of the effect that set it (last writer wins, by stamp)."""

    sections: int = 0
    sections_stamp: int = -1
    seniority: int = 0
    seniority_stamp: int = -1
    industry: str | None = None
    industry_stamp: int = -1

    def merge(self, other: ProfileFacts) -> None:
        """Keep, per field, the value with the greatest (stamp, value): commutative and associative."""
        if (other.sections_stamp, other.sections) > (self.sections_stamp, self.sections):
            self.sections, self.sections_stamp = other.sections, other.sections_stamp
        if (other.seniority_stamp, other.seniority) > (self.seniority_stamp, self.seniority):
            self.seniority, self.seniority_stamp = other.seniority, other.seniority_stamp
        if other.industry_stamp > self.industry_stamp or (
            other.industry_stamp == self.industry_stamp and (other.industry or "") > (self.industry or "")
        ):
            self.industry, self.industry_stamp = other.industry, other.industry_stamp

    def offer(self, effect: Effect) -> None:
        """Offer the fields a PROFILE_CHANGED effect carries."""
        stamp = (effect.occurred_at << 32) | zlib.crc32(effect.effect_id.encode())
        update = ProfileFacts()
        if effect.flags & SECTIONS_GIVEN:
            update.sections, update.sections_stamp = effect.flags & _SECTIONS_MASK, stamp
        if effect.seniority is not None:
            update.seniority, update.seniority_stamp = _SENIORITY_CODE[effect.seniority], stamp
        if effect.text is not None:
            update.industry, update.industry_stamp = effect.text, stamp
        self.merge(update)


@dataclass(slots=True)
class OpenDay:
    """Integer counts (and profile offers) of one day that is not closed yet."""

    day: int
    counts: array = field(default_factory=lambda: array("i", bytes(4 * N_SLOTS)))
    profile: ProfileFacts | None = None


@dataclass(slots=True)
class MemberState:
    """Everything the score needs about one member. Build with `new_state`; mutate via absorb/close_day."""

    first_day: int | None = None
    last_closed: int | None = None
    decayed: array = field(default_factory=lambda: array("f", bytes(4 * N_SIGNALS)))
    levels: array = field(default_factory=lambda: array("i", bytes(4 * N_LEVELS)))
    profile: ProfileFacts = field(default_factory=ProfileFacts)
    open_days: list[OpenDay] = field(default_factory=list)


def new_state() -> MemberState:
    """An empty state: no history, nothing counted."""
    return MemberState()


def absorb(state: MemberState, effect: Effect, day: int, model: Model) -> None:
    """Count `effect` in open day `day`; order-independent within a day. `day` must not be closed."""
    if state.last_closed is not None and day <= state.last_closed:
        raise ValueError(f"absorb: day {day} is already closed (last closed: {state.last_closed})")
    if state.first_day is None or day < state.first_day:
        state.first_day = day
    for open_day in state.open_days:
        if open_day.day == day:
            break
    else:
        open_day = OpenDay(day)
        state.open_days.append(open_day)
    kind = effect.kind
    if kind == EffectKind.PROFILE_CHANGED:
        if open_day.profile is None:
            open_day.profile = ProfileFacts()
        open_day.profile.offer(effect)
        open_day.counts[Signal.ACTIVE_DAYS] += 1
        return
    decision_maker = 1 if effect.seniority in DECISION_MAKERS else 0
    counts = open_day.counts
    for slot, delta in _PLANS[(kind << 5) | ((effect.flags & 15) << 1) | decision_maker]:
        counts[slot] += delta


def close_day(state: MemberState, day: int, model: Model) -> None:
    """Finalise `day` (and any earlier open day): decay day by day, then fold counts in."""
    if state.last_closed is not None and day <= state.last_closed:
        raise ValueError(f"close_day: days close in increasing order; {day} <= {state.last_closed}")
    due = sorted((d for d in state.open_days if d.day <= day), key=lambda d: d.day)
    if due:
        state.open_days = [d for d in state.open_days if d.day > day]
    factors = _daily_decay(model)
    forget_below = model.state.forget_below
    for open_day in due:
        _decay(state, open_day.day, factors, forget_below)
        _fold(state, open_day)
    _decay(state, day, factors, forget_below)


def has_history(state: MemberState, day: int) -> bool:
    """True iff something was absorbed into a day ≤ `day`."""
    return state.first_day is not None and state.first_day <= day


def _decay(state: MemberState, day: int, factors: tuple[float, ...], forget_below: float) -> None:
    """Apply one day of decay per day elapsed since the last close (identical to closing each day)."""
    if state.last_closed is not None:
        decayed = state.decayed
        for _ in range(day - state.last_closed):
            if not any(decayed):
                break
            for index in range(N_SIGNALS):
                value = decayed[index]
                if value:
                    value *= factors[index]
                    decayed[index] = value if value >= forget_below else 0.0
    state.last_closed = day


def _fold(state: MemberState, open_day: OpenDay) -> None:
    counts = open_day.counts
    decayed = state.decayed
    actions = counts[Signal.ACTIVE_DAYS]
    counts[Signal.ACTIVE_DAYS] = 1 if actions > 0 else 0
    for index in range(N_SIGNALS):
        if counts[index]:
            decayed[index] += counts[index]
    levels = state.levels
    for index in range(N_LEVELS):
        delta = counts[N_SIGNALS + index]
        if delta:
            levels[index] = max(0, levels[index] + delta)
    if open_day.profile is not None:
        state.profile.merge(open_day.profile)


_DECAY_CACHE: dict[int, tuple[Model, tuple[float, ...]]] = {}


def _daily_decay(model: Model) -> tuple[float, ...]:
    """Per-signal one-day decay factors 0.5 ** (1 / half_life), cached per model object."""
    cached = _DECAY_CACHE.get(id(model))
    if cached is None or cached[0] is not model:
        half_lives = model.half_life_days
        factors = tuple(0.5 ** (1.0 / getattr(half_lives, _FAMILY_OF[s])) for s in Signal)
        cached = _DECAY_CACHE[id(model)] = (model, factors)
    return cached[1]


def _plan(kind: EffectKind, flags: int, decision_maker: bool) -> tuple[tuple[int, int], ...]:
    """The (slot, delta) increments one effect of this shape makes to its open day."""
    s = Signal
    conn, dm_conn = N_SIGNALS + Level.CONNECTIONS, N_SIGNALS + Level.DECISION_MAKER_CONNECTIONS
    act = s.ACTIVE_DAYS
    slots: list[int | tuple[int, int]]
    match kind:
        case EffectKind.INVITE_SENT:
            slots = [s.INVITES_SENT, act]
            if flags & PERSONALISED:
                slots.append(s.INVITES_PERSONALISED)
            if decision_maker:
                slots.append(s.INVITES_TO_DECISION_MAKERS)
        case EffectKind.INVITE_RECEIVED:
            slots = [s.INVITES_RECEIVED]
        case EffectKind.INVITE_ACCEPTED_BY_ME | EffectKind.MY_INVITE_ACCEPTED:
            mine = kind == EffectKind.MY_INVITE_ACCEPTED
            slots = [s.INVITES_ACCEPTED, conn] if mine else [s.INVITES_ACCEPTED_BY_ME, conn, act]
            if decision_maker:
                slots += [s.DECISION_MAKERS_CONNECTED, dm_conn]
        case EffectKind.CONNECTION_REMOVED:
            slots = [(conn, -1), (dm_conn, -1)] if decision_maker else [(conn, -1)]
        case EffectKind.POST_PUBLISHED:
            post_format = POST_FORMATS[flags] if flags < len(POST_FORMATS) else PostFormat.POST
            slots = [
                act,
                {PostFormat.ARTICLE: s.ARTICLES, PostFormat.RESHARE: s.RESHARES}.get(post_format, s.POSTS),
            ]
        case EffectKind.ENGAGEMENT_GIVEN:
            slots = [act, (s.COMMENTS_GIVEN, s.REACTIONS_GIVEN, s.SHARES_GIVEN)[min(flags & 3, 2)]]
        case EffectKind.ENGAGEMENT_RECEIVED:
            slots = [(s.COMMENTS_RECEIVED, s.REACTIONS_RECEIVED, s.SHARES_RECEIVED)[min(flags & 3, 2)]]
        case EffectKind.MESSAGE_SENT:
            if flags & REPLY:
                slots = [act, s.REPLIES_SENT]
            else:
                slots = (
                    [act, s.MESSAGES_INITIATED, s.INMAILS_SENT]
                    if flags & INMAIL
                    else [act, s.MESSAGES_INITIATED]
                )
        case EffectKind.MESSAGE_RECEIVED:
            if flags & REPLY:
                slots = (
                    [s.REPLIES_RECEIVED, s.INMAIL_REPLIES_RECEIVED]
                    if flags & INMAIL
                    else [s.REPLIES_RECEIVED]
                )
            else:
                slots = [s.MESSAGES_RECEIVED]
        case EffectKind.SEARCH_PERFORMED:
            search_kind = SEARCH_KINDS[flags & 3]
            slots = [
                act,
                {
                    SearchKind.PEOPLE: s.PEOPLE_SEARCHES,
                    SearchKind.COMPANY: s.COMPANY_SEARCHES,
                    SearchKind.CONTENT: s.CONTENT_SEARCHES,
                }.get(search_kind, s.JOB_SEARCHES),
            ]
            if flags & FRUITFUL:
                slots.append(s.FRUITFUL_SEARCHES)
        case EffectKind.PROFILE_VIEW_MADE:
            from_search = flags < len(VIEW_SOURCES) and VIEW_SOURCES[flags] is ViewSource.SEARCH
            slots = [act, s.VIEWS_FROM_SEARCH if from_search else s.VIEWS_OTHER]
        case EffectKind.PROFILE_VIEW_RECEIVED:
            slots = [s.VIEWS_RECEIVED]
        case EffectKind.FOLLOWER_GAINED:
            slots = [s.FOLLOWERS_GAINED, N_SIGNALS + Level.FOLLOWERS]
        case EffectKind.RECOMMENDATION_RECEIVED:
            slots = [N_SIGNALS + Level.RECOMMENDATIONS]
        case EffectKind.GROUP_JOINED:
            slots = [act, N_SIGNALS + Level.GROUPS]
        case _:
            slots = []
    return tuple(slot if isinstance(slot, tuple) else (int(slot), 1) for slot in slots)


#: Increment plans indexed by (kind << 5) | ((flags & 15) << 1) | decision_maker.
_PLANS: list[tuple[tuple[int, int], ...]] = [()] * ((max(EffectKind) + 1) << 5)
for _kind in EffectKind:
    for _flags in range(16):
        for _dm in (0, 1):
            _PLANS[(_kind << 5) | (_flags << 1) | _dm] = _plan(_kind, _flags, bool(_dm))
