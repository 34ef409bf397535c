"""Why a pillar scores what it does, and the one action that would raise it most.

`next_step` scores a few concrete what-if actions per pillar (a copy of the signals with the action's
typical outcome added) and recommends the one with the biggest gain. An action changes one or two
signals, so only the components that read them are scored again; the others keep their points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ssi_stream.scoring.model import PILLAR_MAX, Model
from ssi_stream.scoring.pillars import (
    COMPONENTS,
    Component,
    Contribution,
    Inputs,
    Signals,
    inputs,
    invitation_acceptance,
)
from ssi_stream.scoring.state import Level, Signal

#: How many contributions a pillar explanation lists.
TOP_SIGNALS = 3
#: Below this gain (points) no action is worth recommending.
MEANINGFUL_GAIN = 0.05
KEEP_GOING = "You are close to the top of this pillar: keep your current habits."


@dataclass(frozen=True, slots=True)
class Change:
    """What doing an action once does to the signals, and which inputs it touches."""

    apply: Callable[[Signals, Model], None]
    touches: Inputs


@dataclass(frozen=True, slots=True)
class Action:
    """A what-if: a concrete sentence and the signals after doing it once."""

    name: str
    sentence: Callable[[Signals, Model], str]
    change: Change
    applies: Callable[[Signals, Model], bool] = lambda sig, model: True


@dataclass(frozen=True, slots=True)
class WhatIf:
    """An action of a pillar and the components its change can move; the others keep their points."""

    action: Action
    #: (position in the pillar, points function) of each component that reads what the action changes.
    rescored: tuple[tuple[int, Callable[[Signals, Model], float]], ...]

    @classmethod
    def of(cls, action: Action, components: tuple[Component, ...]) -> WhatIf:
        touches = action.change.touches
        return cls(
            action,
            tuple((i, c.points) for i, c in enumerate(components) if c.reads.overlaps(touches)),
        )

    def points(self, sig: Signals, model: Model, points: Sequence[float]) -> list[float]:
        """The pillar's component points after the action, given their `points` before it."""
        what_if = sig.copy()
        self.action.change.apply(what_if, model)
        after = list(points)
        for position, points_of in self.rescored:
            after[position] = points_of(what_if, model)
        return after


def top_signals(contributions: tuple[Contribution, ...]) -> tuple[Contribution, ...]:
    """The contributions that move the pillar most (penalties included), biggest first."""
    ranked = sorted(contributions, key=_effect_size)  # stable: ties keep the declared order
    return tuple(ranked[:TOP_SIGNALS])


def _effect_size(contribution: Contribution) -> float:
    return -abs(contribution.points)


def best_action(
    pillar: str, sig: Signals, model: Model, contributions: tuple[Contribution, ...] | None = None
) -> tuple[Action | None, float]:
    """The action with the biggest marginal gain in `pillar` (ties: declared order) and that gain, or
    (None, 0.0) when none gains MEANINGFUL_GAIN: keep going.

    `contributions` are the pillar's, as its rule scored them on `sig` (scored here when not given).
    Gains are measured before the pillar is clamped at 0, so a member deep in penalties still learns
    which change helps most.
    """
    if contributions is None:
        points = [component.points(sig, model) for component in COMPONENTS[pillar]]
    else:
        points = [contribution.points for contribution in contributions]
    base = _uncapped_below(points)
    best_gain, best = MEANINGFUL_GAIN, None
    for what_if in WHAT_IFS[pillar]:
        action = what_if.action
        if not action.applies(sig, model):
            continue
        gain = _uncapped_below(what_if.points(sig, model, points)) - base
        if gain > best_gain:
            best_gain, best = gain, action
    return (None, 0.0) if best is None else (best, best_gain)


def next_step(
    pillar: str, sig: Signals, model: Model, contributions: tuple[Contribution, ...] | None = None
) -> str:
    """The sentence of `best_action` (KEEP_GOING when there is none)."""
    best, _ = best_action(pillar, sig, model, contributions)
    return KEEP_GOING if best is None else best.sentence(sig, model)


def _uncapped_below(points: Sequence[float]) -> float:
    return min(PILLAR_MAX, sum(points))


def _add(*changes: tuple[Signal, float], levels: tuple[tuple[Level, int], ...] = ()) -> Change:
    """Add `changes` to decayed signals and `levels` to levels."""

    def apply(sig: Signals, model: Model) -> None:
        for signal, amount in changes:
            sig.decayed[signal] += amount
        for level, amount in levels:
            sig.levels[level] += amount

    return Change(
        apply, inputs(*(signal for signal, _ in changes), levels=tuple(level for level, _ in levels))
    )


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


COMPLETE_PROFILE = Change(_complete_profile, inputs(sections=True))
STOP_UNANSWERED_MESSAGES = Change(_stop_unanswered_messages, inputs(Signal.MESSAGES_INITIATED))
STOP_BLIND_INVITATIONS = Change(_stop_blind_invitations, inputs(Signal.INVITES_SENT))


def _text(sentence: str) -> Callable[[Signals, Model], str]:
    return lambda sig, model: sentence


def _blind_invitations_text(sig: Signals, model: Model) -> str:
    return (
        f"Stop inviting strangers: only {invitation_acceptance(sig, model):.0%} of your invitations are "
        "accepted and each ignored one costs points. Invite fewer people, each with a personal note."
    )


def unanswered_outreach(sig: Signals) -> float:
    """Recent conversations the member started, less the replies they got: what the next step cites."""
    return max(0.0, sig[Signal.MESSAGES_INITIATED] - sig[Signal.REPLIES_RECEIVED])


def _unanswered_messages_text(sig: Signals, model: Model) -> str:
    return (
        f"Send fewer, more personal messages: about {unanswered_outreach(sig):.0f} of your recent messages "
        "got no reply, and unanswered outreach lowers this pillar."
    )


ACTIONS: dict[str, tuple[Action, ...]] = {
    "professional_brand": (
        Action(
            "complete_profile",
            _text(
                "Complete your profile (photo, headline, summary, experience, skills): "
                "it is the base of your brand."
            ),
            COMPLETE_PROFILE,
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
            _add(levels=((Level.RECOMMENDATIONS, 1),)),
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
            STOP_UNANSWERED_MESSAGES,
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
            _add(levels=((Level.GROUPS, 1),)),
        ),
    ),
    "build_relationships": (
        Action(
            "stop_blind_invitations",
            _blind_invitations_text,
            STOP_BLIND_INVITATIONS,
        ),
        Action(
            "personalised_invitations",
            _text(
                "Send personalised invitations to people you have engaged with: they are accepted far more "
                "often than blind ones."
            ),
            _add(
                (Signal.INVITES_SENT, 5),
                (Signal.INVITES_PERSONALISED, 5),
                (Signal.INVITES_ACCEPTED, 3),
                levels=((Level.CONNECTIONS, 3),),
            ),
        ),
        Action(
            "invite_decision_makers",
            _text(
                "Invite decision makers (VP and above) you have met or exchanged with, with a personal note."
            ),
            _add(
                (Signal.INVITES_SENT, 2),
                (Signal.INVITES_PERSONALISED, 2),
                (Signal.INVITES_ACCEPTED, 1),
                levels=((Level.CONNECTIONS, 1), (Level.DECISION_MAKER_CONNECTIONS, 1)),
            ),
        ),
        Action(
            "accept_invitations",
            _text("Accept the relevant invitations waiting for you."),
            _add((Signal.INVITES_ACCEPTED_BY_ME, 2), levels=((Level.CONNECTIONS, 2),)),
            lambda sig, model: sig[Signal.INVITES_RECEIVED] > sig[Signal.INVITES_ACCEPTED_BY_ME] + 1,
        ),
    ),
}

#: Each pillar's actions, with the components each can move: the rest keep their points in the what-if.
WHAT_IFS: dict[str, tuple[WhatIf, ...]] = {
    pillar: tuple(WhatIf.of(action, COMPONENTS[pillar]) for action in actions)
    for pillar, actions in ACTIONS.items()
}
