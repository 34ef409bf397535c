"""The four pillars: each turns decayed signals into 0-25 points, one `Contribution` per component.

Every component saturates (1 - exp(-value / saturation)) so volume alone cannot max a pillar; quality
factors (smoothed ratios) scale the volume components, and penalties subtract points for invitations
nobody accepts and messages nobody answers — so spam scores below doing nothing.

Each component's points are one small function, listed in `COMPONENTS` with the inputs it reads: the
pillar rules call them for the card, and `explain.next_step` re-runs only those an action can change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

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
class Inputs:
    """Which decayed signals, levels and profile sections something reads (or, for an action, changes)."""

    signals: frozenset[Signal] = frozenset()
    levels: frozenset[Level] = frozenset()
    sections: bool = False

    def overlaps(self, other: Inputs) -> bool:
        return bool(
            self.signals & other.signals or self.levels & other.levels or (self.sections and other.sections)
        )


def inputs(*signals: Signal, levels: tuple[Level, ...] = (), sections: bool = False) -> Inputs:
    return Inputs(frozenset(signals), frozenset(levels), sections)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One component of a pillar: the signal it reads, its value, the points it earns, and why."""

    signal: str
    value: float
    points: float
    text: str


@dataclass(frozen=True, slots=True)
class Component:
    """How one component of a pillar earns its points, and every input those points depend on."""

    name: str
    reads: Inputs
    points: Callable[[Signals, Model], float]


#: `Signal` and `Level` positions as plain ints, for the hot path: on Python 3.11 reading an IntEnum member
#: (`Signal.POSTS`) costs about 80 ns, five times a plain attribute, and a score reads a few hundred.
SIGNAL = SimpleNamespace(**{signal.name: int(signal) for signal in Signal})
LEVEL = SimpleNamespace(**{level.name: int(level) for level in Level})
#: Profile sections as they read in a sentence, in bit order.
_SECTION_NAMES = tuple(section.value.replace("_", " ") for section in PROFILE_SECTIONS)


def saturate(value: float, saturation: float) -> float:
    """Diminishing returns: 0 at 0, about 0.63 at `saturation`, approaching 1."""
    return 1.0 - math.exp(-value / saturation) if value > 0 else 0.0


def smoothed_rate(successes: float, trials: float, prior: Prior) -> float:
    """A ratio pulled towards the prior so a single data point cannot swing it."""
    return (successes + prior.rate * prior.weight) / (trials + prior.weight)


def _ratio(value: float, target: float) -> float:
    return min(1.0, max(0.0, value / target))


def decayed_count_text(value: float) -> str:
    """A decayed count for people: whole numbers, one decimal below 10."""
    return f"{value:.0f}" if value >= 9.95 or value == round(value) else f"{value:.1f}"


_n = decayed_count_text
#: A targeting share below this is noted in the texts of the components it scales.
TARGETING_NOTE_BELOW = 0.99
#: From this many recent InMails sent, the conversations text says how many were answered.
INMAIL_NOTE_FROM = 0.5


def _count(value: float, noun: str, plural: str | None = None) -> str:
    text = _n(value)
    return f"{text} {noun if text == '1' else plural or noun + 's'}"


# --- professional brand ------------------------------------------------------------------------------------


def completed_sections(sig: Signals) -> int:
    return bin(sig.sections).count("1")


def content_volume(sig: Signals, model: Model) -> float:
    """Recent posts, with articles and reshares weighted."""
    q, d = model.pillars.professional_brand.quality, sig.decayed
    return d[SIGNAL.POSTS] + q.article_weight * d[SIGNAL.ARTICLES] + q.reshare_weight * d[SIGNAL.RESHARES]


def engagement_received(sig: Signals, model: Model) -> float:
    """Recent engagement points earned on the member's posts."""
    q, d = model.pillars.professional_brand.quality, sig.decayed
    return (
        q.comment_weight * d[SIGNAL.COMMENTS_RECEIVED]
        + q.reaction_weight * d[SIGNAL.REACTIONS_RECEIVED]
        + q.share_weight * d[SIGNAL.SHARES_RECEIVED]
    )


def engagement_per_post(engagement: float, volume: float, model: Model) -> float:
    """Smoothed engagement points per (weighted) post."""
    return smoothed_rate(engagement, volume, model.priors.engagement_per_post)


def _profile_completeness_points(sig: Signals, model: Model) -> float:
    weight = model.pillars.professional_brand.weights.profile_completeness
    return weight * completed_sections(sig) / len(PROFILE_SECTIONS)


def _recommendations_points(sig: Signals, model: Model) -> float:
    p = model.pillars.professional_brand
    return p.weights.recommendations * saturate(
        sig.levels[LEVEL.RECOMMENDATIONS], p.saturation.recommendations
    )


def _content_points(sig: Signals, model: Model) -> float:
    p = model.pillars.professional_brand
    volume = content_volume(sig, model)
    per_post = engagement_per_post(engagement_received(sig, model), volume, model)
    content_quality = _ratio(per_post, p.quality.engagement_per_post_target)
    return p.weights.content * saturate(volume, p.saturation.content) * content_quality


def _engagement_received_points(sig: Signals, model: Model) -> float:
    p = model.pillars.professional_brand
    return p.weights.engagement_received * saturate(
        engagement_received(sig, model), p.saturation.engagement_received
    )


def _followers_points(sig: Signals, model: Model) -> float:
    p = model.pillars.professional_brand
    return p.weights.followers * saturate(sig.levels[LEVEL.FOLLOWERS], p.saturation.followers)


_RECEIVED = (Signal.COMMENTS_RECEIVED, Signal.REACTIONS_RECEIVED, Signal.SHARES_RECEIVED)
BRAND_COMPONENTS = (
    Component("profile_completeness", inputs(sections=True), _profile_completeness_points),
    Component("recommendations", inputs(levels=(Level.RECOMMENDATIONS,)), _recommendations_points),
    Component("content", inputs(Signal.POSTS, Signal.ARTICLES, Signal.RESHARES, *_RECEIVED), _content_points),
    Component("engagement_received", inputs(*_RECEIVED), _engagement_received_points),
    Component("followers", inputs(levels=(Level.FOLLOWERS,)), _followers_points),
)


def professional_brand(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    q = model.pillars.professional_brand.quality
    sections = completed_sections(sig)
    missing = [name for i, name in enumerate(_SECTION_NAMES) if not sig.sections >> i & 1]
    recommendations = sig.levels[LEVEL.RECOMMENDATIONS]
    d = sig.decayed
    posts, articles, reshares = d[SIGNAL.POSTS], d[SIGNAL.ARTICLES], d[SIGNAL.RESHARES]
    comments, reactions, shares = (
        d[SIGNAL.COMMENTS_RECEIVED],
        d[SIGNAL.REACTIONS_RECEIVED],
        d[SIGNAL.SHARES_RECEIVED],
    )
    volume, received = content_volume(sig, model), engagement_received(sig, model)
    followers = sig.levels[LEVEL.FOLLOWERS]
    completeness, recommended, content, engagement, following = _points(BRAND_COMPONENTS, sig, model)
    return (
        Contribution(
            "profile_completeness",
            sections,
            completeness,
            f"Your profile has {sections} of {len(PROFILE_SECTIONS)} sections complete"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
        ),
        Contribution(
            "recommendations",
            recommendations,
            recommended,
            f"{recommendations} recommendation{'s' if recommendations != 1 else ''} on your profile",
        ),
        Contribution(
            "content",
            volume,
            content,
            f"About {_count(posts, 'post')}, {_count(articles, 'article')} and {_count(reshares, 'reshare')} "
            f"recently, earning {engagement_per_post(received, volume, model):.1f} engagement points each "
            f"(full credit from {q.engagement_per_post_target:g})",
        ),
        Contribution(
            "engagement_received",
            received,
            engagement,
            f"{_count(comments, 'comment')}, {_count(reactions, 'reaction')} and {_count(shares, 'share')} "
            "on your posts recently",
        ),
        Contribution(
            "followers",
            followers,
            following,
            f"{followers} follower{'s' if followers != 1 else ''}",
        ),
    )


# --- find the right people ---------------------------------------------------------------------------------


def invitation_acceptance(sig: Signals, model: Model) -> float:
    """Smoothed share of the member's invitations that were accepted."""
    rate = smoothed_rate(
        sig.decayed[SIGNAL.INVITES_ACCEPTED],
        sig.decayed[SIGNAL.INVITES_SENT],
        model.priors.invitation_acceptance,
    )
    return min(1.0, rate)


def targeting(sig: Signals, model: Model) -> float:
    """0-1: how far the people the member finds accept their invitations (scales prospecting)."""
    return _ratio(
        invitation_acceptance(sig, model), model.pillars.find_right_people.quality.acceptance_target
    )


def people_searches(sig: Signals) -> float:
    return sig.decayed[SIGNAL.PEOPLE_SEARCHES] + sig.decayed[SIGNAL.COMPANY_SEARCHES]


def search_success(sig: Signals, model: Model) -> float:
    """Smoothed share of all searches after which the member opened a result."""
    all_searches = (
        people_searches(sig) + sig.decayed[SIGNAL.CONTENT_SEARCHES] + sig.decayed[SIGNAL.JOB_SEARCHES]
    )
    return smoothed_rate(sig.decayed[SIGNAL.FRUITFUL_SEARCHES], all_searches, model.priors.search_success)


def prospecting_views(sig: Signals, model: Model) -> float:
    """Profiles viewed from searches, plus other views at a lower weight."""
    other_view_weight = model.pillars.find_right_people.quality.other_view_weight
    return sig.decayed[SIGNAL.VIEWS_FROM_SEARCH] + other_view_weight * sig.decayed[SIGNAL.VIEWS_OTHER]


def _people_searches_points(sig: Signals, model: Model) -> float:
    p = model.pillars.find_right_people
    search_quality = _ratio(search_success(sig, model), p.quality.search_success_target)
    return (
        p.weights.people_searches
        * saturate(people_searches(sig), p.saturation.people_searches)
        * search_quality
        * targeting(sig, model)
    )


def _prospecting_views_points(sig: Signals, model: Model) -> float:
    p = model.pillars.find_right_people
    return (
        p.weights.prospecting_views
        * saturate(prospecting_views(sig, model), p.saturation.prospecting_views)
        * targeting(sig, model)
    )


def _days_active_points(sig: Signals, model: Model) -> float:
    p = model.pillars.find_right_people
    return p.weights.days_active * saturate(sig.decayed[SIGNAL.ACTIVE_DAYS], p.saturation.days_active)


def _decision_makers_reached_points(sig: Signals, model: Model) -> float:
    p = model.pillars.find_right_people
    return p.weights.decision_makers_reached * saturate(
        sig.decayed[SIGNAL.DECISION_MAKERS_CONNECTED], p.saturation.decision_makers_reached
    )


_INVITATIONS = (Signal.INVITES_SENT, Signal.INVITES_ACCEPTED)
_SEARCHES = (
    Signal.PEOPLE_SEARCHES,
    Signal.COMPANY_SEARCHES,
    Signal.CONTENT_SEARCHES,
    Signal.JOB_SEARCHES,
    Signal.FRUITFUL_SEARCHES,
)
FIND_COMPONENTS = (
    Component("people_searches", inputs(*_SEARCHES, *_INVITATIONS), _people_searches_points),
    Component(
        "prospecting_views",
        inputs(Signal.VIEWS_FROM_SEARCH, Signal.VIEWS_OTHER, *_INVITATIONS),
        _prospecting_views_points,
    ),
    Component("days_active", inputs(Signal.ACTIVE_DAYS), _days_active_points),
    Component(
        "decision_makers_reached", inputs(Signal.DECISION_MAKERS_CONNECTED), _decision_makers_reached_points
    ),
)


def find_right_people(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    searches = people_searches(sig)
    success = search_success(sig, model)
    from_search, other = sig.decayed[SIGNAL.VIEWS_FROM_SEARCH], sig.decayed[SIGNAL.VIEWS_OTHER]
    active = sig.decayed[SIGNAL.ACTIVE_DAYS]
    reached = sig.decayed[SIGNAL.DECISION_MAKERS_CONNECTED]
    share = targeting(sig, model)
    targeting_note = (
        f"; only {share:.0%} credit while few of your invitations are accepted"
        if share < TARGETING_NOTE_BELOW
        else ""
    )
    searching, viewing, days_active, reaching = _points(FIND_COMPONENTS, sig, model)
    return (
        Contribution(
            "people_searches",
            searches,
            searching,
            f"About {_n(searches)} people and company searches recently; "
            f"{min(success, 1.0):.0%} of your searches led you to open a result{targeting_note}",
        ),
        Contribution(
            "prospecting_views",
            prospecting_views(sig, model),
            viewing,
            f"{_n(from_search)} profiles viewed from searches and {_n(other)} from elsewhere recently"
            + targeting_note,
        ),
        Contribution(
            "days_active",
            active,
            days_active,
            f"Active on about {_count(active, 'recent day')} (recent weeks count most)",
        ),
        Contribution(
            "decision_makers_reached",
            reached,
            reaching,
            f"{_count(reached, 'new connection')} at VP level or above recently",
        ),
    )


# --- engage with insights ----------------------------------------------------------------------------------


def engagement_given(sig: Signals, model: Model) -> float:
    """Recent engagement points the member gave on others' posts."""
    q = model.pillars.engage_with_insights.quality
    return (
        q.comment_weight * sig.decayed[SIGNAL.COMMENTS_GIVEN]
        + q.reaction_weight * sig.decayed[SIGNAL.REACTIONS_GIVEN]
        + q.share_weight * sig.decayed[SIGNAL.SHARES_GIVEN]
    )


def reply_rate(sig: Signals, model: Model) -> float:
    """Smoothed share of the conversations the member started that got a reply."""
    replies, initiated = sig.decayed[SIGNAL.REPLIES_RECEIVED], sig.decayed[SIGNAL.MESSAGES_INITIATED]
    return min(1.0, smoothed_rate(replies, initiated, model.priors.message_reply))


def unanswered_messages(sig: Signals, model: Model) -> float:
    """Started conversations, counted in full below the reply-rate threshold (0 at or above it)."""
    threshold = model.pillars.engage_with_insights.quality.reply_rate_threshold
    shortfall = max(0.0, 1.0 - reply_rate(sig, model) / threshold)
    return sig.decayed[SIGNAL.MESSAGES_INITIATED] * shortfall


def responsiveness(sig: Signals, model: Model) -> float:
    """Smoothed share of the conversations others started that the member answered."""
    replies_sent, received = sig.decayed[SIGNAL.REPLIES_SENT], sig.decayed[SIGNAL.MESSAGES_RECEIVED]
    return min(1.0, smoothed_rate(replies_sent, received, model.priors.responsiveness))


def _engagement_given_points(sig: Signals, model: Model) -> float:
    p = model.pillars.engage_with_insights
    return p.weights.engagement_given * saturate(engagement_given(sig, model), p.saturation.engagement_given)


def _conversations_points(sig: Signals, model: Model) -> float:
    p = model.pillars.engage_with_insights
    return p.weights.conversations * saturate(
        sig.decayed[SIGNAL.REPLIES_RECEIVED], p.saturation.conversations
    )


def _responsiveness_points(sig: Signals, model: Model) -> float:
    p = model.pillars.engage_with_insights
    return (
        p.weights.responsiveness
        * saturate(sig.decayed[SIGNAL.REPLIES_SENT], p.saturation.responsiveness)
        * _ratio(responsiveness(sig, model), p.quality.responsiveness_target)
    )


def _groups_points(sig: Signals, model: Model) -> float:
    p = model.pillars.engage_with_insights
    return p.weights.groups * saturate(sig.levels[LEVEL.GROUPS], p.saturation.groups)


def _unanswered_messages_points(sig: Signals, model: Model) -> float:
    p = model.pillars.engage_with_insights
    return -p.weights.unanswered_messages * saturate(
        unanswered_messages(sig, model), p.saturation.unanswered_messages
    )


ENGAGE_COMPONENTS = (
    Component(
        "engagement_given",
        inputs(Signal.COMMENTS_GIVEN, Signal.REACTIONS_GIVEN, Signal.SHARES_GIVEN),
        _engagement_given_points,
    ),
    Component("conversations", inputs(Signal.REPLIES_RECEIVED), _conversations_points),
    Component(
        "responsiveness", inputs(Signal.REPLIES_SENT, Signal.MESSAGES_RECEIVED), _responsiveness_points
    ),
    Component("groups", inputs(levels=(Level.GROUPS,)), _groups_points),
    Component(
        "unanswered_messages",
        inputs(Signal.MESSAGES_INITIATED, Signal.REPLIES_RECEIVED),
        _unanswered_messages_points,
    ),
)


def engage_with_insights(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    q = model.pillars.engage_with_insights.quality
    comments, reactions, shares = (
        sig.decayed[SIGNAL.COMMENTS_GIVEN],
        sig.decayed[SIGNAL.REACTIONS_GIVEN],
        sig.decayed[SIGNAL.SHARES_GIVEN],
    )
    initiated, replies = sig.decayed[SIGNAL.MESSAGES_INITIATED], sig.decayed[SIGNAL.REPLIES_RECEIVED]
    replies_sent = sig.decayed[SIGNAL.REPLIES_SENT]
    answered = responsiveness(sig, model)
    groups = sig.levels[LEVEL.GROUPS]
    inmails, inmail_replies = sig.decayed[SIGNAL.INMAILS_SENT], sig.decayed[SIGNAL.INMAIL_REPLIES_RECEIVED]
    inmail_note = (
        f", {_n(inmail_replies)} of {_n(inmails)} InMails answered" if inmails >= INMAIL_NOTE_FROM else ""
    )
    giving, conversing, responding, grouping, unanswered = _points(ENGAGE_COMPONENTS, sig, model)
    return (
        Contribution(
            "engagement_given",
            engagement_given(sig, model),
            giving,
            f"{_count(comments, 'comment')}, {_count(shares, 'share')} and {_count(reactions, 'reaction')} "
            "on others' posts recently",
        ),
        Contribution(
            "conversations",
            replies,
            conversing,
            f"{_count(replies, 'reply', 'replies')} to the {_count(initiated, 'conversation')} "
            f"you started recently{inmail_note}",
        ),
        Contribution(
            "responsiveness",
            replies_sent,
            responding,
            f"You answered {_count(replies_sent, 'message')} recently; "
            f"about {answered:.0%} of messages to you get a reply",
        ),
        Contribution(
            "groups",
            groups,
            grouping,
            f"Member of {groups} group{'s' if groups != 1 else ''}",
        ),
        Contribution(
            "unanswered_messages",
            unanswered_messages(sig, model),
            unanswered,
            f"Only {reply_rate(sig, model):.0%} of the {_n(initiated)} conversations you started got a reply "
            f"(below {q.reply_rate_threshold:.0%} costs points)",
        ),
    )


# --- build relationships -----------------------------------------------------------------------------------


def invitation_quality(sig: Signals, model: Model) -> float:
    """0-1: invitation acceptance against its target (scales the invitation components)."""
    return _ratio(
        invitation_acceptance(sig, model), model.pillars.build_relationships.quality.acceptance_target
    )


def blind_invitations(sig: Signals, model: Model) -> float:
    """Invitations sent, counted in full below the acceptance threshold (0 at or above it)."""
    threshold = model.pillars.build_relationships.quality.acceptance_threshold
    shortfall = max(0.0, 1.0 - invitation_acceptance(sig, model) / threshold)
    return sig.decayed[SIGNAL.INVITES_SENT] * shortfall


def _connections_points(sig: Signals, model: Model) -> float:
    p = model.pillars.build_relationships
    return p.weights.connections * saturate(sig.levels[LEVEL.CONNECTIONS], p.saturation.connections)


def _decision_maker_connections_points(sig: Signals, model: Model) -> float:
    p = model.pillars.build_relationships
    return p.weights.decision_maker_connections * saturate(
        sig.levels[LEVEL.DECISION_MAKER_CONNECTIONS], p.saturation.decision_maker_connections
    )


def _accepted_invitations_points(sig: Signals, model: Model) -> float:
    p = model.pillars.build_relationships
    return (
        p.weights.accepted_invitations
        * saturate(sig.decayed[SIGNAL.INVITES_ACCEPTED], p.saturation.accepted_invitations)
        * invitation_quality(sig, model)
    )


def _acceptance_rate_points(sig: Signals, model: Model) -> float:
    p = model.pillars.build_relationships
    return (
        p.weights.acceptance_rate
        * saturate(sig.decayed[SIGNAL.INVITES_SENT], p.saturation.acceptance_rate)
        * invitation_quality(sig, model)
    )


def _invitations_accepted_by_you_points(sig: Signals, model: Model) -> float:
    p = model.pillars.build_relationships
    return p.weights.invitations_accepted_by_you * saturate(
        sig.decayed[SIGNAL.INVITES_ACCEPTED_BY_ME], p.saturation.invitations_accepted_by_you
    )


def _blind_invitations_points(sig: Signals, model: Model) -> float:
    p = model.pillars.build_relationships
    return -p.weights.blind_invitations * saturate(
        blind_invitations(sig, model), p.saturation.blind_invitations
    )


BUILD_COMPONENTS = (
    Component("connections", inputs(levels=(Level.CONNECTIONS,)), _connections_points),
    Component(
        "decision_maker_connections",
        inputs(levels=(Level.DECISION_MAKER_CONNECTIONS,)),
        _decision_maker_connections_points,
    ),
    Component("accepted_invitations", inputs(*_INVITATIONS), _accepted_invitations_points),
    Component("acceptance_rate", inputs(*_INVITATIONS), _acceptance_rate_points),
    Component(
        "invitations_accepted_by_you",
        inputs(Signal.INVITES_ACCEPTED_BY_ME),
        _invitations_accepted_by_you_points,
    ),
    Component("blind_invitations", inputs(*_INVITATIONS), _blind_invitations_points),
)


def build_relationships(sig: Signals, model: Model) -> tuple[Contribution, ...]:
    q = model.pillars.build_relationships.quality
    connections = sig.levels[LEVEL.CONNECTIONS]
    decision_makers = sig.levels[LEVEL.DECISION_MAKER_CONNECTIONS]
    sent, accepted = sig.decayed[SIGNAL.INVITES_SENT], sig.decayed[SIGNAL.INVITES_ACCEPTED]
    acceptance = invitation_acceptance(sig, model)
    personalised = sig.decayed[SIGNAL.INVITES_PERSONALISED]
    by_you = sig.decayed[SIGNAL.INVITES_ACCEPTED_BY_ME]
    rate_text = f"{_n(accepted)} of your last {_n(sent)} invitations were accepted"
    connected, connected_up, accepted_points, rate_points, accepting, blind = _points(
        BUILD_COMPONENTS, sig, model
    )
    return (
        Contribution(
            "connections",
            connections,
            connected,
            f"{connections} connection{'s' if connections != 1 else ''}",
        ),
        Contribution(
            "decision_maker_connections",
            decision_makers,
            connected_up,
            f"{decision_makers} of your connections are at VP level or above",
        ),
        Contribution("accepted_invitations", accepted, accepted_points, rate_text),
        Contribution(
            "acceptance_rate",
            acceptance,
            rate_points,
            f"{acceptance:.0%} acceptance rate (smoothed); {_n(personalised)} of {_n(sent)} invitations "
            "were personalised",
        ),
        Contribution(
            "invitations_accepted_by_you",
            by_you,
            accepting,
            f"You accepted {_count(by_you, 'invitation')} recently "
            f"(of {_n(sig.decayed[SIGNAL.INVITES_RECEIVED])} received)",
        ),
        Contribution(
            "blind_invitations",
            blind_invitations(sig, model),
            blind,
            f"{rate_text}: below {q.acceptance_threshold:.0%} each unanswered invitation costs points",
        ),
    )


# --- the pillars -------------------------------------------------------------------------------------------


def _points(components: tuple[Component, ...], sig: Signals, model: Model) -> list[float]:
    return [component.points(sig, model) for component in components]


#: Each pillar's components, in the order its contributions list them.
COMPONENTS: dict[str, tuple[Component, ...]] = {
    "professional_brand": BRAND_COMPONENTS,
    "find_right_people": FIND_COMPONENTS,
    "engage_with_insights": ENGAGE_COMPONENTS,
    "build_relationships": BUILD_COMPONENTS,
}
PILLAR_RULES: dict[str, Callable[[Signals, Model], tuple[Contribution, ...]]] = {
    "professional_brand": professional_brand,
    "find_right_people": find_right_people,
    "engage_with_insights": engage_with_insights,
    "build_relationships": build_relationships,
}
assert tuple(PILLAR_RULES) == tuple(COMPONENTS) == PILLARS


def pillar_points(contributions: tuple[Contribution, ...]) -> float:
    """The pillar: its components summed, clamped to 0-25."""
    return min(PILLAR_MAX, max(0.0, sum(c.points for c in contributions)))


def pillar_total(pillar: str, sig: Signals, model: Model) -> float:
    """`pillar_points` of the pillar's contributions, without building them (no texts): the same
    components summed in the same order, so the same float."""
    return min(PILLAR_MAX, max(0.0, sum(_points(COMPONENTS[pillar], sig, model))))
