"""The four pillars: each turns decayed signals into 0-25 points, one `Contribution` per component.

Every component saturates (1 - exp(-value / saturation)) so volume alone cannot max a pillar; quality
factors (smoothed ratios) scale the volume components, and penalties subtract points for invitations
nobody accepts and messages nobody answers — so spam scores below doing nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ssi_stream.scoring.effects import PROFILE_SECTIONS
from ssi_stream.scoring.model import PILLAR_MAX, PILLARS, Model, Prior
from ssi_stream.scoring.state import Level, MemberState, Signal


@dataclass(slots=True)
class Signals:
    """A read-only-by-convention snapshot of a state's closed-day signals (copied for what-if scoring)."""

    decayed: list[float]
    levels: list[int]
    sections: int

    @classmethod
    def of(cls, state: MemberState) -> Signals:
        return cls(state.decayed.tolist(), state.levels.tolist(), state.profile.sections)

    def copy(self) -> Signals:
        return Signals(self.decayed.copy(), self.levels.copy(), self.sections)

    def __getitem__(self, signal: Signal) -> float:
        return self.decayed[signal]

    def level(self, level: Level) -> int:
        return self.levels[level]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One component of a pillar: the signal it reads, its value, the points it earns, and why."""

    signal: str
    value: float
    points: float
    text: str


def saturate(value: float, saturation: float) -> float:
    """Diminishing returns: 0 at 0, about 0.63 at `saturation`, approaching 1."""
    return 1.0 - math.exp(-value / saturation) if value > 0 else 0.0


def smoothed_rate(successes: float, trials: float, prior: Prior) -> float:
    """A ratio pulled towards the prior so a single data point cannot swing it."""
    return (successes + prior.rate * prior.weight) / (trials + prior.weight)


def _ratio(value: float, target: float) -> float:
    return min(1.0, max(0.0, value / target))


def _n(value: float) -> str:
    """A decayed count for people: whole numbers, one decimal below 10."""
    return f"{value:.0f}" if value >= 9.95 or value == round(value) else f"{value:.1f}"


def _count(value: float, noun: str, plural: str | None = None) -> str:
    text = _n(value)
    return f"{text} {noun if text == '1' else plural or noun + 's'}"


def professional_brand(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    p = model.pillars.professional_brand
    w, k, q = p.weights, p.saturation, p.quality
    sections = bin(sig.sections).count("1")
    missing = [
        section.value.replace("_", " ")
        for i, section in enumerate(PROFILE_SECTIONS)
        if not sig.sections >> i & 1
    ]
    recommendations = sig.level(Level.RECOMMENDATIONS)
    posts, articles, reshares = sig[Signal.POSTS], sig[Signal.ARTICLES], sig[Signal.RESHARES]
    volume = posts + q.article_weight * articles + q.reshare_weight * reshares
    comments, reactions, shares = (
        sig[Signal.COMMENTS_RECEIVED],
        sig[Signal.REACTIONS_RECEIVED],
        sig[Signal.SHARES_RECEIVED],
    )
    engagement = q.comment_weight * comments + q.reaction_weight * reactions + q.share_weight * shares
    per_post = smoothed_rate(engagement, volume, model.priors.engagement_per_post)
    content_quality = _ratio(per_post, q.engagement_per_post_target)
    followers = sig.level(Level.FOLLOWERS)
    return (
        Contribution(
            "profile_completeness",
            sections,
            w.profile_completeness * sections / len(PROFILE_SECTIONS),
            f"Your profile has {sections} of {len(PROFILE_SECTIONS)} sections complete"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
        ),
        Contribution(
            "recommendations",
            recommendations,
            w.recommendations * saturate(recommendations, k.recommendations),
            f"{recommendations} recommendation{'s' if recommendations != 1 else ''} on your profile",
        ),
        Contribution(
            "content",
            volume,
            w.content * saturate(volume, k.content) * content_quality,
            f"About {_count(posts, 'post')}, {_count(articles, 'article')} and {_count(reshares, 'reshare')} "
            f"recently, earning {per_post:.1f} engagement points each "
            f"(full credit from {q.engagement_per_post_target:g})",
        ),
        Contribution(
            "engagement_received",
            engagement,
            w.engagement_received * saturate(engagement, k.engagement_received),
            f"{_count(comments, 'comment')}, {_count(reactions, 'reaction')} and {_count(shares, 'share')} "
            "on your posts recently",
        ),
        Contribution(
            "followers",
            followers,
            w.followers * saturate(followers, k.followers),
            f"{followers} follower{'s' if followers != 1 else ''}",
        ),
    )


def invitation_acceptance(sig: Signals, model: Model) -> float:
    """Smoothed share of the member's invitations that were accepted."""
    rate = smoothed_rate(
        sig[Signal.INVITES_ACCEPTED], sig[Signal.INVITES_SENT], model.priors.invitation_acceptance
    )
    return min(1.0, rate)


def find_right_people(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    p = model.pillars.find_right_people
    w, k, q = p.weights, p.saturation, p.quality
    targeting = _ratio(invitation_acceptance(sig, model), q.acceptance_target)
    searches = sig[Signal.PEOPLE_SEARCHES] + sig[Signal.COMPANY_SEARCHES]
    all_searches = searches + sig[Signal.CONTENT_SEARCHES] + sig[Signal.JOB_SEARCHES]
    success = smoothed_rate(sig[Signal.FRUITFUL_SEARCHES], all_searches, model.priors.search_success)
    search_quality = _ratio(success, q.search_success_target)
    from_search, other = sig[Signal.VIEWS_FROM_SEARCH], sig[Signal.VIEWS_OTHER]
    views = from_search + q.other_view_weight * other
    active = sig[Signal.ACTIVE_DAYS]
    reached = sig[Signal.DECISION_MAKERS_CONNECTED]
    targeting_note = (
        f"; only {targeting:.0%} credit while few of your invitations are accepted"
        if targeting < 0.99
        else ""
    )
    return (
        Contribution(
            "people_searches",
            searches,
            w.people_searches * saturate(searches, k.people_searches) * search_quality * targeting,
            f"About {_n(searches)} people and company searches recently; "
            f"{min(success, 1.0):.0%} of your searches led you to open a result{targeting_note}",
        ),
        Contribution(
            "prospecting_views",
            views,
            w.prospecting_views * saturate(views, k.prospecting_views) * targeting,
            f"{_n(from_search)} profiles viewed from searches and {_n(other)} from elsewhere recently"
            + targeting_note,
        ),
        Contribution(
            "days_active",
            active,
            w.days_active * saturate(active, k.days_active),
            f"Active on about {_count(active, 'recent day')} (recent weeks count most)",
        ),
        Contribution(
            "decision_makers_reached",
            reached,
            w.decision_makers_reached * saturate(reached, k.decision_makers_reached),
            f"{_count(reached, 'new connection')} at VP level or above recently",
        ),
    )


def engage_with_insights(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    p = model.pillars.engage_with_insights
    w, k, q = p.weights, p.saturation, p.quality
    comments, reactions, shares = (
        sig[Signal.COMMENTS_GIVEN],
        sig[Signal.REACTIONS_GIVEN],
        sig[Signal.SHARES_GIVEN],
    )
    given = q.comment_weight * comments + q.reaction_weight * reactions + q.share_weight * shares
    initiated, replies = sig[Signal.MESSAGES_INITIATED], sig[Signal.REPLIES_RECEIVED]
    reply_rate = min(1.0, smoothed_rate(replies, initiated, model.priors.message_reply))
    shortfall = max(0.0, 1.0 - reply_rate / q.reply_rate_threshold)
    unanswered = initiated * shortfall
    received, replies_sent = sig[Signal.MESSAGES_RECEIVED], sig[Signal.REPLIES_SENT]
    responsiveness = min(1.0, smoothed_rate(replies_sent, received, model.priors.responsiveness))
    groups = sig.level(Level.GROUPS)
    inmails, inmail_replies = sig[Signal.INMAILS_SENT], sig[Signal.INMAIL_REPLIES_RECEIVED]
    inmail_note = f", {_n(inmail_replies)} of {_n(inmails)} InMails answered" if inmails >= 0.5 else ""
    return (
        Contribution(
            "engagement_given",
            given,
            w.engagement_given * saturate(given, k.engagement_given),
            f"{_count(comments, 'comment')}, {_count(shares, 'share')} and {_count(reactions, 'reaction')} "
            "on others' posts recently",
        ),
        Contribution(
            "conversations",
            replies,
            w.conversations * saturate(replies, k.conversations),
            f"{_count(replies, 'reply', 'replies')} to the {_count(initiated, 'conversation')} "
            f"you started recently{inmail_note}",
        ),
        Contribution(
            "responsiveness",
            replies_sent,
            w.responsiveness
            * saturate(replies_sent, k.responsiveness)
            * _ratio(responsiveness, q.responsiveness_target),
            f"You answered {_count(replies_sent, 'message')} recently; "
            f"about {responsiveness:.0%} of messages to you get a reply",
        ),
        Contribution(
            "groups",
            groups,
            w.groups * saturate(groups, k.groups),
            f"Member of {groups} group{'s' if groups != 1 else ''}",
        ),
        Contribution(
            "unanswered_messages",
            unanswered,
            -w.unanswered_messages * saturate(unanswered, k.unanswered_messages),
            f"Only {reply_rate:.0%} of the {_n(initiated)} conversations you started got a reply "
            f"(below {q.reply_rate_threshold:.0%} costs points)",
        ),
    )


def build_relationships(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    p = model.pillars.build_relationships
    w, k, q = p.weights, p.saturation, p.quality
    connections = sig.level(Level.CONNECTIONS)
    decision_makers = sig.level(Level.DECISION_MAKER_CONNECTIONS)
    sent, accepted = sig[Signal.INVITES_SENT], sig[Signal.INVITES_ACCEPTED]
    acceptance = invitation_acceptance(sig, model)
    quality = _ratio(acceptance, q.acceptance_target)
    shortfall = max(0.0, 1.0 - acceptance / q.acceptance_threshold)
    blind = sent * shortfall
    personalised = sig[Signal.INVITES_PERSONALISED]
    by_you = sig[Signal.INVITES_ACCEPTED_BY_ME]
    rate_text = f"{_n(accepted)} of your last {_n(sent)} invitations were accepted"
    return (
        Contribution(
            "connections",
            connections,
            w.connections * saturate(connections, k.connections),
            f"{connections} connection{'s' if connections != 1 else ''}",
        ),
        Contribution(
            "decision_maker_connections",
            decision_makers,
            w.decision_maker_connections * saturate(decision_makers, k.decision_maker_connections),
            f"{decision_makers} of your connections are at VP level or above",
        ),
        Contribution(
            "accepted_invitations",
            accepted,
            w.accepted_invitations * saturate(accepted, k.accepted_invitations) * quality,
            rate_text,
        ),
        Contribution(
            "acceptance_rate",
            acceptance,
            w.acceptance_rate * saturate(sent, k.acceptance_rate) * quality,
            f"{acceptance:.0%} acceptance rate (smoothed); {_n(personalised)} of {_n(sent)} invitations "
            "were personalised",
        ),
        Contribution(
            "invitations_accepted_by_you",
            by_you,
            w.invitations_accepted_by_you * saturate(by_you, k.invitations_accepted_by_you),
            f"You accepted {_count(by_you, 'invitation')} recently "
            f"(of {_n(sig[Signal.INVITES_RECEIVED])} received)",
        ),
        Contribution(
            "blind_invitations",
            blind,
            -w.blind_invitations * saturate(blind, k.blind_invitations),
            f"{rate_text}: below {q.acceptance_threshold:.0%} each unanswered invitation costs points",
        ),
    )


PILLAR_RULES: dict[str, Callable[[Signals, Model], tuple[Contribution, ...]]] = {
    "professional_brand": professional_brand,
    "find_right_people": find_right_people,
    "engage_with_insights": engage_with_insights,
    "build_relationships": build_relationships,
}
assert tuple(PILLAR_RULES) == PILLARS


def pillar_points(contributions: tuple[Contribution, ...]) -> float:
    """The pillar: its components summed, clamped to 0-25."""
    return min(PILLAR_MAX, max(0.0, sum(c.points for c in contributions)))
