"""The emission rule, on a log small enough to read: an active member gets a record every day; a passive
one gets one on their first scored day and then none until something a record says changes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import orjson

from ssi_stream.replay import replay_log
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.policy import TimelineSettings

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def event(number: int, kind: str, member: str, day: int, **fields: object) -> dict[str, object]:
    return {
        "schema_version": 1,
        "event_id": f"e-{number}",
        "type": kind,
        "member_id": member,
        "occurred_at": f"2026-03-{day:02d}T10:00:00Z",
        **fields,
    }


def log() -> bytes:
    """A posts every day for 8 days; B is invited by A on day 2 and accepts on day 6; C only views A."""
    events = [event(day, "post_published", "a", day, post_id=f"p{day}", format="post") for day in range(1, 9)]
    events.append(event(20, "invite_sent", "a", 2, target_member_id="b", personalized=True))
    events.append(event(21, "profile_viewed", "c", 3, viewed_member_id="a", source="search"))
    events.append(event(22, "invite_accepted", "b", 6, inviter_member_id="a"))
    events.sort(key=lambda e: str(e["occurred_at"]))
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def replay(emit: str) -> list[dict]:
    output = io.BytesIO()
    replay_log(
        io.BytesIO(log()),
        output,
        model=load_model(),
        timeline=TimelineSettings(partitions=2, emit=emit),  # type: ignore[arg-type]
        now=NOW,
    )
    return [orjson.loads(line) for line in output.getvalue().splitlines()]


def days_of(records: list[dict], member: str) -> list[int]:
    return [int(r["date"][-2:]) for r in records if r["member_id"] == member]


def test_an_active_member_gets_a_record_every_day_and_a_passive_one_only_when_something_changes() -> None:
    records = replay("changes")
    assert days_of(records, "a") == list(range(1, 9))
    # b: first scored on day 2 (invited), nothing moves while b only has an invitation, then b acts
    # (accepts on day 6): a record; the new connection keeps moving b's network rank afterwards or not.
    b = days_of(records, "b")
    assert b[0] == 2 and 6 in b and not set(range(3, 6)) & set(b)
    c = days_of(records, "c")
    assert c[0] == 3


def test_daily_emission_gives_every_member_every_day_and_the_rule_picks_from_them() -> None:
    daily, changes = replay("daily"), replay("changes")
    assert days_of(daily, "a") == list(range(1, 9))
    assert days_of(daily, "b") == list(range(2, 9)) and days_of(daily, "c") == list(range(3, 9))
    assert all(record in daily for record in changes)
