"""A member whose stored ledger cannot be read is left out, not a crash: the partition still closes and
ranks everybody else, and the member's effects are kept aside whole."""

from __future__ import annotations

from ssi_stream.engine import EffectMessage, MemoryTargetStore, TargetSide
from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    UnreadableLedger,
    encode_ledger,
    new_ledger,
    read_ledger,
)
from ssi_stream.scoring.effects import Effect, EffectKind
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.days import day_start
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.timeline.source_clock import Placement, SourceMark

TIMELINE = TimelineSettings(partitions=1)
DAY = 20514


class CorruptStore(MemoryTargetStore):
    """A store whose bytes for one member are an unknown ledger version."""

    def __init__(self, corrupt: str) -> None:
        super().__init__()
        self.corrupt = corrupt
        raw = bytearray(encode_ledger(new_ledger(TIMELINE.dedup)))
        raw[0] = 99
        self.corrupt_bytes = bytes(raw)

    def ledger(self, member_id: str) -> MemberLedger | None:
        if member_id == self.corrupt:
            return read_ledger(member_id, self.corrupt_bytes, TIMELINE.dedup)
        return super().ledger(member_id)

    def member_ids(self) -> list[str]:
        return [*super().member_ids(), self.corrupt]


def post(member: str, number: int) -> EffectMessage:
    effect = Effect(member, f"e-{number}/a", EffectKind.POST_PUBLISHED, day_start(DAY) + 3600)
    return EffectMessage(effect, Placement(DAY, False))


def test_the_unreadable_member_is_left_out_and_its_effects_kept_while_the_others_are_scored() -> None:
    store = CorruptStore("broken")
    side = TargetSide(0, load_model(), TIMELINE, store)
    mark = SourceMark(0, DAY, DAY + 1, False, 3, DAY)
    steps = [*side.take([post("alice", 1), post("broken", 2), post("bob", 3), mark])]
    shares = [message for step in steps for _, message in step.to_targets]
    steps += [*side.take(shares), side.drain()]
    records = [record for step in steps for _, record in step.records]
    quarantined = [entry for step in steps for entry in step.quarantine]
    assert sorted(r["member_id"] for r in records) == ["alice", "bob"]
    assert side.gate.ranked_through == DAY
    assert side.unreadable == {"broken"}
    assert [message.effect.member_id for _, message in quarantined] == ["broken"]  # type: ignore[union-attr]
    assert "'broken'" in quarantined[0][0]


def test_read_ledger_names_the_member_and_the_problem() -> None:
    raw = bytearray(encode_ledger(new_ledger(TIMELINE.dedup)))
    raw[0] = 99
    try:
        read_ledger("m-7", bytes(raw), TIMELINE.dedup)
    except UnreadableLedger as exc:
        assert exc.member_id == "m-7" and "version 99" in str(exc)
    else:
        raise AssertionError("an unknown version was read")
    try:
        read_ledger("m-8", encode_ledger(new_ledger(TIMELINE.dedup))[:9], TIMELINE.dedup)
    except UnreadableLedger as exc:
        assert exc.member_id == "m-8"
    else:
        raise AssertionError("a cut-short ledger was read")
