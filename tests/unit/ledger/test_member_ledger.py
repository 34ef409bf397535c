"""A member's ledger: effects count once, late ones are reported, closes are idempotent and re-emittable,
connections follow closed days, and ranks are kept for the latest record."""

from __future__ import annotations

from typing import Any

import pytest

from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    absorb_effect,
    close_member_day,
    decode_ledger,
    encode_ledger,
    latest_record,
    member_day,
    new_ledger,
    ranked_record,
)
from ssi_stream.ledger.recent_ids import DEDUP_IDS
from ssi_stream.ranking.connections import Connections
from ssi_stream.ranking.exchange import DayRanks
from ssi_stream.ranking.standing import Standing
from ssi_stream.scoring.effects import Effect, EffectKind
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.days import day_start
from ssi_stream.timeline.policy import DedupPolicy

MODEL = load_model()
POLICY = DedupPolicy(horizon_days=3)
DAY = 20_500


def effect(number: int, day: int = DAY, kind: EffectKind = EffectKind.ENGAGEMENT_GIVEN) -> Effect:
    return Effect("m1", f"e{number}/a", kind, day_start(day) + 3600 + number)


UNRANKED = DayRanks(None, None)


def close(ledger: MemberLedger, day: int, ranks: DayRanks = UNRANKED) -> dict[str, Any] | None:
    """Both steps of a day's close: the SSI, then the record with the day's ranks."""
    if close_member_day(ledger, day, MODEL, POLICY) is None:
        return None
    return ranked_record("m1", ledger, MODEL, ranks)


def test_a_redelivered_effect_counts_once_within_the_horizon() -> None:
    ledger = new_ledger(POLICY)
    assert absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    assert not absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    # Re-counted in a later open day (late at its source), still within the horizon: still a duplicate.
    assert not absorb_effect(ledger, effect(1), DAY + 2, late=True, model=MODEL, policy=POLICY)


def test_a_redelivery_beyond_the_horizon_counts_again_by_design() -> None:
    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    assert absorb_effect(ledger, effect(1), DAY + 3, late=True, model=MODEL, policy=POLICY)


def test_closing_forgets_ids_that_can_no_longer_be_checked() -> None:
    policy = DedupPolicy(horizon_days=3, filter_days=0)  # no redelivery filter
    ledger = new_ledger(policy)
    absorb_effect(ledger, effect(1, DAY), DAY, late=False, model=MODEL, policy=policy)
    absorb_effect(ledger, effect(2, DAY + 1), DAY + 1, late=False, model=MODEL, policy=policy)
    for day in (DAY, DAY + 1):
        close_member_day(ledger, day, MODEL, policy)
    assert len(ledger.seen) == 2  # a copy of DAY's effect could still count in DAY + 2: within 3 days
    close_member_day(ledger, DAY + 2, MODEL, policy)
    assert len(ledger.seen) == 1  # from now on it would count in DAY + 3 or later: beyond the horizon


def test_with_the_redelivery_filter_ids_are_held_one_close_longer() -> None:
    ledger = new_ledger(POLICY)  # the filter's horizon (30 days) is past the exact ids'
    absorb_effect(ledger, effect(1, DAY), DAY, late=False, model=MODEL, policy=POLICY)
    for day in (DAY, DAY + 1, DAY + 2):
        close(ledger, day)
    assert len(ledger.seen) == 1  # its partition's filter takes it at this close, from the ledger
    close(ledger, DAY + 3)
    assert len(ledger.seen) == 0


def test_late_effects_are_reported_on_the_day_they_count_in() -> None:
    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1, DAY - 4), DAY, late=True, model=MODEL, policy=POLICY)
    absorb_effect(ledger, effect(2), DAY, late=False, model=MODEL, policy=POLICY)
    record = close(ledger, DAY)
    assert record is not None and record["late_events"] == 1


def test_no_record_before_history_and_a_repeated_close_re_emits_the_same_record() -> None:
    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=True, model=MODEL, policy=POLICY)
    assert close(ledger, DAY - 1) is None
    first = close(ledger, DAY)
    absorb_effect(ledger, effect(2, DAY + 1), DAY + 1, late=False, model=MODEL, policy=POLICY)  # a later day
    again = close(ledger, DAY)  # the input re-read after a crash
    assert first is not None and again == first
    close(ledger, DAY + 1)
    assert close(ledger, DAY) is None  # older: flushed long ago


def test_bytes_round_trip_keeps_state_ids_and_late_counts() -> None:
    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=True, model=MODEL, policy=POLICY)
    absorb_effect(ledger, effect(2, DAY + 1), DAY + 1, late=True, model=MODEL, policy=POLICY)
    first = close(ledger, DAY)
    copy = decode_ledger(encode_ledger(ledger), POLICY)
    assert encode_ledger(copy) == encode_ledger(ledger)
    assert copy.late == {DAY + 1: 1} and copy.closed_late == 1
    assert close(copy, DAY) == first
    assert not absorb_effect(copy, effect(2, DAY + 1), DAY + 1, late=False, model=MODEL, policy=POLICY)


def test_an_unknown_ledger_version_is_refused() -> None:
    raw = bytearray(encode_ledger(new_ledger(POLICY)))
    raw[0] = 99
    with pytest.raises(ValueError, match="version 99"):
        decode_ledger(bytes(raw), POLICY)


def test_the_latest_record_is_the_last_close_s_record_whatever_came_in_since() -> None:
    ledger = new_ledger(POLICY)
    assert latest_record("m1", ledger, MODEL) is None  # nothing closed yet
    absorb_effect(ledger, effect(1, DAY - 4), DAY, late=True, model=MODEL, policy=POLICY)
    absorb_effect(ledger, effect(2), DAY, late=False, model=MODEL, policy=POLICY)
    closed = close(ledger, DAY)
    absorb_effect(ledger, effect(3, DAY + 1), DAY + 1, late=False, model=MODEL, policy=POLICY)  # still open
    assert closed is not None and closed["late_events"] == 1
    assert latest_record("m1", ledger, MODEL) == closed
    assert latest_record("m1", decode_ledger(encode_ledger(ledger), POLICY), MODEL) == closed


def test_each_close_adds_its_ssi_to_the_history_once_and_the_bytes_keep_it() -> None:
    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    first = close(ledger, DAY)
    again = close(ledger, DAY)  # a re-emitted close adds nothing
    second = close(ledger, DAY + 1)
    assert first and again and second
    assert ledger.history.daily(2) == [(DAY, first["ssi"]), (DAY + 1, second["ssi"])]
    copy = decode_ledger(encode_ledger(ledger), POLICY)
    assert copy.history.daily() == ledger.history.daily()


def test_a_version_1_ledger_written_before_history_still_reads() -> None:
    import struct

    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=True, model=MODEL, policy=POLICY)
    current = encode_ledger(ledger)  # v4: header <BIIHHHBIBB>, the same fields first
    _, state_len, ids_len, late_entries, closed_late, history_len, *_ = struct.unpack_from(
        "<BIIHHHBIBB", current
    )
    assert history_len == 0
    v1 = struct.pack("<BIIHH", 1, state_len, ids_len, late_entries, closed_late) + current[22:]
    old = decode_ledger(v1, POLICY)
    assert old.state == ledger.state and old.late == ledger.late and old.history.daily() == []


def alerts_of(ledger: MemberLedger, record: dict[str, Any], policy: Any) -> list[dict[str, Any]]:
    """The alerts of the ledger's last closed day, whose record is `record`."""
    from ssi_stream.ledger.member_ledger import day_alerts
    from ssi_stream.timeline.days import day_from_iso

    return day_alerts("m1", ledger, record["ssi"], day_from_iso(record["date"]), MODEL.version, policy)


def test_alerts_once_per_crossing_again_for_a_re_emitted_close_and_the_state_survives_bytes() -> None:
    from ssi_stream.trend.alerts import AlertPolicy

    high = AlertPolicy(threshold=99.0)  # every real score is below it
    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    first = close(ledger, DAY)
    assert first and alerts_of(ledger, first, high) == []  # a first score raises nothing
    ledger = decode_ledger(encode_ledger(ledger), POLICY)
    generous = AlertPolicy(threshold=0.0)  # the member is now above it: a recovery
    second = close(ledger, DAY + 1)
    assert second
    raised = alerts_of(ledger, second, generous)
    assert [a["kind"] for a in raised] == ["recovered"] and raised[0]["date"] == second["date"]
    ledger = decode_ledger(encode_ledger(ledger), POLICY)
    again = close(ledger, DAY + 1)  # re-read after a crash
    assert again == second and alerts_of(ledger, again, generous) == raised
    third = close(ledger, DAY + 2)
    assert third and alerts_of(ledger, third, generous) == []  # still above: no new alert


def test_a_version_2_ledger_reads_as_emitted_without_ranks() -> None:
    import struct

    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    emitted = close(ledger, DAY)
    current = encode_ledger(ledger)
    header = struct.unpack_from("<BIIHHHBIBB", current)
    assert header[7] == 0 and header[9] & 6 == 0  # no connections, no emission references
    v2 = struct.pack("<BIIHHHB", 2, *header[1:7]) + current[22:]
    old = decode_ledger(v2, POLICY)
    assert old.history.daily() == ledger.history.daily()
    assert latest_record("m1", old, MODEL) == emitted  # its last record had null ranks


def test_ranks_are_kept_for_the_latest_record_and_unknown_between_the_two_steps() -> None:
    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    ssi = close_member_day(ledger, DAY, MODEL, POLICY)
    assert ssi is not None and member_day("m1", ledger).ssi == ssi
    assert latest_record("m1", ledger, MODEL) is None  # closed, not ranked yet: no record to show
    ranks = DayRanks(Standing.of(3, 40), Standing.of(1, 2))
    record = ranked_record("m1", ledger, MODEL, ranks)
    assert record["ssi"] == ssi
    assert record["industry_rank"] == {"top_percent": 7.5, "position": 3, "population": 40}
    assert record["network_rank"] == {"top_percent": 50.0, "position": 1, "population": 2}
    copy = decode_ledger(encode_ledger(ledger), POLICY)
    assert copy.ranks == ranks and latest_record("m1", copy, MODEL) == record
    assert close_member_day(copy, DAY, MODEL, POLICY) == ssi and copy.ranks == ranks  # a re-close keeps them
    close_member_day(copy, DAY + 1, MODEL, POLICY)
    assert copy.ranks is None


def link(number: int, day: int, kind: EffectKind, other: str, second: int = 0) -> Effect:
    return Effect("m1", f"e{number}/a", kind, day_start(day) + 3600 + second, 0, None, other)


def test_connections_change_when_their_day_closes_in_event_order() -> None:
    ledger = new_ledger(POLICY)
    for number, (kind, other, second) in enumerate(
        [
            (EffectKind.CONNECTION_REMOVED, "m2", 20),  # removed after it was made, the same day
            (EffectKind.INVITE_ACCEPTED_BY_ME, "m2", 10),
            (EffectKind.MY_INVITE_ACCEPTED, "m3", 5),
            (EffectKind.MY_INVITE_ACCEPTED, "m1", 6),  # itself: not a connection
        ]
    ):
        absorb_effect(
            ledger, link(number, DAY, kind, other, second), DAY, late=False, model=MODEL, policy=POLICY
        )
    absorb_effect(
        ledger,
        link(9, DAY + 1, EffectKind.INVITE_ACCEPTED_BY_ME, "m4"),
        DAY + 1,
        late=False,
        model=MODEL,
        policy=POLICY,
    )
    assert ledger.connections.members == set()  # nothing closed yet
    close(ledger, DAY)
    assert ledger.connections.members == {"m3"}
    copy = decode_ledger(encode_ledger(ledger), POLICY)
    assert copy.connections == ledger.connections  # the open day's change too
    counted = (copy.connections.member_bytes, copy.connections.pending_bytes)
    assert counted == (ledger.connections.member_bytes, ledger.connections.pending_bytes) and counted[1] > 0
    close(copy, DAY + 1)
    assert copy.connections.members == {"m3", "m4"} and not copy.connections.pending
    # a decoded ledger re-encodes its unchanged connections as written, and its changed ones afresh
    again = decode_ledger(encode_ledger(copy), POLICY)
    assert encode_ledger(again) == encode_ledger(copy)
    assert decode_ledger(encode_ledger(again), POLICY).connections.members == {"m3", "m4"}
    assert Connections(set(copy.connections.members)).to_bytes() == copy.connections.to_bytes()


def test_connections_stay_within_their_byte_caps() -> None:
    from ssi_stream.ranking import connections as links

    ledger = new_ledger(POLICY)
    other = "\U0001f600" * 59  # with the 5-digit prefix, 64 characters of up to 4 bytes: the longest id
    offered, capped = 0, []
    for day in (DAY, DAY + 1, DAY + 2, DAY + 3):  # four full open days: past the ledger's bound
        for number in range(3_000):
            effect = link(
                day * 10_000 + number, day, EffectKind.INVITE_ACCEPTED_BY_ME, f"{number:05d}{other}"
            )
            offered += absorb_effect(
                ledger, effect, day, late=False, model=MODEL, policy=POLICY, on_capped=capped.append
            )
    assert offered == 12_000  # the effects count for the score,
    pending = ledger.connections
    assert pending.pending_bytes <= links.MAX_PENDING_BYTES  # not all for the network
    assert all(sum(map(links._size, changes)) <= links.MAX_DAY_BYTES for changes in pending.pending.values())
    kept = pending.pending_count()
    assert 0 < kept < 12_000
    dropped = [cap for cap in capped if cap != DEDUP_IDS]
    assert len(dropped) == 12_000 - kept and {links.CHANGES_PER_DAY, links.BACKLOG} == set(dropped)
    assert capped.count(DEDUP_IDS) == 12_000 - POLICY.max_entries  # ids forgotten to make room
    raw = encode_ledger(ledger)
    assert len(raw) < 1_000_000  # under Kafka's record limit
    for day in (DAY, DAY + 1, DAY + 2, DAY + 3):
        close(ledger, day)
    assert 0 < len(ledger.connections.members) <= kept
    assert ledger.connections.member_bytes <= links.MAX_CONNECTION_BYTES
    raw = encode_ledger(ledger)
    assert len(raw) < 1_000_000
    decoded = decode_ledger(raw, POLICY).connections
    assert decoded == ledger.connections
    assert (decoded.member_bytes, decoded.pending_bytes) == (
        ledger.connections.member_bytes,
        ledger.connections.pending_bytes,
    )


def test_a_day_keeps_its_smallest_changes_whatever_their_order() -> None:
    from ssi_stream.ranking.connections import CHANGES_PER_DAY, CONNECTIONS, LinkLimits

    limits = LinkLimits(connections=40, changes_per_day=50)
    effects = [link(n, DAY, EffectKind.MY_INVITE_ACCEPTED, f"m{n:04d}", second=n % 7) for n in range(120)]
    ledgers = []
    for order in (effects, effects[::-1], effects[1::2] + effects[::2]):
        ledger, capped = new_ledger(POLICY), []
        for effect in order:
            absorb_effect(
                ledger,
                effect,
                DAY,
                late=False,
                model=MODEL,
                policy=POLICY,
                links=limits,
                on_capped=capped.append,
            )
        assert capped == [CHANGES_PER_DAY] * 70
        ledgers.append(encode_ledger(ledger))
        close_member_day(ledger, DAY, MODEL, POLICY, limits, capped.append)
        assert capped[70:] == [CONNECTIONS] * 10
        assert len(ledger.connections.members) == 40
        ledgers.append(encode_ledger(ledger))
    assert len(set(ledgers[0::2])) == 1 and len(set(ledgers[1::2])) == 1  # byte for byte


def test_a_version_3_ledger_reads_with_no_emission_yet_and_v4_keeps_the_references() -> None:
    import struct

    from ssi_stream.ledger.member_ledger import Reference

    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=False, model=MODEL, policy=POLICY)
    close(ledger, DAY)
    current = encode_ledger(ledger)
    header = struct.unpack_from("<BIIHHHBIBB", current)
    v3 = struct.pack("<BIIHHHBIB", 3, *header[1:9]) + current[22:]
    old = decode_ledger(v3, POLICY)
    assert (old.acted, old.emitted_before, old.emitted_after) == (False, None, None)
    assert old.state == ledger.state and old.history.daily() == ledger.history.daily()
    before: Reference = (4127, 1000, 1027, -3, 2100, 1250, -1)
    ledger.acted, ledger.emitted_before, ledger.emitted_after = True, before, None
    copy = decode_ledger(encode_ledger(ledger), POLICY)
    assert (copy.acted, copy.emitted_before, copy.emitted_after) == (True, before, None)


def test_a_days_late_count_stops_where_the_stored_form_does_so_memory_and_storage_agree() -> None:
    from ssi_stream.ledger.member_ledger import MAX_LATE_COUNT

    ledger = new_ledger(POLICY)
    absorb_effect(ledger, effect(1), DAY, late=True, model=MODEL, policy=POLICY)
    ledger.late[DAY] = MAX_LATE_COUNT  # as after 65,535 late effects
    absorb_effect(ledger, effect(2), DAY, late=True, model=MODEL, policy=POLICY)
    assert ledger.late[DAY] == MAX_LATE_COUNT
    assert decode_ledger(encode_ledger(ledger), POLICY).late == ledger.late
