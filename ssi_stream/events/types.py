"""Typed activity events: the in-memory form of the event contract in `schemas/events/`.

Every event shares the envelope (`event_id`, `member_id`, `occurred_at`, `schema_version`);
each type adds its own fields. Activity events are what members do on the network; outcome events
(`Outcome`: meetings, opportunities, deals, calls) are what a CRM says came of it. Instances are
immutable and hold validated values only: `occurred_at` is always a timezone-aware UTC datetime.
Build them with the decoder in `ssi_stream.events.decode`, never from unchecked input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar


class Seniority(StrEnum):
    """Seniority levels a profile can declare."""

    ENTRY = "entry"
    SENIOR = "senior"
    MANAGER = "manager"
    DIRECTOR = "director"
    VP = "vp"
    CXO = "cxo"
    OWNER = "owner"
    PARTNER = "partner"
    UNPAID = "unpaid"
    TRAINING = "training"


#: Seniorities that count as "VP level and above" (decision makers).
DECISION_MAKERS: frozenset[Seniority] = frozenset(
    {Seniority.VP, Seniority.CXO, Seniority.OWNER, Seniority.PARTNER}
)


class ProfileSection(StrEnum):
    """Profile sections whose completion builds the professional brand."""

    PHOTO = "photo"
    BACKGROUND_PHOTO = "background_photo"
    HEADLINE = "headline"
    SUMMARY = "summary"
    EXPERIENCE = "experience"
    EDUCATION = "education"
    SKILLS = "skills"
    FEATURED = "featured"
    CERTIFICATIONS = "certifications"
    VOLUNTEERING = "volunteering"


class PostFormat(StrEnum):
    POST = "post"
    ARTICLE = "article"
    VIDEO = "video"
    DOCUMENT = "document"
    POLL = "poll"
    RESHARE = "reshare"


class MessageChannel(StrEnum):
    MESSAGE = "message"
    INMAIL = "inmail"


class SearchKind(StrEnum):
    PEOPLE = "people"
    COMPANY = "company"
    CONTENT = "content"
    JOBS = "jobs"


class ViewSource(StrEnum):
    SEARCH = "search"
    FEED = "feed"
    NETWORK = "network"
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """The envelope every event carries."""

    type: ClassVar[str] = ""

    event_id: str
    member_id: str
    occurred_at: datetime
    schema_version: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileUpdated(Event):
    type: ClassVar[str] = "profile_updated"

    industry: str | None = None
    seniority: Seniority | None = None
    #: None when the update did not touch the sections; otherwise the full set now completed.
    completed_sections: frozenset[ProfileSection] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteSent(Event):
    type: ClassVar[str] = "invite_sent"

    target_member_id: str
    personalized: bool
    target_seniority: Seniority | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteAccepted(Event):
    """`member_id` accepted an invitation from `inviter_member_id`; both become connections."""

    type: ClassVar[str] = "invite_accepted"

    inviter_member_id: str
    #: Optional additions: seniorities of both sides, so each side can count decision makers.
    inviter_seniority: Seniority | None = None
    member_seniority: Seniority | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionRemoved(Event):
    type: ClassVar[str] = "connection_removed"

    other_member_id: str
    #: Optional additions, as on `invite_accepted`.
    other_seniority: Seniority | None = None
    member_seniority: Seniority | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PostPublished(Event):
    type: ClassVar[str] = "post_published"

    post_id: str
    format: PostFormat


@dataclass(frozen=True, slots=True, kw_only=True)
class PostInteraction(Event):
    """Common shape of comment_posted, reaction_added and post_shared."""

    post_id: str
    post_author_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentPosted(PostInteraction):
    type: ClassVar[str] = "comment_posted"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(PostInteraction):
    type: ClassVar[str] = "reaction_added"


@dataclass(frozen=True, slots=True, kw_only=True)
class PostShared(PostInteraction):
    type: ClassVar[str] = "post_shared"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageSent(Event):
    type: ClassVar[str] = "message_sent"

    recipient_member_id: str
    thread_id: str
    is_reply: bool
    channel: MessageChannel


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPerformed(Event):
    type: ClassVar[str] = "search_performed"

    search_kind: SearchKind
    results_viewed: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileViewed(Event):
    """`member_id` viewed the profile of `viewed_member_id`."""

    type: ClassVar[str] = "profile_viewed"

    viewed_member_id: str
    source: ViewSource


@dataclass(frozen=True, slots=True, kw_only=True)
class RecommendationReceived(Event):
    type: ClassVar[str] = "recommendation_received"

    recommender_member_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupJoined(Event):
    type: ClassVar[str] = "group_joined"

    group_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberFollowed(Event):
    """`member_id` started following `followed_member_id`."""

    type: ClassVar[str] = "member_followed"

    followed_member_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome(Event):
    """Common shape of the outcome events a CRM connector sends: what the member (the owner of the
    meeting, opportunity, deal or call in the CRM) achieved. They never change the four pillars."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeetingBooked(Outcome):
    """`member_id` booked a meeting (with `contact_member_id`, when the CRM knows them as a member)."""

    type: ClassVar[str] = "meeting_booked"

    opportunity_id: str | None = None
    contact_member_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DealOutcome(Outcome):
    """Common shape of opportunity_created, deal_won and deal_lost: an opportunity and its value."""

    opportunity_id: str
    #: The opportunity's value in `currency` (given together), as the CRM states it at that moment.
    amount: float | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpportunityCreated(DealOutcome):
    type: ClassVar[str] = "opportunity_created"


@dataclass(frozen=True, slots=True, kw_only=True)
class DealWon(DealOutcome):
    type: ClassVar[str] = "deal_won"


@dataclass(frozen=True, slots=True, kw_only=True)
class DealLost(DealOutcome):
    type: ClassVar[str] = "deal_lost"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallLogged(Outcome):
    """`member_id` logged a call (with `contact_member_id`, when known), lasting `duration_seconds`."""

    type: ClassVar[str] = "call_logged"

    opportunity_id: str | None = None
    contact_member_id: str | None = None
    duration_seconds: int | None = None


ANY_EVENT = (
    ProfileUpdated
    | InviteSent
    | InviteAccepted
    | ConnectionRemoved
    | PostPublished
    | CommentPosted
    | ReactionAdded
    | PostShared
    | MessageSent
    | SearchPerformed
    | ProfileViewed
    | RecommendationReceived
    | GroupJoined
    | MemberFollowed
    | MeetingBooked
    | OpportunityCreated
    | DealWon
    | DealLost
    | CallLogged
)

#: Every event class by its wire `type`.
EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        ProfileUpdated,
        InviteSent,
        InviteAccepted,
        ConnectionRemoved,
        PostPublished,
        CommentPosted,
        ReactionAdded,
        PostShared,
        MessageSent,
        SearchPerformed,
        ProfileViewed,
        RecommendationReceived,
        GroupJoined,
        MemberFollowed,
        MeetingBooked,
        OpportunityCreated,
        DealWon,
        DealLost,
        CallLogged,
    )
}

#: The outcome types, in wire order: what a member's ledger counts (`ledger.outcomes`), never scored.
OUTCOME_TYPES: tuple[str, ...] = tuple(name for name, cls in EVENT_TYPES.items() if issubclass(cls, Outcome))
