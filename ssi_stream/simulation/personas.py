"""Behaviour profiles of simulated members.

A persona is data: per-active-day action rates (Poisson means), probabilities, and how the rest of the
network responds to the member (acceptance of their invites, replies to their messages, engagement on
their posts). `DEFAULT_MIX` weights them so most members are light users and a small top is very active.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True, kw_only=True)
class Persona:
    """How one kind of member behaves; rates are means per active day, probabilities are in [0, 1]."""

    name: str
    #: Probability of logging in on a weekday (weekends use `WEEKEND_ACTIVITY` times this).
    active_day_prob: float
    #: Mean number of sessions on an active day (at least one).
    sessions_per_active_day: float
    invites: float
    #: Share of invites carrying a personal note.
    personalized_prob: float
    #: Share of invites aimed at relevant people (same industry, friends of friends, decision makers).
    targeted_prob: float
    #: Probability that an invite this member sends is eventually accepted.
    invite_acceptance: float
    posts: float
    #: Weights of post formats: post, article, video, document, poll, reshare.
    format_weights: tuple[float, float, float, float, float, float]
    comments: float
    reactions: float
    shares: float
    messages: float
    #: Share of new messages sent as InMail (to anyone) rather than to a connection.
    inmail_share: float
    #: Probability of answering a message received.
    reply_prob: float
    #: Multiplier on the recipient's `reply_prob` for messages this member sends.
    reply_appeal: float
    people_searches: float
    other_searches: float
    #: Mean profiles opened from each people search.
    views_per_search: float
    profile_views: float
    follows: float
    group_joins: float
    profile_updates: float
    #: Mean reactions/comments/shares a post attracts before the audience bonus.
    post_appeal: float
    #: Relative weight of being picked as someone to follow.
    follow_appeal: float
    #: Probability, per active day, of receiving a recommendation from a connection.
    recommendations: float
    #: Probability, per active day, of removing a connection.
    removals: float
    #: Probability that someone who accepted this member's invite removes them again later.
    removed_after_accept: float
    #: Profile sections completed at first appearance: (min, max).
    initial_sections: tuple[int, int]
    #: Active days before the member stops (min, max), or None for members who never lapse.
    lapse_after_days: tuple[int, int] | None = None
    #: Seniority weights in `SENIORITIES` order; None means the network-wide weights.
    seniority_weights: tuple[float, ...] | None = None
    #: Preferred industry (always chosen when set, else the network-wide industry weights).
    industry: str | None = None


#: Post formats in the order of `Persona.format_weights`.
POST_FORMATS: Final = ("post", "article", "video", "document", "poll", "reshare")

#: Seniority levels (the contract's values) and their network-wide weights.
SENIORITIES: Final = (
    "entry",
    "senior",
    "manager",
    "director",
    "vp",
    "cxo",
    "owner",
    "partner",
    "unpaid",
    "training",
)
SENIORITY_WEIGHTS: Final = (0.30, 0.26, 0.15, 0.08, 0.04, 0.03, 0.06, 0.02, 0.03, 0.03)

#: Industries and their network-wide weights.
INDUSTRIES: Final = (
    "Computer Software",
    "Information Technology and Services",
    "Financial Services",
    "Banking",
    "Insurance",
    "Staffing and Recruiting",
    "Hospital & Health Care",
    "Pharmaceuticals",
    "Marketing and Advertising",
    "Management Consulting",
    "Real Estate",
    "Construction",
    "Retail",
    "Telecommunications",
    "Higher Education",
    "Automotive",
    "Oil & Energy",
    "Logistics and Supply Chain",
    "Legal Services",
    "Accounting",
    "Government Administration",
    "Media Production",
)
INDUSTRY_WEIGHTS: Final = (
    0.11,
    0.10,
    0.07,
    0.05,
    0.04,
    0.06,
    0.07,
    0.03,
    0.06,
    0.05,
    0.04,
    0.04,
    0.05,
    0.03,
    0.05,
    0.03,
    0.03,
    0.03,
    0.03,
    0.03,
    0.04,
    0.02,
)

#: Profile sections in the contract's order; `completed_sections` lists them in this order.
PROFILE_SECTIONS: Final = (
    "photo",
    "headline",
    "experience",
    "education",
    "skills",
    "summary",
    "background_photo",
    "featured",
    "certifications",
    "volunteering",
)

#: Activity on Saturdays and Sundays relative to weekdays.
WEEKEND_ACTIVITY: Final = 0.3

_NO_POSTS = (1.0, 0.0, 0.0, 0.0, 0.0, 0.0)

GENUINE_SELLER: Final = Persona(
    name="genuine_seller",
    active_day_prob=0.85,
    sessions_per_active_day=2.5,
    invites=6.0,
    personalized_prob=0.85,
    targeted_prob=0.9,
    invite_acceptance=0.65,
    posts=0.6,
    format_weights=(0.55, 0.1, 0.1, 0.1, 0.05, 0.1),
    comments=3.0,
    reactions=6.0,
    shares=0.5,
    messages=4.0,
    inmail_share=0.1,
    reply_prob=0.8,
    reply_appeal=1.0,
    people_searches=2.0,
    other_searches=0.8,
    views_per_search=2.0,
    profile_views=3.0,
    follows=0.4,
    group_joins=0.05,
    profile_updates=0.03,
    post_appeal=4.0,
    follow_appeal=2.0,
    recommendations=0.03,
    removals=0.003,
    removed_after_accept=0.01,
    initial_sections=(7, 10),
    seniority_weights=(0.05, 0.30, 0.25, 0.18, 0.08, 0.03, 0.06, 0.05, 0.0, 0.0),
)

SPAMMER: Final = Persona(
    name="spammer",
    active_day_prob=0.85,
    sessions_per_active_day=3.0,
    invites=110.0,
    personalized_prob=0.02,
    targeted_prob=0.02,
    invite_acceptance=0.02,
    posts=0.1,
    format_weights=(0.8, 0.0, 0.0, 0.0, 0.0, 0.2),
    comments=0.3,
    reactions=1.0,
    shares=0.2,
    messages=8.0,
    inmail_share=0.6,
    reply_prob=0.1,
    reply_appeal=0.08,
    people_searches=3.0,
    other_searches=0.1,
    views_per_search=0.3,
    profile_views=0.5,
    follows=0.2,
    group_joins=0.3,
    profile_updates=0.01,
    post_appeal=0.3,
    follow_appeal=0.1,
    recommendations=0.0,
    removals=0.0,
    removed_after_accept=0.15,
    initial_sections=(2, 5),
)

LURKER: Final = Persona(
    name="lurker",
    active_day_prob=0.12,
    sessions_per_active_day=1.1,
    invites=0.0,
    personalized_prob=0.2,
    targeted_prob=0.5,
    invite_acceptance=0.4,
    posts=0.0,
    format_weights=_NO_POSTS,
    comments=0.0,
    reactions=2.0,
    shares=0.0,
    messages=0.0,
    inmail_share=0.0,
    reply_prob=0.25,
    reply_appeal=0.5,
    people_searches=0.0,
    other_searches=0.0,
    views_per_search=0.0,
    profile_views=0.3,
    follows=0.0,
    group_joins=0.0,
    profile_updates=0.005,
    post_appeal=0.0,
    follow_appeal=0.1,
    recommendations=0.0,
    removals=0.0,
    removed_after_accept=0.0,
    initial_sections=(2, 5),
)

NEWCOMER: Final = Persona(
    name="newcomer",
    active_day_prob=0.35,
    sessions_per_active_day=1.2,
    invites=0.8,
    personalized_prob=0.2,
    targeted_prob=0.6,
    invite_acceptance=0.5,
    posts=0.02,
    format_weights=(1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    comments=0.05,
    reactions=0.5,
    shares=0.0,
    messages=0.1,
    inmail_share=0.0,
    reply_prob=0.5,
    reply_appeal=0.7,
    people_searches=0.3,
    other_searches=0.3,
    views_per_search=1.0,
    profile_views=0.3,
    follows=0.1,
    group_joins=0.1,
    profile_updates=0.8,
    post_appeal=1.0,
    follow_appeal=0.2,
    recommendations=0.0,
    removals=0.0,
    removed_after_accept=0.0,
    initial_sections=(1, 3),
    seniority_weights=(0.45, 0.10, 0.05, 0.02, 0.0, 0.0, 0.03, 0.0, 0.15, 0.20),
)

#: A genuine seller who stops (logs in rarely) after a few days.
LAPSED_SELLER: Final = replace(GENUINE_SELLER, name="lapsed_seller", lapse_after_days=(3, 12))

INFLUENCER: Final = Persona(
    name="influencer",
    active_day_prob=0.9,
    sessions_per_active_day=3.0,
    invites=1.5,
    personalized_prob=0.6,
    targeted_prob=0.8,
    invite_acceptance=0.85,
    posts=1.5,
    format_weights=(0.40, 0.25, 0.15, 0.12, 0.05, 0.03),
    comments=4.0,
    reactions=5.0,
    shares=0.8,
    messages=2.0,
    inmail_share=0.05,
    reply_prob=0.5,
    reply_appeal=1.2,
    people_searches=0.3,
    other_searches=0.5,
    views_per_search=1.0,
    profile_views=1.0,
    follows=0.3,
    group_joins=0.02,
    profile_updates=0.03,
    post_appeal=25.0,
    follow_appeal=60.0,
    recommendations=0.08,
    removals=0.002,
    removed_after_accept=0.0,
    initial_sections=(9, 10),
    seniority_weights=(0.0, 0.15, 0.15, 0.2, 0.15, 0.15, 0.15, 0.05, 0.0, 0.0),
)

RECRUITER: Final = Persona(
    name="recruiter",
    active_day_prob=0.8,
    sessions_per_active_day=3.0,
    invites=5.0,
    personalized_prob=0.5,
    targeted_prob=0.8,
    invite_acceptance=0.4,
    posts=0.2,
    format_weights=(0.8, 0.05, 0.05, 0.05, 0.0, 0.05),
    comments=0.3,
    reactions=1.5,
    shares=0.5,
    messages=8.0,
    inmail_share=0.7,
    reply_prob=0.7,
    reply_appeal=0.6,
    people_searches=10.0,
    other_searches=1.0,
    views_per_search=3.0,
    profile_views=1.0,
    follows=0.1,
    group_joins=0.05,
    profile_updates=0.02,
    post_appeal=2.0,
    follow_appeal=1.0,
    recommendations=0.02,
    removals=0.001,
    removed_after_accept=0.02,
    initial_sections=(6, 9),
    seniority_weights=(0.15, 0.40, 0.25, 0.12, 0.04, 0.0, 0.02, 0.02, 0.0, 0.0),
    industry="Staffing and Recruiting",
)

OCCASIONAL: Final = Persona(
    name="occasional",
    active_day_prob=0.25,
    sessions_per_active_day=1.3,
    invites=0.3,
    personalized_prob=0.25,
    targeted_prob=0.7,
    invite_acceptance=0.5,
    posts=0.05,
    format_weights=(0.8, 0.02, 0.05, 0.03, 0.05, 0.05),
    comments=0.3,
    reactions=2.0,
    shares=0.1,
    messages=0.6,
    inmail_share=0.0,
    reply_prob=0.6,
    reply_appeal=0.9,
    people_searches=0.4,
    other_searches=0.4,
    views_per_search=1.0,
    profile_views=0.8,
    follows=0.05,
    group_joins=0.02,
    profile_updates=0.01,
    post_appeal=1.5,
    follow_appeal=0.3,
    recommendations=0.005,
    removals=0.001,
    removed_after_accept=0.0,
    initial_sections=(3, 8),
)

#: Every persona by name.
PERSONAS: Final[MappingProxyType[str, Persona]] = MappingProxyType(
    {
        p.name: p
        for p in (
            OCCASIONAL,
            LURKER,
            NEWCOMER,
            GENUINE_SELLER,
            LAPSED_SELLER,
            RECRUITER,
            INFLUENCER,
            SPAMMER,
        )
    }
)

#: Share of each persona in a typical network: mostly light users, a small very active top.
DEFAULT_MIX: Final[MappingProxyType[str, float]] = MappingProxyType(
    {
        "occasional": 0.55,
        "lurker": 0.18,
        "newcomer": 0.06,
        "genuine_seller": 0.08,
        "lapsed_seller": 0.04,
        "recruiter": 0.04,
        "influencer": 0.02,
        "spammer": 0.03,
    }
)
