"""The event contract as a table: for each wire `type`, its fields, how each is checked, and its counterpart.

One table drives the decoder (`decode.py`), the encoder (`encode.py`) and the tests that compare both
with `schemas/v1/events/event.json`. A check takes the field's path and its parsed JSON value and returns
the typed value, or a `Rejected` saying what is wrong. Optional fields treat `null` as absent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ssi_stream.events.rejection import Rejected, RejectionCode, describe, show
from ssi_stream.events.types import (
    EVENT_TYPES,
    CallLogged,
    CommentPosted,
    ConnectionRemoved,
    DealLost,
    DealWon,
    Event,
    GroupJoined,
    InviteAccepted,
    InviteSent,
    MeetingBooked,
    MemberFollowed,
    MessageChannel,
    MessageSent,
    OpportunityCreated,
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

Check = Callable[[str, object], object]

#: Lengths, in Unicode code points (as JSON Schema counts them).
MEMBER_ID_CHARS = (1, 64)
OBJECT_ID_CHARS = (1, 128)  # event_id, post_id, thread_id, group_id
INDUSTRY_CHARS = (1, 100)
#: Upper bound of `results_viewed`: more is a producer bug, not a keen searcher.
MAX_RESULTS_VIEWED = 10_000
#: Upper bound of an outcome's `amount` (10^15 of any currency): more is a unit or parsing bug.
MAX_AMOUNT = 1e15
#: Upper bound of a logged call's `duration_seconds`: one day.
MAX_CALL_SECONDS = 86_400


def text(min_chars: int, max_chars: int) -> Check:
    """A string of `min_chars`..`max_chars` code points."""

    def check(field: str, value: object) -> object:
        if type(value) is str and min_chars <= len(value) <= max_chars:
            return value
        if type(value) is not str:
            return Rejected(
                RejectionCode.WRONG_TYPE,
                field,
                f"{field}: expected a string of {min_chars}–{max_chars} characters, got {describe(value)}",
            )
        return Rejected(
            RejectionCode.OUT_OF_RANGE,
            field,
            f"{field}: {show(value)} has {len(value)} characters; expected {min_chars}–{max_chars}",
        )

    return check


def flag(field: str, value: object) -> object:
    """A JSON boolean."""
    if value is True or value is False:
        return value
    return Rejected(
        RejectionCode.WRONG_TYPE, field, f"{field}: expected true or false, got {describe(value)}"
    )


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


def one_of(enum: type[StrEnum]) -> Check:
    """One value of `enum`, by its wire value."""
    members: Mapping[str, StrEnum] = {member.value: member for member in enum}
    allowed = _choices(enum)

    def check(field: str, value: object) -> object:
        if type(value) is str:
            member = members.get(value)
            if member is not None:
                return member
            return Rejected(RejectionCode.BAD_ENUM, field, f"{field}: {show(value)} is not one of {allowed}")
        return Rejected(
            RejectionCode.WRONG_TYPE, field, f"{field}: expected one of {allowed}, got {describe(value)}"
        )

    return check


def set_of(enum: type[StrEnum]) -> Check:
    """An array of distinct values of `enum`, as a frozenset (possibly empty)."""
    item = one_of(enum)

    def check(field: str, value: object) -> object:
        if type(value) is not list:
            return Rejected(
                RejectionCode.WRONG_TYPE,
                field,
                f"{field}: expected an array of distinct values of {_choices(enum)}, got {describe(value)}",
            )
        found: set[object] = set()
        for index, raw in enumerate(value):
            member = item(f"{field}[{index}]", raw)
            if type(member) is Rejected:
                return member
            if member in found:
                return Rejected(
                    RejectionCode.DUPLICATE_ITEM, f"{field}[{index}]", f"{field}: {show(raw)} appears twice"
                )
            found.add(member)
        return frozenset(found)

    return check


def count(maximum: int) -> Check:
    """An integer 0..`maximum`. A number with a zero fraction (`5.0`) counts, as in JSON Schema."""

    def check(field: str, value: object) -> object:
        kind = type(value)
        if kind is int or (kind is float and value.is_integer()):  # type: ignore[union-attr]
            number = int(value)  # type: ignore[call-overload]
            if 0 <= number <= maximum:
                return number
            return Rejected(RejectionCode.OUT_OF_RANGE, field, f"{field}: {value!r} is outside 0–{maximum}")
        return Rejected(
            RejectionCode.WRONG_TYPE,
            field,
            f"{field}: expected an integer 0–{maximum}, got {describe(value)}",
        )

    return check


def amount(field: str, value: object) -> object:
    """A JSON number 0..`MAX_AMOUNT` (integer or not), as a float."""
    kind = type(value)
    if kind is int or kind is float:
        if 0 <= value <= MAX_AMOUNT:  # type: ignore[operator]
            return float(value)  # type: ignore[arg-type]
        return Rejected(RejectionCode.OUT_OF_RANGE, field, f"{field}: {value!r} is outside 0–{MAX_AMOUNT:g}")
    return Rejected(
        RejectionCode.WRONG_TYPE, field, f"{field}: expected a number 0–{MAX_AMOUNT:g}, got {describe(value)}"
    )


def currency(field: str, value: object) -> object:
    """An ISO 4217 alphabetic code: three capital ASCII letters (`EUR`, `USD`, `JPY`)."""
    if type(value) is not str:
        return Rejected(
            RejectionCode.WRONG_TYPE,
            field,
            f"{field}: expected an ISO 4217 code (three capital letters, like EUR), got {describe(value)}",
        )
    if len(value) == 3 and value.isascii() and value.isalpha() and value.isupper():
        return value
    return Rejected(
        RejectionCode.BAD_CURRENCY,
        field,
        f"{field}: {show(value)} is not an ISO 4217 code (three capital letters, like EUR)",
    )


member_id = text(*MEMBER_ID_CHARS)
object_id = text(*OBJECT_ID_CHARS)
seniority = one_of(Seniority)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One type-specific field: its wire name, its check, and whether it must be present."""

    name: str
    check: Check
    required: bool = True


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """One event type: its class, its fields in wire order, and the field naming another member.

    `counterpart`, when set, names a member who must differ from `member_id` (`self_reference`).
    `requires` holds (given, needed) pairs of optional fields: when `given` is, `needed` must be too.
    """

    cls: type[Event]
    fields: tuple[FieldSpec, ...]
    counterpart: str | None = None
    requires: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.cls.type


def _optional(name: str, check: Check) -> FieldSpec:
    return FieldSpec(name, check, required=False)


_POST_INTERACTION = (FieldSpec("post_id", object_id), FieldSpec("post_author_id", member_id))
_DEAL = (FieldSpec("opportunity_id", object_id), _optional("amount", amount), _optional("currency", currency))
_AMOUNT_IN_CURRENCY = (("amount", "currency"),)

#: Every event type by its wire name.
CONTRACT: dict[str, TypeSpec] = {
    spec.name: spec
    for spec in (
        TypeSpec(
            ProfileUpdated,
            (
                _optional("industry", text(*INDUSTRY_CHARS)),
                _optional("seniority", seniority),
                _optional("completed_sections", set_of(ProfileSection)),
            ),
        ),
        TypeSpec(
            InviteSent,
            (
                FieldSpec("target_member_id", member_id),
                FieldSpec("personalized", flag),
                _optional("target_seniority", seniority),
            ),
            counterpart="target_member_id",
        ),
        TypeSpec(
            InviteAccepted,
            (
                FieldSpec("inviter_member_id", member_id),
                _optional("inviter_seniority", seniority),
                _optional("member_seniority", seniority),
            ),
            counterpart="inviter_member_id",
        ),
        TypeSpec(
            ConnectionRemoved,
            (
                FieldSpec("other_member_id", member_id),
                _optional("other_seniority", seniority),
                _optional("member_seniority", seniority),
            ),
            counterpart="other_member_id",
        ),
        TypeSpec(PostPublished, (FieldSpec("post_id", object_id), FieldSpec("format", one_of(PostFormat)))),
        TypeSpec(CommentPosted, _POST_INTERACTION, counterpart="post_author_id"),
        TypeSpec(ReactionAdded, _POST_INTERACTION, counterpart="post_author_id"),
        TypeSpec(PostShared, _POST_INTERACTION, counterpart="post_author_id"),
        TypeSpec(
            MessageSent,
            (
                FieldSpec("recipient_member_id", member_id),
                FieldSpec("thread_id", object_id),
                FieldSpec("is_reply", flag),
                FieldSpec("channel", one_of(MessageChannel)),
            ),
            counterpart="recipient_member_id",
        ),
        TypeSpec(
            SearchPerformed,
            (
                FieldSpec("search_kind", one_of(SearchKind)),
                _optional("results_viewed", count(MAX_RESULTS_VIEWED)),
            ),
        ),
        TypeSpec(
            ProfileViewed,
            (FieldSpec("viewed_member_id", member_id), FieldSpec("source", one_of(ViewSource))),
            counterpart="viewed_member_id",
        ),
        TypeSpec(
            RecommendationReceived,
            (FieldSpec("recommender_member_id", member_id),),
            counterpart="recommender_member_id",
        ),
        TypeSpec(GroupJoined, (FieldSpec("group_id", object_id),)),
        TypeSpec(
            MemberFollowed, (FieldSpec("followed_member_id", member_id),), counterpart="followed_member_id"
        ),
        TypeSpec(
            MeetingBooked,
            (_optional("opportunity_id", object_id), _optional("contact_member_id", member_id)),
            counterpart="contact_member_id",
        ),
        TypeSpec(OpportunityCreated, _DEAL, requires=_AMOUNT_IN_CURRENCY),
        TypeSpec(DealWon, _DEAL, requires=_AMOUNT_IN_CURRENCY),
        TypeSpec(DealLost, _DEAL, requires=_AMOUNT_IN_CURRENCY),
        TypeSpec(
            CallLogged,
            (
                _optional("opportunity_id", object_id),
                _optional("contact_member_id", member_id),
                _optional("duration_seconds", count(MAX_CALL_SECONDS)),
            ),
            counterpart="contact_member_id",
        ),
    )
}

#: Envelope members, in wire order.
ENVELOPE_FIELDS = ("event_id", "type", "member_id", "occurred_at", "schema_version")
#: The only schema version this code reads and writes.
SCHEMA_VERSION = 1

if CONTRACT.keys() != EVENT_TYPES.keys():  # pragma: no cover - a broken import-time invariant
    raise RuntimeError(
        f"contract and types.EVENT_TYPES disagree: {sorted(CONTRACT.keys() ^ EVENT_TYPES.keys())}"
    )
