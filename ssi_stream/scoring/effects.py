"""What an event means for each member it touches.

An event is about its actor, but its consequences often land on a second member too: a comment is
engagement given by its author and engagement received by the post's author. `effects_of` splits an
event into one `Effect` per member whose state changes; the engine re-keys each effect to that member.

Wire form (`encode_effect` / `decode_effect`): a compact JSON object ::

    {"m": member_id, "e": effect_id, "k": kind, "t": occurred_at, "f": flags, "s": seniority, "x": text}

`m`, `e` (strings), `k` (integer `EffectKind`) and `t` (integer epoch seconds) are always present;
`f` (integer ≥ 0, omitted when 0), `s` (a `Seniority` value, omitted when unknown) and `x` (string,
omitted when None: the industry of a PROFILE_CHANGED effect, the other member's id of a connection
effect) are optional. docs/scoring.md ("Effect wire format") describes every flag bit.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

import msgspec
import orjson

from ssi_stream.events.types import (
    OUTCOME_TYPES,
    CommentPosted,
    ConnectionRemoved,
    Event,
    GroupJoined,
    InviteAccepted,
    InviteSent,
    MemberFollowed,
    MessageChannel,
    MessageSent,
    Outcome,
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


class EffectKind(IntEnum):
    """How an effect changes its member's state (stable numbers: they travel on the wire)."""

    PROFILE_CHANGED = 1
    INVITE_SENT = 2
    INVITE_RECEIVED = 3
    #: I accepted someone's invitation: a new connection (seniority = the inviter's).
    INVITE_ACCEPTED_BY_ME = 4
    #: Someone accepted my invitation: a new connection (seniority = the accepter's).
    MY_INVITE_ACCEPTED = 5
    CONNECTION_REMOVED = 6
    POST_PUBLISHED = 7
    ENGAGEMENT_GIVEN = 8
    ENGAGEMENT_RECEIVED = 9
    MESSAGE_SENT = 10
    MESSAGE_RECEIVED = 11
    SEARCH_PERFORMED = 12
    PROFILE_VIEW_MADE = 13
    PROFILE_VIEW_RECEIVED = 14
    FOLLOWER_GAINED = 15
    RECOMMENDATION_RECEIVED = 16
    GROUP_JOINED = 17
    #: A CRM outcome the member owns (flags: its index in `OUTCOME_TYPES`); counted, never scored.
    OUTCOME = 18


# Flag bits, by kind.
#: INVITE_SENT: the invitation carried a personal note.
PERSONALISED = 1
#: MESSAGE_SENT / MESSAGE_RECEIVED: the message replies in an existing thread.
REPLY = 1
#: MESSAGE_SENT / MESSAGE_RECEIVED: sent as an InMail.
INMAIL = 2
#: SEARCH_PERFORMED: at least one result was opened (bits 0-1 hold the `SEARCH_KINDS` index).
FRUITFUL = 4
#: PROFILE_CHANGED: bits 0-9 are the completed sections (bit i = `PROFILE_SECTIONS[i]`), valid when set.
SECTIONS_GIVEN = 1 << 10
#: OUTCOME: the flags are the outcome's index in `OUTCOME_TYPES` (0 meeting_booked ... 4 call_logged).
_OUTCOME_INDEX = {name: index for index, name in enumerate(OUTCOME_TYPES)}

#: Index tables for enum values packed into `flags`.
ENGAGEMENT_KINDS: tuple[str, ...] = ("comment", "reaction", "share")
POST_FORMATS: tuple[PostFormat, ...] = tuple(PostFormat)
SEARCH_KINDS: tuple[SearchKind, ...] = tuple(SearchKind)
VIEW_SOURCES: tuple[ViewSource, ...] = tuple(ViewSource)
PROFILE_SECTIONS: tuple[ProfileSection, ...] = tuple(ProfileSection)

_POST_FORMAT_INDEX = {value: index for index, value in enumerate(POST_FORMATS)}
_SEARCH_KIND_INDEX = {value: index for index, value in enumerate(SEARCH_KINDS)}
_VIEW_SOURCE_INDEX = {value: index for index, value in enumerate(VIEW_SOURCES)}
_SECTION_BIT = {value: 1 << index for index, value in enumerate(PROFILE_SECTIONS)}
_ENGAGEMENT_INDEX = {CommentPosted: 0, ReactionAdded: 1, PostShared: 2}


#: The latest `occurred_at` an effect can hold (u32 epoch seconds, as ledgers store event times; events
#: are from 2000 on and never far in the future).
MAX_OCCURRED_AT = 2**32 - 1
#: The largest `flags` an effect can hold (a u32; the flags in use fit in 11 bits).
MAX_FLAGS = 2**32 - 1


class Effect(msgspec.Struct, frozen=True, gc=False, array_like=True, forbid_unknown_fields=True):
    """One event's consequence for one member; `effect_id` is unique per (event, role).

    A msgspec Struct: built several times per event on the hot path, where a frozen dataclass's
    constructor cost ~0.9 µs and this one ~0.1 µs; in frames it travels as a positional array
    (`stream.wire`). Immutable, compared and hashed by value."""

    member_id: str
    effect_id: str
    kind: EffectKind
    occurred_at: Annotated[int, msgspec.Meta(ge=0, le=MAX_OCCURRED_AT)]
    flags: Annotated[int, msgspec.Meta(ge=0, le=MAX_FLAGS)] = 0
    seniority: Seniority | None = None
    text: str | None = None


def effects_of(event: Event) -> tuple[Effect, ...]:
    """Split `event` into its effects: role "a" is the actor, role "b" the other member (if distinct)."""
    actor = event.member_id
    at = int(event.occurred_at.timestamp())
    own = f"{event.event_id}/a"
    theirs = f"{event.event_id}/b"
    match event:
        case CommentPosted() | ReactionAdded() | PostShared():
            flags = _ENGAGEMENT_INDEX[type(event)]
            given = Effect(actor, own, EffectKind.ENGAGEMENT_GIVEN, at, flags)
            if event.post_author_id == actor:
                return (given,)
            return given, Effect(event.post_author_id, theirs, EffectKind.ENGAGEMENT_RECEIVED, at, flags)
        case MessageSent():
            flags = (REPLY if event.is_reply else 0) | (
                INMAIL if event.channel is MessageChannel.INMAIL else 0
            )
            sent = Effect(actor, own, EffectKind.MESSAGE_SENT, at, flags)
            return _pair(sent, event.recipient_member_id, theirs, EffectKind.MESSAGE_RECEIVED, flags)
        case ProfileViewed():
            flags = _VIEW_SOURCE_INDEX[event.source]
            made = Effect(actor, own, EffectKind.PROFILE_VIEW_MADE, at, flags)
            return _pair(made, event.viewed_member_id, theirs, EffectKind.PROFILE_VIEW_RECEIVED, flags)
        case InviteSent():
            flags = PERSONALISED if event.personalized else 0
            sent = Effect(actor, own, EffectKind.INVITE_SENT, at, flags, event.target_seniority)
            return _pair(sent, event.target_member_id, theirs, EffectKind.INVITE_RECEIVED, 0)
        case InviteAccepted():
            inviter = event.inviter_member_id
            accepted = Effect(
                actor, own, EffectKind.INVITE_ACCEPTED_BY_ME, at, 0, event.inviter_seniority, inviter
            )
            return _pair(
                accepted, inviter, theirs, EffectKind.MY_INVITE_ACCEPTED, 0, event.member_seniority, actor
            )
        case ConnectionRemoved():
            other = event.other_member_id
            removed = Effect(actor, own, EffectKind.CONNECTION_REMOVED, at, 0, event.other_seniority, other)
            return _pair(
                removed, other, theirs, EffectKind.CONNECTION_REMOVED, 0, event.member_seniority, actor
            )
        case SearchPerformed():
            flags = _SEARCH_KIND_INDEX[event.search_kind]
            if event.results_viewed:
                flags |= FRUITFUL
            return (Effect(actor, own, EffectKind.SEARCH_PERFORMED, at, flags),)
        case PostPublished():
            return (Effect(actor, own, EffectKind.POST_PUBLISHED, at, _POST_FORMAT_INDEX[event.format]),)
        case ProfileUpdated():
            flags = 0
            if event.completed_sections is not None:
                flags = SECTIONS_GIVEN
                for section in event.completed_sections:
                    flags |= _SECTION_BIT[section]
            return (
                Effect(actor, own, EffectKind.PROFILE_CHANGED, at, flags, event.seniority, event.industry),
            )
        case MemberFollowed():
            if event.followed_member_id == actor:
                return ()
            return (Effect(event.followed_member_id, theirs, EffectKind.FOLLOWER_GAINED, at),)
        case RecommendationReceived():
            return (Effect(actor, own, EffectKind.RECOMMENDATION_RECEIVED, at),)
        case GroupJoined():
            return (Effect(actor, own, EffectKind.GROUP_JOINED, at),)
        case Outcome():  # the owner's alone: a contact named in it is not affected
            return (Effect(actor, own, EffectKind.OUTCOME, at, _OUTCOME_INDEX[event.type]),)
    raise TypeError(f"effects_of: no effects defined for event type {type(event).__name__!r}")


def _pair(
    own: Effect,
    other_id: str,
    effect_id: str,
    kind: EffectKind,
    flags: int,
    seniority: Seniority | None = None,
    text: str | None = None,
) -> tuple[Effect, ...]:
    """The actor's effect plus the other member's, unless the event points back at the actor."""
    if other_id == own.member_id:
        return (own,)
    return own, Effect(other_id, effect_id, kind, own.occurred_at, flags, seniority, text)


def encode_effect(effect: Effect) -> bytes:
    """The effect as compact JSON (see the module docstring); optional keys are omitted when empty."""
    wire: dict[str, object] = {
        "m": effect.member_id,
        "e": effect.effect_id,
        "k": int(effect.kind),
        "t": effect.occurred_at,
    }
    if effect.flags:
        wire["f"] = effect.flags
    if effect.seniority is not None:
        wire["s"] = effect.seniority.value
    if effect.text is not None:
        wire["x"] = effect.text
    return orjson.dumps(wire)


def decode_effect(raw: bytes) -> Effect:
    """Parse `encode_effect` output; raises ValueError naming the faulty key on malformed input."""
    try:
        wire = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"effect: not JSON ({exc})") from None
    return effect_from_wire(wire)


_WIRE_KEYS = frozenset({"m", "e", "k", "t", "f", "s", "x"})
_KINDS = {int(kind): kind for kind in EffectKind}
_SENIORITIES = {level.value: level for level in Seniority}


def effect_from_wire(wire: object) -> Effect:
    """An effect from its parsed JSON (`encode_effect`'s object); ValueError naming the faulty key.

    On the absorb path once per effect: plain lookups and type checks, no enum constructor calls."""
    if not isinstance(wire, dict):
        raise ValueError(f"effect: expected a JSON object, got {type(wire).__name__}")
    if not _WIRE_KEYS.issuperset(wire):
        raise ValueError(f"effect: unknown keys {sorted(wire.keys() - _WIRE_KEYS)}")
    get = wire.get
    member_id, effect_id, kind_number, occurred_at = get("m"), get("e"), get("k"), get("t")
    if type(member_id) is not str:
        _required(wire, "m", str)
    if type(effect_id) is not str:
        _required(wire, "e", str)
    if type(kind_number) is not int:
        _required(wire, "k", int)
    if type(occurred_at) is not int:
        _required(wire, "t", int)
    if not 0 <= occurred_at <= MAX_OCCURRED_AT:  # type: ignore[operator]
        raise ValueError(f"effect: 't' must be 0..{MAX_OCCURRED_AT} epoch seconds, got {occurred_at!r}")
    flags = get("f", 0)
    seniority = get("s")
    text = get("x")
    if (seniority is None and "s" in wire) or (text is None and "x" in wire):
        raise ValueError("effect: 's' and 'x' are omitted when empty, never null")
    kind = _KINDS.get(kind_number)  # type: ignore[arg-type]
    if kind is None:
        raise ValueError(f"effect: 'k' is not a known effect kind: {kind_number}")
    if type(flags) is not int or not 0 <= flags <= MAX_FLAGS:
        raise ValueError(f"effect: 'f' must be an integer 0..{MAX_FLAGS}, got {flags!r}")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"effect: 'x' must be a string, got {text!r}")
    level = None
    if seniority is not None:
        try:
            level = _SENIORITIES.get(seniority)  # type: ignore[arg-type]
        except TypeError:  # unhashable: not a seniority either
            level = None
        if level is None:
            raise ValueError(f"effect: 's' is not a known seniority: {seniority!r}")
    return Effect(member_id, effect_id, kind, occurred_at, flags, level, text)  # type: ignore[arg-type]


def _required(wire: dict[str, object], key: str, kind: type) -> object:
    value = wire.get(key)
    if type(value) is not kind:
        raise ValueError(f"effect: {key!r} must be {kind.__name__}, got {value!r}")
    return value
