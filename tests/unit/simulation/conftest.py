"""One realistic simulated world per test session, plus a contract checker for its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

from ssi_stream.simulation import SimulationConfig, generate

SENIORITIES = {
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
}
SECTIONS = {
    "photo",
    "background_photo",
    "headline",
    "summary",
    "experience",
    "education",
    "skills",
    "featured",
    "certifications",
    "volunteering",
}
ENVELOPE = {"event_id": str, "member_id": str, "type": str, "occurred_at": str}
#: Per type: required fields, optional fields, and the counterpart fields that must not be the actor.
CONTRACT: dict[str, tuple[dict[str, object], dict[str, object], tuple[str, ...]]] = {
    "profile_updated": ({}, {"industry": str, "seniority": SENIORITIES, "completed_sections": SECTIONS}, ()),
    "invite_sent": (
        {"target_member_id": str, "personalized": bool},
        {"target_seniority": SENIORITIES},
        ("target_member_id",),
    ),
    "invite_accepted": (
        {"inviter_member_id": str},
        {"inviter_seniority": SENIORITIES, "member_seniority": SENIORITIES},
        ("inviter_member_id",),
    ),
    "connection_removed": (
        {"other_member_id": str},
        {"other_seniority": SENIORITIES, "member_seniority": SENIORITIES},
        ("other_member_id",),
    ),
    "post_published": (
        {"post_id": str, "format": {"post", "article", "video", "document", "poll", "reshare"}},
        {},
        (),
    ),
    "comment_posted": ({"post_id": str, "post_author_id": str}, {}, ("post_author_id",)),
    "reaction_added": ({"post_id": str, "post_author_id": str}, {}, ("post_author_id",)),
    "post_shared": ({"post_id": str, "post_author_id": str}, {}, ("post_author_id",)),
    "message_sent": (
        {"recipient_member_id": str, "thread_id": str, "is_reply": bool, "channel": {"message", "inmail"}},
        {},
        ("recipient_member_id",),
    ),
    "search_performed": (
        {"search_kind": {"people", "company", "content", "jobs"}},
        {"results_viewed": int},
        (),
    ),
    "profile_viewed": (
        {"viewed_member_id": str, "source": {"search", "feed", "network", "other"}},
        {},
        ("viewed_member_id",),
    ),
    "recommendation_received": ({"recommender_member_id": str}, {}, ("recommender_member_id",)),
    "group_joined": ({"group_id": str}, {}, ()),
    "member_followed": ({"followed_member_id": str}, {}, ("followed_member_id",)),
    "meeting_booked": ({}, {"opportunity_id": str, "contact_member_id": str}, ("contact_member_id",)),
    "opportunity_created": ({"opportunity_id": str}, {"amount": float, "currency": str}, ()),
    "deal_won": ({"opportunity_id": str}, {"amount": float, "currency": str}, ()),
    "deal_lost": ({"opportunity_id": str}, {"amount": float, "currency": str}, ()),
    "call_logged": (
        {},
        {"opportunity_id": str, "contact_member_id": str, "duration_seconds": int},
        ("contact_member_id",),
    ),
}


def contract_violation(event: Any) -> str | None:
    """Why `event` breaks the event contract, or None if it is a valid event."""
    if not isinstance(event, dict):
        return "not an object"
    for field, kind in ENVELOPE.items():
        if not isinstance(event.get(field), kind):
            return f"envelope field {field} missing or not {kind.__name__}"
    if event.get("schema_version", 1) != 1:
        return "schema_version"
    if not 0 < len(event["event_id"]) <= 128 or not 0 < len(event["member_id"]) <= 64:
        return "id length"
    try:
        when = datetime.fromisoformat(event["occurred_at"])
    except ValueError:
        return "occurred_at not RFC 3339"
    if when.tzinfo is None or "T" not in event["occurred_at"]:
        return "occurred_at without offset"
    if event["type"] not in CONTRACT:
        return f"unknown type {event['type']}"
    required, optional, counterparts = CONTRACT[event["type"]]
    allowed = set(ENVELOPE) | {"schema_version"} | set(required) | set(optional)
    if set(event) - allowed:
        return f"unexpected fields {set(event) - allowed}"
    for field in required:
        if field not in event:
            return f"missing {field}"
    for field, kind in (required | optional).items():
        if field not in event:
            continue
        value = event[field]
        if isinstance(kind, set):
            values = value if isinstance(value, list) else [value]
            if kind is SECTIONS and not isinstance(value, list):
                return f"{field} not a list"
            if not all(isinstance(v, str) and v in kind for v in values):
                return f"{field} has a value outside the contract: {value!r}"
        elif kind is int:
            if type(value) is not int or value < 0:
                return f"{field} not a non-negative int"
        elif type(value) is not kind:
            return f"{field} not {kind.__name__}"
    if any(event[field] == event["member_id"] for field in counterparts):
        return "self-reference"
    return None


@dataclass(frozen=True)
class World:
    config: SimulationConfig
    events: list[dict[str, Any]]


WORLD_CONFIG = SimulationConfig(members=300, days=21, start=date(2026, 3, 2), seed=7)


@pytest.fixture(scope="session")
def world() -> World:
    """300 members over three weeks with the default mix, no delivery faults."""
    events = list(generate(WORLD_CONFIG))
    assert all(isinstance(e, dict) for e in events)
    return World(WORLD_CONFIG, events)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def violation() -> Callable[[Any], str | None]:
    """The contract checker (`contract_violation`), as a fixture so test modules need no imports from here."""
    return contract_violation
