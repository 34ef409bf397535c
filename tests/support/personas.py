"""Typical members as seeded event generators, for calibrating the model and documenting its figures.

A `Persona` states daily rates; `persona_events` turns it into typed events for one member (including
events other members cause: comments on their posts, accepted invitations, replies), and `drive`
runs them through effects -> absorb -> close_day, one day at a time. Deterministic for a given seed.
Not the population simulator (that is `ssi_stream.simulation`): just enough to test the laws.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ssi_stream.events.types import (
    CommentPosted,
    Event,
    GroupJoined,
    InviteAccepted,
    InviteSent,
    MemberFollowed,
    MessageChannel,
    MessageSent,
    PostFormat,
    PostPublished,
    PostShared,
    ProfileSection,
    ProfileUpdated,
    ProfileViewed,
    ReactionAdded,
    RecommendationReceived,
    SearchKind,
    SearchPerformed,
    Seniority,
    ViewSource,
)
from ssi_stream.scoring.effects import effects_of
from ssi_stream.scoring.model import Model
from ssi_stream.scoring.state import MemberState, absorb, close_day, new_state

#: 2025-01-06 (a Monday), as a day number.
FIRST_DAY = 20094
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SENIOR = (Seniority.VP, Seniority.CXO, Seniority.OWNER, Seniority.PARTNER)
_OTHERS = (Seniority.ENTRY, Seniority.SENIOR, Seniority.MANAGER, Seniority.DIRECTOR)


@dataclass(frozen=True, slots=True)
class Persona:
    """Average behaviour per active day (counts are means; probabilities are per item)."""

    name: str
    sections: int = 6
    network: int = 0
    network_decision_makers: float = 0.08
    active: float = 0.0
    stops_after_day: int | None = None
    invites: float = 0.0
    personalised: float = 0.0
    accepted: float = 0.0
    invites_to_decision_makers: float = 0.1
    invites_received: float = 0.0
    accept_received: float = 0.7
    searches: float = 0.0
    fruitful: float = 0.5
    search_views: float = 0.0
    other_views: float = 0.0
    posts: float = 0.0
    articles: float = 0.0
    comments_per_post: float = 0.0
    reactions_per_post: float = 0.0
    shares_per_post: float = 0.0
    comments: float = 0.0
    reactions: float = 0.0
    shares: float = 0.0
    messages: float = 0.0
    inmail: float = 0.0
    replied: float = 0.0
    messages_received: float = 0.0
    reply_rate: float = 0.0
    groups: float = 0.0
    recommendations: float = 0.0
    followers: float = 0.0
    views_received: float = 0.0

    def scaled(self, intensity: float) -> Persona:
        """The same habits, `intensity` times as often (probabilities are kept)."""
        return replace(
            self,
            active=min(1.0, self.active * intensity),
            **{name: getattr(self, name) * intensity for name in _RATES},
        )


#: The Persona fields that are daily counts (scaled by `Persona.scaled`).
_RATES = (
    "invites",
    "invites_received",
    "searches",
    "search_views",
    "other_views",
    "posts",
    "articles",
    "comments",
    "reactions",
    "shares",
    "messages",
    "messages_received",
    "groups",
    "recommendations",
    "followers",
    "views_received",
)

GENUINE = Persona(
    "genuine social seller",
    sections=10,
    network=450,
    network_decision_makers=0.15,
    active=0.85,
    invites=4,
    personalised=0.9,
    accepted=0.55,
    invites_to_decision_makers=0.35,
    invites_received=1.5,
    searches=5,
    fruitful=0.8,
    search_views=10,
    other_views=5,
    posts=0.4,
    articles=0.07,
    comments_per_post=4,
    reactions_per_post=25,
    shares_per_post=1,
    comments=3,
    reactions=6,
    shares=0.5,
    messages=3,
    inmail=0.1,
    replied=0.45,
    messages_received=2,
    reply_rate=0.85,
    groups=0.05,
    recommendations=0.04,
    followers=1.5,
    views_received=6,
)
SPAMMER = Persona(
    "invitation spammer",
    sections=5,
    network=300,
    active=1.0,
    invites=300,
    personalised=0.0,
    accepted=0.02,
    invites_to_decision_makers=0.1,
    invites_received=0.5,
    searches=30,
    fruitful=0.9,
    search_views=60,
    messages=20,
    replied=0.03,
    reactions=2,
    followers=0.3,
)
LURKER = Persona(
    "lurker",
    sections=4,
    network=60,
    active=0.15,
    searches=0.3,
    other_views=2,
    reactions=1,
    invites_received=0.3,
    messages_received=0.3,
    reply_rate=0.5,
)
OCCASIONAL = Persona(
    "occasional user",
    sections=7,
    network=180,
    active=0.4,
    invites=1,
    personalised=0.3,
    accepted=0.4,
    invites_received=0.5,
    searches=1,
    fruitful=0.6,
    search_views=2,
    other_views=3,
    posts=0.05,
    comments_per_post=1,
    reactions_per_post=8,
    comments=0.5,
    reactions=3,
    messages=0.5,
    replied=0.4,
    messages_received=0.5,
    reply_rate=0.7,
    groups=0.02,
    followers=0.2,
)
NETWORKER = Persona(
    "regular networker",
    sections=8,
    network=300,
    active=0.6,
    invites=1.5,
    personalised=0.5,
    accepted=0.45,
    invites_to_decision_makers=0.15,
    invites_received=0.8,
    searches=2,
    fruitful=0.7,
    search_views=4,
    other_views=4,
    posts=0.1,
    articles=0.01,
    comments_per_post=2,
    reactions_per_post=12,
    shares_per_post=0.3,
    comments=1,
    reactions=4,
    shares=0.2,
    messages=1,
    replied=0.4,
    messages_received=1,
    reply_rate=0.7,
    groups=0.03,
    recommendations=0.01,
    followers=0.5,
    views_received=2,
)
NEWCOMER = Persona("newcomer with a complete profile", sections=10)
LAPSED = replace(GENUINE, name="lapsed seller", stops_after_day=35)
INFLUENCER = Persona(
    "influencer",
    sections=10,
    network=2500,
    active=0.95,
    invites=1,
    personalised=0.9,
    accepted=0.8,
    invites_to_decision_makers=0.3,
    invites_received=15,
    accept_received=0.4,
    searches=1,
    fruitful=0.8,
    search_views=2,
    other_views=10,
    posts=1.2,
    articles=0.2,
    comments_per_post=15,
    reactions_per_post=150,
    shares_per_post=5,
    comments=5,
    reactions=10,
    shares=1,
    messages=1,
    replied=0.7,
    messages_received=8,
    reply_rate=0.5,
    recommendations=0.05,
    followers=30,
    views_received=80,
    groups=0.03,
)
RECRUITER = Persona(
    "recruiter",
    sections=9,
    network=900,
    active=0.9,
    invites=10,
    personalised=0.5,
    accepted=0.35,
    invites_received=2,
    searches=25,
    fruitful=0.7,
    search_views=40,
    other_views=5,
    reactions=3,
    comments=0.5,
    messages=20,
    inmail=0.8,
    replied=0.2,
    messages_received=5,
    reply_rate=0.9,
    followers=1,
    views_received=10,
)
PERSONAS: tuple[Persona, ...] = (
    GENUINE,
    SPAMMER,
    LURKER,
    OCCASIONAL,
    NETWORKER,
    NEWCOMER,
    LAPSED,
    INFLUENCER,
    RECRUITER,
)


class _Day:
    """Builds one day's events for one member with unique ids and in-day timestamps."""

    def __init__(self, member_id: str, day: int, rng: random.Random) -> None:
        self.member_id, self.rng, self.count = member_id, rng, 0
        self.start = _EPOCH + timedelta(days=day)
        self.events: list[Event] = []

    def add(self, cls: Callable[..., Event], actor: str | None = None, **fields: object) -> None:
        self.count += 1
        at = self.start + timedelta(seconds=self.rng.randrange(86_400))
        event_id = f"{self.member_id}:{self.start.date()}:{self.count}"
        self.events.append(
            cls(event_id=event_id, member_id=actor or self.member_id, occurred_at=at, **fields)
        )

    def other(self) -> str:
        return f"m{self.rng.randrange(10**9)}"


def _draw(rng: random.Random, mean: float) -> int:
    """A count with the given mean (integer part plus a Bernoulli remainder)."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def persona_events(persona: Persona, member_id: str, day_index: int, rng: random.Random) -> list[Event]:
    """One day of events involving `member_id` (day_index 0 is the day they arrive, profile first)."""
    day = _Day(member_id, FIRST_DAY + day_index, rng)
    if day_index == 0:
        day.add(
            ProfileUpdated,
            industry="Software",
            seniority=Seniority.MANAGER,
            completed_sections=frozenset(list(ProfileSection)[: persona.sections]),
        )
        for _ in range(persona.network):
            inviter = day.other()
            senior = rng.random() < persona.network_decision_makers
            day.add(InviteAccepted, inviter_member_id=inviter, inviter_seniority=_seniority(rng, senior))
    stopped = persona.stops_after_day is not None and day_index >= persona.stops_after_day
    if stopped or rng.random() >= persona.active:
        return day.events
    p = persona
    for _ in range(_draw(rng, p.invites)):
        target, senior = day.other(), rng.random() < p.invites_to_decision_makers
        seniority = _seniority(rng, senior)
        personal = rng.random() < p.personalised
        day.add(InviteSent, target_member_id=target, personalized=personal, target_seniority=seniority)
        if rng.random() < p.accepted:
            day.add(InviteAccepted, actor=target, inviter_member_id=member_id, member_seniority=seniority)
    for _ in range(_draw(rng, p.invites_received)):
        inviter = day.other()
        day.add(InviteSent, actor=inviter, target_member_id=member_id, personalized=rng.random() < 0.3)
        if rng.random() < p.accept_received:
            day.add(InviteAccepted, inviter_member_id=inviter, inviter_seniority=_seniority(rng, False))
    for _ in range(_draw(rng, p.searches)):
        kind = SearchKind.PEOPLE if rng.random() < 0.8 else SearchKind.COMPANY
        day.add(SearchPerformed, search_kind=kind, results_viewed=1 if rng.random() < p.fruitful else 0)
    for _ in range(_draw(rng, p.search_views)):
        day.add(ProfileViewed, viewed_member_id=day.other(), source=ViewSource.SEARCH)
    for _ in range(_draw(rng, p.other_views)):
        day.add(ProfileViewed, viewed_member_id=day.other(), source=ViewSource.FEED)
    for _ in range(_draw(rng, p.views_received)):
        day.add(ProfileViewed, actor=day.other(), viewed_member_id=member_id, source=ViewSource.NETWORK)
    for article in [False] * _draw(rng, p.posts) + [True] * _draw(rng, p.articles):
        post_id = f"{member_id}:post:{day.start.date()}:{day.count}"
        day.add(PostPublished, post_id=post_id, format=PostFormat.ARTICLE if article else PostFormat.POST)
        boost = 2.0 if article else 1.0
        for cls, mean in (
            (CommentPosted, p.comments_per_post),
            (ReactionAdded, p.reactions_per_post),
            (PostShared, p.shares_per_post),
        ):
            for _ in range(_draw(rng, mean * boost)):
                day.add(cls, actor=day.other(), post_id=post_id, post_author_id=member_id)
    for cls, mean in ((CommentPosted, p.comments), (ReactionAdded, p.reactions), (PostShared, p.shares)):
        for _ in range(_draw(rng, mean)):
            day.add(cls, post_id=f"p{rng.randrange(10**9)}", post_author_id=day.other())
    for _ in range(_draw(rng, p.messages)):
        other, thread = day.other(), f"t{rng.randrange(10**9)}"
        channel = MessageChannel.INMAIL if rng.random() < p.inmail else MessageChannel.MESSAGE
        day.add(MessageSent, recipient_member_id=other, thread_id=thread, is_reply=False, channel=channel)
        if rng.random() < p.replied:
            day.add(
                MessageSent,
                actor=other,
                recipient_member_id=member_id,
                thread_id=thread,
                is_reply=True,
                channel=channel,
            )
    for _ in range(_draw(rng, p.messages_received)):
        other, thread = day.other(), f"t{rng.randrange(10**9)}"
        channel = MessageChannel.MESSAGE
        day.add(
            MessageSent,
            actor=other,
            recipient_member_id=member_id,
            thread_id=thread,
            is_reply=False,
            channel=channel,
        )
        if rng.random() < p.reply_rate:
            day.add(MessageSent, recipient_member_id=other, thread_id=thread, is_reply=True, channel=channel)
    for _ in range(_draw(rng, p.groups)):
        day.add(GroupJoined, group_id=f"g{rng.randrange(1000)}")
    for _ in range(_draw(rng, p.recommendations)):
        day.add(RecommendationReceived, recommender_member_id=day.other())
    for _ in range(_draw(rng, p.followers)):
        day.add(MemberFollowed, actor=day.other(), followed_member_id=member_id)
    return day.events


def _seniority(rng: random.Random, senior: bool) -> Seniority:
    return rng.choice(_SENIOR if senior else _OTHERS)


def drive(
    persona: Persona, days: int, model: Model, *, seed: int = 0, member_id: str = "me"
) -> Iterator[MemberState]:
    """Run `persona` for `days` days from an empty state, yielding the state after each day closes."""
    rng = random.Random(f"{persona.name}:{seed}")
    state = new_state()
    for day_index in range(days):
        day = FIRST_DAY + day_index
        for event in persona_events(persona, member_id, day_index, rng):
            for effect in effects_of(event):
                if effect.member_id == member_id:
                    absorb(state, effect, day, model)
        close_day(state, day, model)
        yield state


#: A realistic mix: mostly lurkers and occasional users, a few committed sellers (weights sum to 1).
POPULATION_MIX: tuple[tuple[Persona, float], ...] = (
    (LURKER, 0.30),
    (OCCASIONAL, 0.36),
    (NETWORKER, 0.185),
    (NEWCOMER, 0.04),
    (LAPSED, 0.04),
    (GENUINE, 0.025),
    (RECRUITER, 0.015),
    (INFLUENCER, 0.005),
    (SPAMMER, 0.02),
)


def population(size: int, seed: int = 0) -> list[Persona]:
    """`size` members drawn from POPULATION_MIX, each with its own intensity (log-normal around 1)."""
    rng = random.Random(seed)
    personas, weights = zip(*POPULATION_MIX, strict=True)
    members = []
    for index, persona in enumerate(rng.choices(personas, weights, k=size)):
        intensity = min(2.0, rng.lognormvariate(-0.2, 0.5))
        members.append(replace(persona.scaled(intensity), name=f"{persona.name} #{index}"))
    return members
