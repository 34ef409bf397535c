"""The numbers each text needs, computed from a member's signals with the scoring core's own functions.

`parameters` gives, per signal code (each `Contribution.signal`), the numbers its template names; the
pillars' English texts are written from the same values. `next_step_parameters` does the same per
next-step code (each `Action.name`, and `keep_going`). `PLACEHOLDERS` and `NEXT_STEP_PLACEHOLDERS` say
what kind of number each one is, which decides how every locale writes it.
"""

from __future__ import annotations

from ssi_stream.catalog._numbers import Kind
from ssi_stream.scoring.effects import PROFILE_SECTIONS
from ssi_stream.scoring.explain import ACTIONS, unanswered_outreach
from ssi_stream.scoring.model import Model
from ssi_stream.scoring.pillars import (
    INMAIL_NOTE_FROM,
    LEVEL,
    SIGNAL,
    TARGETING_NOTE_BELOW,
    Signals,
    completed_sections,
    content_volume,
    engagement_per_post,
    engagement_received,
    invitation_acceptance,
    people_searches,
    reply_rate,
    responsiveness,
    search_success,
    targeting,
)
from ssi_stream.scoring.state import MemberState

#: The next step of a pillar within `explain.MEANINGFUL_GAIN` of its best (`explain.KEEP_GOING`'s code).
KEEP_GOING = "keep_going"
_ALL_SECTIONS = (1 << len(PROFILE_SECTIONS)) - 1

COUNT, WHOLE, DECIMAL, PERCENT, NUMBER, SECTIONS, FLAG = (
    Kind.COUNT,
    Kind.WHOLE,
    Kind.DECIMAL,
    Kind.PERCENT,
    Kind.NUMBER,
    Kind.SECTIONS,
    Kind.FLAG,
)
_TARGETING = {"low_targeting": FLAG, "targeting": PERCENT}

#: Per signal code, its placeholders and their kinds.
PLACEHOLDERS: dict[str, dict[str, Kind]] = {
    # professional brand
    "profile_completeness": {
        "sections": WHOLE,
        "total": WHOLE,
        "missing": WHOLE,
        "missing_sections": SECTIONS,
    },
    "recommendations": {"recommendations": WHOLE},
    "content": {"posts": COUNT, "articles": COUNT, "reshares": COUNT, "per_post": DECIMAL, "target": NUMBER},
    "engagement_received": {"comments": COUNT, "reactions": COUNT, "shares": COUNT},
    "followers": {"followers": WHOLE},
    # find the right people
    "people_searches": {"searches": COUNT, "success": PERCENT, **_TARGETING},
    "prospecting_views": {"from_search": COUNT, "other": COUNT, **_TARGETING},
    "days_active": {"active": COUNT},
    "decision_makers_reached": {"reached": COUNT},
    # engage with insights
    "engagement_given": {"comments": COUNT, "shares": COUNT, "reactions": COUNT},
    "conversations": {
        "replies": COUNT,
        "initiated": COUNT,
        "any_inmails": FLAG,
        "inmail_replies": COUNT,
        "inmails": COUNT,
    },
    "responsiveness": {"replies_sent": COUNT, "answered": PERCENT},
    "groups": {"groups": WHOLE},
    "unanswered_messages": {"reply_rate": PERCENT, "initiated": COUNT, "threshold": PERCENT},
    # build relationships
    "connections": {"connections": WHOLE},
    "decision_maker_connections": {"decision_makers": WHOLE},
    "accepted_invitations": {"accepted": COUNT, "sent": COUNT},
    "acceptance_rate": {"acceptance": PERCENT, "personalised": COUNT, "sent": COUNT},
    "invitations_accepted_by_you": {"accepted": COUNT, "received": COUNT},
    "blind_invitations": {"accepted": COUNT, "sent": COUNT, "threshold": PERCENT},
}

#: Per next-step code, its placeholders and their kinds (most sentences have none).
NEXT_STEP_PLACEHOLDERS: dict[str, dict[str, Kind]] = {
    **{action.name: {} for actions in ACTIONS.values() for action in actions},
    "stop_unanswered_messages": {"unanswered": WHOLE},
    "stop_blind_invitations": {"acceptance": PERCENT},
    KEEP_GOING: {},
}


def _signals(member: MemberState | Signals) -> Signals:
    return member if isinstance(member, Signals) else Signals.of(member)


def parameters(member: MemberState | Signals, model: Model) -> dict[str, dict[str, float]]:
    """Per signal code, the numbers its text needs, as the pillars' texts compute them."""
    sig = _signals(member)
    d, levels = sig.decayed, sig.levels
    brand = model.pillars.professional_brand.quality
    sections = completed_sections(sig)
    volume, received = content_volume(sig, model), engagement_received(sig, model)
    share = targeting(sig, model)
    notes_targeting = {"low_targeting": int(share < TARGETING_NOTE_BELOW), "targeting": share}
    initiated = d[SIGNAL.MESSAGES_INITIATED]
    sent, accepted = d[SIGNAL.INVITES_SENT], d[SIGNAL.INVITES_ACCEPTED]
    acceptance_threshold = model.pillars.build_relationships.quality.acceptance_threshold
    return {
        "profile_completeness": {
            "sections": sections,
            "total": len(PROFILE_SECTIONS),
            "missing": len(PROFILE_SECTIONS) - sections,
            "missing_sections": ~sig.sections & _ALL_SECTIONS,
        },
        "recommendations": {"recommendations": levels[LEVEL.RECOMMENDATIONS]},
        "content": {
            "posts": d[SIGNAL.POSTS],
            "articles": d[SIGNAL.ARTICLES],
            "reshares": d[SIGNAL.RESHARES],
            "per_post": engagement_per_post(received, volume, model),
            "target": brand.engagement_per_post_target,
        },
        "engagement_received": {
            "comments": d[SIGNAL.COMMENTS_RECEIVED],
            "reactions": d[SIGNAL.REACTIONS_RECEIVED],
            "shares": d[SIGNAL.SHARES_RECEIVED],
        },
        "followers": {"followers": levels[LEVEL.FOLLOWERS]},
        "people_searches": {
            "searches": people_searches(sig),
            "success": min(search_success(sig, model), 1.0),
            **notes_targeting,
        },
        "prospecting_views": {
            "from_search": d[SIGNAL.VIEWS_FROM_SEARCH],
            "other": d[SIGNAL.VIEWS_OTHER],
            **notes_targeting,
        },
        "days_active": {"active": d[SIGNAL.ACTIVE_DAYS]},
        "decision_makers_reached": {"reached": d[SIGNAL.DECISION_MAKERS_CONNECTED]},
        "engagement_given": {
            "comments": d[SIGNAL.COMMENTS_GIVEN],
            "shares": d[SIGNAL.SHARES_GIVEN],
            "reactions": d[SIGNAL.REACTIONS_GIVEN],
        },
        "conversations": {
            "replies": d[SIGNAL.REPLIES_RECEIVED],
            "initiated": initiated,
            "any_inmails": int(d[SIGNAL.INMAILS_SENT] >= INMAIL_NOTE_FROM),
            "inmail_replies": d[SIGNAL.INMAIL_REPLIES_RECEIVED],
            "inmails": d[SIGNAL.INMAILS_SENT],
        },
        "responsiveness": {"replies_sent": d[SIGNAL.REPLIES_SENT], "answered": responsiveness(sig, model)},
        "groups": {"groups": levels[LEVEL.GROUPS]},
        "unanswered_messages": {
            "reply_rate": reply_rate(sig, model),
            "initiated": initiated,
            "threshold": model.pillars.engage_with_insights.quality.reply_rate_threshold,
        },
        "connections": {"connections": levels[LEVEL.CONNECTIONS]},
        "decision_maker_connections": {"decision_makers": levels[LEVEL.DECISION_MAKER_CONNECTIONS]},
        "accepted_invitations": {"accepted": accepted, "sent": sent},
        "acceptance_rate": {
            "acceptance": invitation_acceptance(sig, model),
            "personalised": d[SIGNAL.INVITES_PERSONALISED],
            "sent": sent,
        },
        "invitations_accepted_by_you": {
            "accepted": d[SIGNAL.INVITES_ACCEPTED_BY_ME],
            "received": d[SIGNAL.INVITES_RECEIVED],
        },
        "blind_invitations": {"accepted": accepted, "sent": sent, "threshold": acceptance_threshold},
    }


def next_step_parameters(member: MemberState | Signals, model: Model) -> dict[str, dict[str, float]]:
    """Per next-step code, the numbers its sentence needs, as `explain`'s sentences compute them."""
    sig = _signals(member)
    numbers: dict[str, dict[str, float]] = {code: {} for code in NEXT_STEP_PLACEHOLDERS}
    numbers["stop_unanswered_messages"] = {"unanswered": unanswered_outreach(sig)}
    numbers["stop_blind_invitations"] = {"acceptance": invitation_acceptance(sig, model)}
    return numbers
