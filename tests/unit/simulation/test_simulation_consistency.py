"""The simulated world is referentially consistent: every reference points at something that happened."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

Checker = Callable[[Any], str | None]


def instant(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def test_every_event_meets_the_contract(world: Any, violation: Checker) -> None:
    violations = Counter(violation(e) for e in world.events)
    assert violations == Counter({None: len(world.events)})


def test_event_ids_are_unique(world: Any) -> None:
    assert len({e["event_id"] for e in world.events}) == len(world.events)


def test_events_are_in_non_decreasing_time_within_the_period(world: Any) -> None:
    times = [instant(e) for e in world.events]
    assert all(a <= b for a, b in pairwise(times))
    start = datetime.combine(world.config.start, time(), tzinfo=UTC)
    assert start <= times[0] and times[-1] < start + timedelta(days=world.config.days)


def test_acceptances_follow_a_matching_invite_and_never_duplicate_a_connection(world: Any) -> None:
    invited: set[tuple[str, str]] = set()
    connected: set[frozenset[str]] = set()
    accepted = removed = 0
    for e in world.events:
        if e["type"] == "invite_sent":
            invited.add((e["member_id"], e["target_member_id"]))
        elif e["type"] == "invite_accepted":
            assert (e["inviter_member_id"], e["member_id"]) in invited
            pair = frozenset((e["member_id"], e["inviter_member_id"]))
            assert pair not in connected
            connected.add(pair)
            accepted += 1
        elif e["type"] == "connection_removed":
            pair = frozenset((e["member_id"], e["other_member_id"]))
            assert pair in connected
            connected.remove(pair)
            removed += 1
    assert accepted > 1000 and 0 < removed < accepted / 10


def test_replies_answer_a_message_received_in_the_same_thread(world: Any) -> None:
    threads: dict[str, tuple[str, str, str]] = {}  # thread -> (starter, other, channel)
    last_sender: dict[str, str] = {}
    replies = 0
    for e in world.events:
        if e["type"] != "message_sent":
            continue
        thread, sender, recipient = e["thread_id"], e["member_id"], e["recipient_member_id"]
        if not e["is_reply"]:
            assert thread not in threads
            threads[thread] = (sender, recipient, e["channel"])
        else:
            starter, other, channel = threads[thread]
            assert {sender, recipient} == {starter, other} and channel == e["channel"]
            assert last_sender[thread] == recipient  # answers the message just received
            replies += 1
        last_sender[thread] = sender
    assert replies > 1000


def test_post_interactions_target_existing_posts_of_their_author(world: Any) -> None:
    authors: dict[str, str] = {}
    interactions = Counter()
    for e in world.events:
        if e["type"] == "post_published":
            assert e["post_id"] not in authors
            authors[e["post_id"]] = e["member_id"]
        elif e["type"] in ("comment_posted", "reaction_added", "post_shared"):
            assert authors[e["post_id"]] == e["post_author_id"] != e["member_id"]
            interactions[e["type"]] += 1
    assert interactions["reaction_added"] > interactions["comment_posted"] > interactions["post_shared"] > 0


def test_most_members_introduce_themselves_with_a_full_profile(world: Any) -> None:
    first: dict[str, dict] = {}
    for e in world.events:
        first.setdefault(e["member_id"], e)
    full = [
        e
        for e in first.values()
        if e["type"] == "profile_updated" and {"industry", "seniority", "completed_sections"} <= set(e)
    ]
    assert 0.8 <= len(full) / len(first) <= 0.97


def test_search_views_follow_a_people_search_by_the_viewer(world: Any) -> None:
    last_people_search = {}
    search_views = 0
    for e in world.events:
        if e["type"] == "search_performed" and e["search_kind"] == "people":
            last_people_search[e["member_id"]] = instant(e)
        elif e["type"] == "profile_viewed" and e["source"] == "search":
            searched = last_people_search[e["member_id"]]
            assert timedelta(0) <= instant(e) - searched <= timedelta(minutes=4)
            search_views += 1
    assert search_views > 500


def test_follows_and_group_joins_are_never_repeated(world: Any) -> None:
    follows = Counter(
        (e["member_id"], e["followed_member_id"]) for e in world.events if e["type"] == "member_followed"
    )
    groups = Counter((e["member_id"], e["group_id"]) for e in world.events if e["type"] == "group_joined")
    assert follows and groups
    assert max(follows.values()) == 1 and max(groups.values()) == 1


def test_profile_sections_only_grow(world: Any) -> None:
    sections: dict[str, set[str]] = defaultdict(set)
    for e in world.events:
        if e["type"] == "profile_updated" and "completed_sections" in e:
            now = set(e["completed_sections"])
            assert sections[e["member_id"]] <= now
            sections[e["member_id"]] = now
