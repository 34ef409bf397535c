"""Why a pillar scores what it does, and the one action that would raise it most.

`next_step` scores a few concrete what-if actions per pillar (a copy of the signals with the action's
typical outcome added) and recommends the one with the biggest gain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ssi_stream.scoring.model import PILLAR_MAX, Model
from ssi_stream.scoring.pillars import (
    PILLAR_RULES,
    Contribution,
    Signals,
    invitation_acceptance,
)
from ssi_stream.scoring.state import Level, Signal

#: How many contributions a pillar explanation lists.
TOP_SIGNALS = 3
#: Below this gain (points) no action is worth recommending.
MEANINGFUL_GAIN = 0.05
KEEP_GOING = "You are close to the top of this pillar: keep your current habits."


@dataclass(frozen=True, slots=True)
class Action:
    """A what-if: a concrete sentence and the signals after doing it once."""

    name: str
    sentence: Callable[[Signals, Model], str]
    apply: Callable[[Signals, Model], None]
    applies: Callable[[Signals, Model], bool] = lambda sig, model: True


def top_signals(contributions: tuple[Contribution, ...]) -> tuple[Contribution, ...]:
    """The contributions that move the pillar most (penalties included), biggest first."""
    ranked = sorted(range(len(contributions)), key=lambda i: (-abs(contributions[i].points), i))
    return tuple(contributions[i] for i in ranked[:TOP_SIGNALS])


def next_step(pillar: str, sig: Signals, model: Model) -> str:
    """The sentence of the action with the biggest marginal gain in `pillar` (ties: declared order).

    Gains are measured before the pillar is clamped at 0, so a member deep in penalties still learns
    which change helps most.
    """
    rule = PILLAR_RULES[pillar]
    base = _uncapped_below(rule(sig, model))
    best_gain, best = MEANINGFUL_GAIN, None
    for action in ACTIONS[pillar]:
        if not action.applies(sig, model):
            continue
        what_if = sig.copy()
        action.apply(what_if, model)
        gain = _uncapped_below(rule(what_if, model)) - base
        if gain > best_gain:
            best_gain, best = gain, action
    return KEEP_GOING if best is None else best.sentence(sig, model)


def _uncapped_below(contributions: tuple[Contribution, ...]) -> float:
    return min(PILLAR_MAX, sum(c.points for c in contributions))


def _add(*changes: tuple[Signal, float]) -> Callable[[Signals, Model], None]:
    def apply(sig: Signals, model: Model) -> None:
        for signal, amount in changes:
            sig.decayed[signal] += amount

    return apply


def _add_levels(*changes: tuple[Level, int]) -> Callable[[Signals, Model], None]:
    def apply(sig: Signals, model: Model) -> None:
        for level, amount in changes:
            sig.levels[level] += amount

    return apply


def _both(*steps: Callable[[Signals, Model], None]) -> Callable[[Signals, Model], None]:
    def apply(sig: Signals, model: Model) -> None:
        for step in steps:
            step(sig, model)

    return apply


def _complete_profile(sig: Signals, model: Model) -> None:
    sig.sections = (1 << 10) - 1


def _stop_unanswered_messages(sig: Signals, model: Model) -> None:
    """Start only as many conversations as the reply-rate threshold allows for the replies received."""
    threshold = model.pillars.engage_with_insights.quality.reply_rate_threshold
    initiated = sig[Signal.MESSAGES_INITIATED]
    sig.decayed[Signal.MESSAGES_INITIATED] = min(initiated, sig[Signal.REPLIES_RECEIVED] / threshold)


def _stop_blind_invitations(sig: Signals, model: Model) -> None:
    """Send only as many invitations as the acceptance threshold allows for those accepted."""
    threshold = model.pillars.build_relationships.quality.acceptance_threshold
    sent = sig[Signal.INVITES_SENT]
    sig.decayed[Signal.INVITES_SENT] = min(sent, sig[Signal.INVITES_ACCEPTED] / threshold)


def _text(sentence: str) -> Callable[[Signals, Model], str]:
    return lambda sig, model: sentence


def _blind_invitations_text(sig: Signals, model: Model) -> str:
    return (
        f"Stop inviting strangers: only {invitation_acceptance(sig, model):.0%} of your invitations are "
        "accepted and each ignored one costs points. Invite fewer people, each with a personal note."
    )


def _unanswered_messages_text(sig: Signals, model: Model) -> str:
    unanswered = max(0.0, sig[Signal.MESSAGES_INITIATED] - sig[Signal.REPLIES_RECEIVED])
    return (
        f"Send fewer, more personal messages: about {unanswered:.0f} of your recent messages got no reply, "
        "and unanswered outreach lowers this pillar."
    )


ACTIONS: dict[str, tuple[Action, ...]] = {
    "professional_brand": (
        Action(
            "complete_profile",
            _text(
                "Complete your profile (photo, headline, summary, experience, skills): "
                "it is the base of your brand."
            ),
            _complete_profile,
            lambda sig, model: sig.sections != (1 << 10) - 1,
        ),
        Action(
            "publish_article",
            _text(
                "Publish an article answering a question your clients ask: "
                "articles earn more reach than posts."
            ),
            _add((Signal.ARTICLES, 1), (Signal.COMMENTS_RECEIVED, 3), (Signal.REACTIONS_RECEIVED, 15)),
        ),
        Action(
            "post_and_answer",
            _text(
                "Share a short insight twice a week and answer every comment: "
                "engagement on your posts builds your brand."
            ),
            _add((Signal.POSTS, 2), (Signal.COMMENTS_RECEIVED, 4), (Signal.REACTIONS_RECEIVED, 20)),
        ),
        Action(
            "ask_recommendation",
            _text("Ask a client or colleague you have worked with closely for a recommendation."),
            _add_levels((Level.RECOMMENDATIONS, 1)),
        ),
    ),
    "find_right_people": (
        Action(
            "reach_decision_makers",
            _text(
                "Connect with decision makers (VP and above) at your target accounts whom you have already "
                "engaged with."
            ),
            _add((Signal.DECISION_MAKERS_CONNECTED, 2)),
        ),
        Action(
            "search_people",
            _text(
                "Run a few targeted people searches (filter by role, industry and region) and open the best "
                "results."
            ),
            _add((Signal.PEOPLE_SEARCHES, 10), (Signal.FRUITFUL_SEARCHES, 8)),
        ),
        Action(
            "view_prospects",
            _text("Look at the profiles of prospects you found through search before you reach out."),
            _add((Signal.VIEWS_FROM_SEARCH, 20)),
        ),
        Action(
            "be_active",
            _text("Do one useful thing on most days: steady activity counts more than bursts."),
            _add((Signal.ACTIVE_DAYS, 4)),
        ),
    ),
    "engage_with_insights": (
        Action(
            "stop_unanswered_messages",
            _unanswered_messages_text,
            _stop_unanswered_messages,
        ),
        Action(
            "comment",
            _text(
                "Leave thoughtful comments on posts from your network: "
                "a comment counts far more than a reaction."
            ),
            _add((Signal.COMMENTS_GIVEN, 10)),
        ),
        Action(
            "start_conversations",
            _text(
                "Start a few personal conversations with people who engaged with your posts: replies count, "
                "not volume."
            ),
            _add((Signal.MESSAGES_INITIATED, 5), (Signal.REPLIES_RECEIVED, 3)),
        ),
        Action(
            "reply",
            _text("Reply to the messages waiting in your inbox."),
            _add((Signal.REPLIES_SENT, 5)),
            lambda sig, model: sig[Signal.MESSAGES_RECEIVED] > sig[Signal.REPLIES_SENT] + 1,
        ),
        Action(
            "join_group",
            _text("Join an active group in your industry and take part in its discussions."),
            _add_levels((Level.GROUPS, 1)),
        ),
    ),
    "build_relationships": (
        Action(
            "stop_blind_invitations",
            _blind_invitations_text,
            _stop_blind_invitations,
        ),
        Action(
            "personalised_invitations",
            _text(
                "Send personalised invitations to people you have engaged with: they are accepted far more "
                "often than blind ones."
            ),
            _both(
                _add(
                    (Signal.INVITES_SENT, 5), (Signal.INVITES_PERSONALISED, 5), (Signal.INVITES_ACCEPTED, 3)
                ),
                _add_levels((Level.CONNECTIONS, 3)),
            ),
        ),
        Action(
            "invite_decision_makers",
            _text(
                "Invite decision makers (VP and above) you have met or exchanged with, with a personal note."
            ),
            _both(
                _add(
                    (Signal.INVITES_SENT, 2), (Signal.INVITES_PERSONALISED, 2), (Signal.INVITES_ACCEPTED, 1)
                ),
                _add_levels((Level.CONNECTIONS, 1), (Level.DECISION_MAKER_CONNECTIONS, 1)),
            ),
        ),
        Action(
            "accept_invitations",
            _text("Accept the relevant invitations waiting for you."),
            _both(_add((Signal.INVITES_ACCEPTED_BY_ME, 2)), _add_levels((Level.CONNECTIONS, 2))),
            lambda sig, model: sig[Signal.INVITES_RECEIVED] > sig[Signal.INVITES_ACCEPTED_BY_ME] + 1,
        ),
    ),
}
