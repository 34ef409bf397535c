"""The engine's source side on its own: what a batch of raw events becomes, step by step."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import orjson

from ssi_stream.engine import EffectMessage, MemorySourceStore, NullObserver, RawEvent, SourceSide
from ssi_stream.engine.messages import Step
from ssi_stream.events.limits import DecodeLimits
from ssi_stream.timeline.close_gate import CloseGate
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.timeline.source_clock import SourceClock, SourceMark

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TIMELINE = TimelineSettings(partitions=4)


def invite(number: int, day: int = 2, sender: str = "m-1") -> bytes:
    return orjson.dumps(
        {
            "schema_version": 1,
            "event_id": f"e-{number}",
            "type": "invite_sent",
            "member_id": sender,
            "occurred_at": f"2026-03-{day:02d}T10:00:00Z",
            "target_member_id": f"m-{100 + number}",
            "personalized": True,
        }
    )


def test_a_tombstone_is_dead_lettered_and_the_events_around_it_are_placed() -> None:
    side = SourceSide(TIMELINE, MemorySourceStore(), origin_name="ssi.events")
    batch = [
        RawEvent(invite(1), 0, 10, b"m-1"),
        RawEvent(None, 0, 11, b"m-1"),
        RawEvent(invite(2), 0, 12, b"m-1"),
    ]
    effects, _ = list(side.place(batch, NOW))
    assert [(key, record["reason"]) for key, record in effects.dead_letters] == [(b"m-1", "null_value")]
    assert effects.dead_letters[0][1]["source"] == {
        "topic": "ssi.events",
        "partition": 0,
        "offset": 11,
        "file": None,
        "line": None,
    }
    placed = [message for _, message in effects.to_targets]
    assert all(isinstance(message, EffectMessage) for message in placed)
    assert len(placed) == 4  # each invitation touches its sender and its invitee


def test_effects_go_to_their_members_partition_and_marks_to_every_partition_after_them() -> None:
    side = SourceSide(TIMELINE, MemorySourceStore())
    steps = list(side.place([RawEvent(invite(n), 1, n, b"m-1") for n in range(5)], NOW))
    assert len(steps) == 2  # effects first, then (after a barrier) the marks that promise them
    for target, message in steps[0].to_targets:
        assert isinstance(message, EffectMessage)
        assert target == partition_for(message.effect.member_id, TIMELINE.partitions)
    marks = steps[1].to_targets
    assert sorted(target for target, _ in marks) == list(range(TIMELINE.partitions))
    assert {message for _, message in marks} == {SourceMark(1, 20513, 20514, False, 4, 20514)}


def test_the_clock_is_stored_with_the_mark_and_an_unchanged_clock_sends_no_mark() -> None:
    store = MemorySourceStore()
    side = SourceSide(TIMELINE, store)
    list(side.place([RawEvent(invite(1), 0, 0, b"m-1")], NOW))
    stored = store.clock(0)
    assert stored is not None and SourceClock.from_bytes(stored).mark_offset == 0
    steps = list(side.place([RawEvent(invite(2), 0, 1, b"m-1")], NOW))  # same day: the mark did not move
    assert len(steps) == 1
    assert len(list(side.place([RawEvent(invite(3, day=4), 0, 2, b"m-1")], NOW))) == 2  # a new day: it did


def test_an_idle_source_says_so_once_and_wakes_up_with_its_next_event() -> None:
    side = SourceSide(TIMELINE, MemorySourceStore())
    list(side.place([RawEvent(invite(1), 2, 0, b"m-1")], NOW))
    idle = side.idle_mark(2)
    assert idle is not None and all(mark.idle for _, mark in idle.to_targets)  # type: ignore[union-attr]
    assert side.idle_mark(2) is None
    steps = list(side.place([RawEvent(invite(2), 2, 1, b"m-1")], NOW))
    assert len(steps) == 2 and not any(mark.idle for _, mark in steps[1].to_targets)  # type: ignore[union-attr]


def _observe(gate: CloseGate, steps: Iterable[Step | None], target: int = 0) -> None:
    for step in steps:
        for destination, message in step.to_targets if step is not None else ():
            if destination == target and isinstance(message, SourceMark):
                gate.observe(message)


def test_sources_read_again_after_a_restart_hold_their_days_open_until_their_backlog_is_placed() -> None:
    """Every source went idle after day 2 (the input stopped); the worker stops, events of days 3-5 wait
    on every partition meanwhile. The target still holds the idle marks when the new reader starts: once
    it resumed the sources, source 0 running through its backlog alone cannot close day 3, which
    sources 1-3 still have events for."""
    store = MemorySourceStore()
    gate = CloseGate(expected_sources=TIMELINE.partitions)
    before = SourceSide(TIMELINE, store)
    for source in range(TIMELINE.partitions):
        _observe(gate, before.place([RawEvent(invite(source), source, 0, b"m-1")], NOW))
    _observe(gate, [before.idle_mark(source) for source in range(TIMELINE.partitions)])
    assert gate.closable() == 20514  # all idle: through the newest day seen (2026-03-02)

    after = SourceSide(TIMELINE, store)  # the restarted worker
    _observe(gate, [after.resume(range(TIMELINE.partitions))])
    backlog = [RawEvent(invite(10 + day, day=day), 0, day, b"m-1") for day in (3, 4, 5)]
    _observe(gate, after.place(backlog, NOW))
    assert gate.closable() == 20513  # no further than sources 1-3 said before: day 3 stays open
    for source in range(1, TIMELINE.partitions):
        _observe(gate, after.place([RawEvent(invite(20 + source, day=5), source, 1, b"m-1")], NOW))
    assert gate.closable() == 20516  # every source is past day 3 and 4 now (grace keeps day 5 open)


def test_resume_is_a_plain_mark_for_every_source_and_ends_idleness() -> None:
    side = SourceSide(TIMELINE, MemorySourceStore())
    list(side.place([RawEvent(invite(1), 2, 7, b"m-1")], NOW))
    assert side.idle_mark(2) is not None and side.is_idle(2)
    step = side.resume([2, 3])
    assert step is not None and not side.is_idle(2)
    marks = {message for _, message in step.to_targets}
    assert marks == {SourceMark(2, 20513, 20514, False, 7, 20514), SourceMark(3, None, None, False, -1, None)}
    assert sorted(target for target, _ in step.to_targets) == sorted(list(range(TIMELINE.partitions)) * 2)
    assert side.resume([]) is None


def test_events_without_a_partition_are_placed_on_their_members_partition_and_numbered() -> None:
    side = SourceSide(TIMELINE, MemorySourceStore())
    steps = list(side.place([RawEvent(invite(n), line=n + 1) for n in range(3)], NOW))
    source = partition_for("m-1", TIMELINE.partitions)
    assert {mark.source for _, mark in steps[1].to_targets} == {source}  # type: ignore[union-attr]
    assert {mark.offset for _, mark in steps[1].to_targets} == {2}  # type: ignore[union-attr]


def test_the_size_limit_applies() -> None:
    side = SourceSide(TIMELINE, MemorySourceStore(), limits=DecodeLimits(max_bytes=100))
    (step,) = side.place([RawEvent(invite(1), line=1)], NOW)
    assert [record["reason"] for _, record in step.dead_letters] == ["too_large"]
    assert step.dead_letters[0][1]["source"]["line"] == 1


class Counting(NullObserver):
    misrouted = 0

    def event_misrouted(self) -> None:
        self.misrouted += 1


def test_a_record_keyed_by_another_member_or_none_is_dead_lettered_and_a_misrouted_one_counted() -> None:
    observer = Counting()
    side = SourceSide(TIMELINE, MemorySourceStore(), observer=observer)
    home = partition_for("m-1", TIMELINE.partitions)
    elsewhere = (home + 1) % TIMELINE.partitions
    batch = [
        RawEvent(invite(1), home, 0, b"m-2"),
        RawEvent(invite(2), home, 1, None),
        RawEvent(invite(3), elsewhere, 0, b"m-1"),  # keyed right, partitioned by another hash
        RawEvent(invite(4), home, 2, b"m-1"),
    ]
    effects, _ = list(side.place(batch, NOW))
    rejected = [(record["reason"], record["detail"]) for _, record in effects.dead_letters]
    assert [reason for reason, _ in rejected] == ["wrong_key", "wrong_key"]
    assert "'m-2' is not its member_id 'm-1'" in rejected[0][1] and "no key" in rejected[1][1]
    assert observer.misrouted == 1
    assert len(effects.to_targets) == 4  # events 3 and 4, two effects each


def test_a_dead_letter_keeps_the_record_as_it_came_up_to_the_size_limit() -> None:
    side = SourceSide(
        TIMELINE, MemorySourceStore(), limits=DecodeLimits(max_bytes=200), origin_name="ssi.events"
    )
    home = partition_for("m-1", TIMELINE.partitions)
    traced = [("traceparent", b"00-1"), ("tenant", None)]
    big = invite(1)[:-1] + b', "note": "' + b"x" * 200 + b'"}'
    batch = [
        RawEvent(invite(1), home, 0, b"m-2", headers=traced),  # wrong_key
        RawEvent(big, home, 1, b"m-1", headers={"tenant": b"t-1"}),  # too_large, headers as a mapping
    ]
    effects, *_ = side.place(batch, NOW)
    (key, wrong), (_, large) = effects.dead_letters
    assert key == b"m-2" and wrong["key"] == {"value": "m-2", "encoding": "utf8"}
    assert wrong["payload"].encode() == invite(1) and wrong["reason"] == "wrong_key"
    assert wrong["headers"] == [
        {"name": "traceparent", "value": "00-1", "encoding": "utf8"},
        {"name": "tenant", "value": None, "encoding": "utf8"},
    ]
    assert large["reason"] == "too_large" and large["payload"].encode() == big[:200]
    assert large["payload_truncated"] and large["headers"] == [
        {"name": "tenant", "value": "t-1", "encoding": "utf8"}
    ]


def test_framing_follows_the_limits_as_in_the_worker_and_replay() -> None:
    from ssi_stream.ops.settings import Settings

    framed = b"\x00\x00\x00\x00\x07" + invite(1)
    checked = Settings.from_env({"SSI_SCHEMA_REGISTRY_FRAMING": "check", "SSI_SCHEMA_REGISTRY_IDS": "7"})
    for settings, reason in [(Settings(), "schema_registry_framed"), (checked, None)]:
        side = SourceSide(TIMELINE, MemorySourceStore(), limits=settings.decode_limits())
        effects, *_ = side.place([RawEvent(framed, line=1)], NOW)
        assert [record["reason"] for _, record in effects.dead_letters] == ([reason] if reason else [])
        assert len(effects.to_targets) == (0 if reason else 2)
