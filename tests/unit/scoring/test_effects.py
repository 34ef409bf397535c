"""Effects: which members an event touches, how, and the effect wire form."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given

from ssi_stream.events.types import (
    CommentPosted,
    ConnectionRemoved,
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
from ssi_stream.scoring import Effect, EffectKind, decode_effect, effects_of, encode_effect
from ssi_stream.scoring.effects import FRUITFUL, INMAIL, PERSONALISED, REPLY, SECTIONS_GIVEN

from .conftest import effects

AT = datetime(2025, 3, 4, 10, 30, 15, tzinfo=UTC)
T = int(AT.timestamp())
K = EffectKind


def shape(event: object) -> list[tuple[str, str, EffectKind, int, Seniority | None]]:
    return [(e.member_id, e.effect_id, e.kind, e.flags, e.seniority) for e in effects_of(event)]


def test_comment_is_engagement_given_by_actor_and_received_by_author() -> None:
    event = CommentPosted(event_id="x1", member_id="A", occurred_at=AT, post_id="p", post_author_id="B")
    assert shape(event) == [
        ("A", "x1/a", K.ENGAGEMENT_GIVEN, 0, None),
        ("B", "x1/b", K.ENGAGEMENT_RECEIVED, 0, None),
    ]
    assert all(e.occurred_at == T for e in effects_of(event))


def test_reactions_and_shares_carry_their_engagement_kind() -> None:
    reaction = ReactionAdded(event_id="x", member_id="A", occurred_at=AT, post_id="p", post_author_id="B")
    share = PostShared(event_id="y", member_id="A", occurred_at=AT, post_id="p", post_author_id="B")
    assert [e.flags for e in effects_of(reaction)] == [1, 1]
    assert [e.flags for e in effects_of(share)] == [2, 2]


def test_engaging_with_your_own_post_does_not_count_as_engagement_received() -> None:
    event = CommentPosted(event_id="x", member_id="A", occurred_at=AT, post_id="p", post_author_id="A")
    assert shape(event) == [("A", "x/a", K.ENGAGEMENT_GIVEN, 0, None)]


def test_invite_sent_reaches_inviter_and_invitee() -> None:
    event = InviteSent(
        event_id="i",
        member_id="A",
        occurred_at=AT,
        target_member_id="B",
        personalized=True,
        target_seniority=Seniority.CXO,
    )
    assert shape(event) == [
        ("A", "i/a", K.INVITE_SENT, PERSONALISED, Seniority.CXO),
        ("B", "i/b", K.INVITE_RECEIVED, 0, None),
    ]


def test_invite_accepted_connects_both_sides_with_the_other_sides_seniority() -> None:
    event = InviteAccepted(
        event_id="c",
        member_id="B",
        occurred_at=AT,
        inviter_member_id="A",
        inviter_seniority=Seniority.VP,
        member_seniority=Seniority.ENTRY,
    )
    assert shape(event) == [
        ("B", "c/a", K.INVITE_ACCEPTED_BY_ME, 0, Seniority.VP),
        ("A", "c/b", K.MY_INVITE_ACCEPTED, 0, Seniority.ENTRY),
    ]


def test_connection_removed_costs_both_members_a_connection() -> None:
    event = ConnectionRemoved(
        event_id="r", member_id="A", occurred_at=AT, other_member_id="B", other_seniority=Seniority.OWNER
    )
    assert shape(event) == [
        ("A", "r/a", K.CONNECTION_REMOVED, 0, Seniority.OWNER),
        ("B", "r/b", K.CONNECTION_REMOVED, 0, None),
    ]


@pytest.mark.parametrize(
    ("is_reply", "channel", "flags"),
    [
        (False, MessageChannel.MESSAGE, 0),
        (True, MessageChannel.MESSAGE, REPLY),
        (False, MessageChannel.INMAIL, INMAIL),
    ],
)
def test_message_is_sent_by_one_and_received_by_the_other(
    is_reply: bool, channel: MessageChannel, flags: int
) -> None:
    event = MessageSent(
        event_id="m",
        member_id="A",
        occurred_at=AT,
        recipient_member_id="B",
        thread_id="t",
        is_reply=is_reply,
        channel=channel,
    )
    assert shape(event) == [
        ("A", "m/a", K.MESSAGE_SENT, flags, None),
        ("B", "m/b", K.MESSAGE_RECEIVED, flags, None),
    ]


def test_profile_view_is_made_by_viewer_and_received_by_viewed() -> None:
    event = ProfileViewed(
        event_id="v", member_id="A", occurred_at=AT, viewed_member_id="B", source=ViewSource.SEARCH
    )
    assert shape(event) == [
        ("A", "v/a", K.PROFILE_VIEW_MADE, 0, None),
        ("B", "v/b", K.PROFILE_VIEW_RECEIVED, 0, None),
    ]


def test_follow_only_changes_the_followed_member() -> None:
    event = MemberFollowed(event_id="f", member_id="A", occurred_at=AT, followed_member_id="B")
    assert shape(event) == [("B", "f/b", K.FOLLOWER_GAINED, 0, None)]
    assert (
        effects_of(MemberFollowed(event_id="g", member_id="A", occurred_at=AT, followed_member_id="A")) == ()
    )


def test_single_member_events() -> None:
    search = SearchPerformed(
        event_id="s", member_id="A", occurred_at=AT, search_kind=SearchKind.COMPANY, results_viewed=3
    )
    dud = SearchPerformed(
        event_id="d", member_id="A", occurred_at=AT, search_kind=SearchKind.PEOPLE, results_viewed=0
    )
    post = PostPublished(event_id="p", member_id="A", occurred_at=AT, post_id="p1", format=PostFormat.ARTICLE)
    rec = RecommendationReceived(event_id="r", member_id="A", occurred_at=AT, recommender_member_id="B")
    group = GroupJoined(event_id="g", member_id="A", occurred_at=AT, group_id="g1")
    assert shape(search) == [("A", "s/a", K.SEARCH_PERFORMED, 1 | FRUITFUL, None)]
    assert shape(dud) == [("A", "d/a", K.SEARCH_PERFORMED, 0, None)]
    assert shape(post) == [("A", "p/a", K.POST_PUBLISHED, 1, None)]
    assert shape(rec) == [("A", "r/a", K.RECOMMENDATION_RECEIVED, 0, None)]
    assert shape(group) == [("A", "g/a", K.GROUP_JOINED, 0, None)]


def test_an_outcome_is_its_owners_alone_with_its_type_as_flags() -> None:
    from ssi_stream.events.types import OUTCOME_TYPES, CallLogged, DealWon, MeetingBooked

    meeting = MeetingBooked(event_id="c1", member_id="A", occurred_at=AT, contact_member_id="B")
    won = DealWon(
        event_id="c2", member_id="A", occurred_at=AT, opportunity_id="o", amount=5.0, currency="EUR"
    )
    call = CallLogged(
        event_id="c3", member_id="A", occurred_at=AT, contact_member_id="B", duration_seconds=60
    )
    assert shape(meeting) == [("A", "c1/a", K.OUTCOME, OUTCOME_TYPES.index("meeting_booked"), None)]
    assert shape(won) == [("A", "c2/a", K.OUTCOME, OUTCOME_TYPES.index("deal_won"), None)]
    assert shape(call) == [("A", "c3/a", K.OUTCOME, OUTCOME_TYPES.index("call_logged"), None)]


def test_profile_update_carries_only_the_fields_it_touches() -> None:
    sections = frozenset({ProfileSection.PHOTO, ProfileSection.SUMMARY})
    full = ProfileUpdated(
        event_id="u",
        member_id="A",
        occurred_at=AT,
        industry="Banking",
        seniority=Seniority.VP,
        completed_sections=sections,
    )
    (effect,) = effects_of(full)
    assert (effect.kind, effect.flags, effect.seniority, effect.text) == (
        K.PROFILE_CHANGED,
        SECTIONS_GIVEN | 0b1001,
        Seniority.VP,
        "Banking",
    )
    (bare,) = effects_of(ProfileUpdated(event_id="w", member_id="A", occurred_at=AT, industry="Retail"))
    assert (bare.flags, bare.seniority, bare.text) == (0, None, "Retail")
    (cleared,) = effects_of(
        ProfileUpdated(event_id="z", member_id="A", occurred_at=AT, completed_sections=frozenset())
    )
    assert cleared.flags == SECTIONS_GIVEN


def test_effect_wire_form_is_compact_json_with_short_keys() -> None:
    effect = Effect("B", "c/b", K.MY_INVITE_ACCEPTED, T, 0, Seniority.VP)
    assert orjson.loads(encode_effect(effect)) == {"m": "B", "e": "c/b", "k": 5, "t": T, "s": "vp"}
    assert encode_effect(Effect("A", "u/a", K.PROFILE_CHANGED, T, 3, None, "Banking")) == (
        b'{"m":"A","e":"u/a","k":1,"t":%d,"f":3,"x":"Banking"}' % T
    )


@given(effects())
def test_effect_round_trips_through_the_wire(effect: Effect) -> None:
    assert decode_effect(encode_effect(effect)) == effect


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"m":"A","e":"x","k":99,"t":1}', "'k' is not a known effect kind"),
        (b'{"m":"A","e":"x","k":1}', "'t' must be int"),
        (b'{"m":"A","e":"x","k":1,"t":1,"s":"king"}', "'s' is not a known seniority"),
        (b'{"m":"A","e":"x","k":1,"t":1,"f":-1}', "'f' must be an integer"),
        (b'{"m":"A","e":"x","k":1,"t":1,"q":0}', "unknown keys ['q']"),
    ],
)
def test_malformed_effects_are_rejected_with_the_faulty_key(raw: bytes, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        decode_effect(raw)
