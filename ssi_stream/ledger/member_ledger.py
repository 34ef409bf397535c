"""One member's record as the engine keeps it: scoring state, absorbed ids, late counts, score history,
connections, the ranks of the last closed day and, for members with any, CRM outcomes (`outcomes`).

A day closes in two steps (docs/ranking.md): `close_member_day` folds the day into the state and returns
the member's SSI; once the day's ranks are known (`ranking.exchange`), `ranked_record` builds the daily
score record with them.

One value per member holds both the new state and the proof of what it contains (the recent effect
ids), so a single table write makes an effect count exactly once: a redelivered effect, whether an
upstream duplicate or a replay after a crash, is recognised and skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ssi_stream.ledger.outcomes import OutcomeTally
from ssi_stream.ledger.recent_ids import DEDUP_IDS, RecentIds
from ssi_stream.ranking.connections import DEFAULT_LIMITS, Capped, Connections, LinkLimits
from ssi_stream.ranking.exchange import DayRanks, MemberDay
from ssi_stream.ranking.standing import Standing
from ssi_stream.scoring.card import pillar_totals, score
from ssi_stream.scoring.codec import decode_state, encode_state
from ssi_stream.scoring.effects import Effect, EffectKind
from ssi_stream.scoring.model import Model
from ssi_stream.scoring.record import record_ssi, round_for_record, score_record
from ssi_stream.scoring.scored_day import ScoredDay, from_card
from ssi_stream.scoring.state import MemberState, Signal, absorb, close_day, has_history, new_state
from ssi_stream.timeline.days import day_of, day_start, iso_date
from ssi_stream.timeline.policy import DedupPolicy
from ssi_stream.trend.alerts import AlertPolicy, AlertState, evaluate_alerts
from ssi_stream.trend.history import ScoreHistory

_VERSION = 5
#: "changes": a record when the member acted or something a record says moved (the default); "daily":
#: one record per member and day.
EmitMode = Literal["changes", "daily"]
# version, state length, ids length, late entries, last close's late, history length (v2; v1 had none),
# the alert states before and after the last closed day (3 bits each), connections length and rank bits
# (v3; 1 ranked, 2 industry rank, 4 network rank; each rank follows the connections as two uint32)
_HEADER = struct.Struct("<BIIHHHBIBB")
#: v4: emission bits (1 acted on the last closed day, 2 and 4: a reference before / after it follows);
#: v5, the same header: emission bit 8 says an outcomes section follows the references (u16 length, then
#: `OutcomeTally.to_bytes`), so a ledger without outcomes is as long as in v4
_OUTCOMES_BIT = 8
_OUTCOMES_LENGTH = struct.Struct("<H")
_HEADER_V3 = struct.Struct("<BIIHHHBIB")
#: An emission reference: SSI and the four pillars in hundredths, the ranks' top_percent in hundredths
#: (-1: no rank).
_REFERENCE = struct.Struct("<7h")
_HEADER_V2 = struct.Struct("<BIIHHHB")
_HEADER_V1 = struct.Struct("<BIIHH")
_LATE = struct.Struct("<iH")  # day, count
#: A day's late effects are counted up to this (a record's `late_events` says at most this many).
MAX_LATE_COUNT = 0xFFFF
_RANK = struct.Struct("<II")  # position, population
#: The ranks a ledger written before ranking existed says its last record had.
_UNRANKED = DayRanks(None, None)


@dataclass(slots=True)
class MemberLedger:
    """A member's scoring state, the effect ids it absorbed recently, and its late effects per open day."""

    state: MemberState = field(default_factory=new_state)
    seen: RecentIds = field(default_factory=RecentIds)
    late: dict[int, int] = field(default_factory=dict)
    #: Late effects counted in the last closed day, so a redelivered close re-emits the same record.
    closed_late: int = 0
    #: The daily SSI of the last 26 weeks (the trend chart).
    history: ScoreHistory = field(default_factory=ScoreHistory)
    #: Alert state before and after the last closed day: "before" lets a re-emitted close raise the same.
    alerts_before: AlertState = field(default_factory=AlertState)
    alerts_after: AlertState = field(default_factory=AlertState)
    #: The member's connections (the network rank's group).
    connections: Connections = field(default_factory=Connections)
    #: The ranks of the last closed day; None until that day is ranked.
    ranks: DayRanks | None = None
    #: Whether the member acted (did something themselves) on the last closed day.
    acted: bool = False
    #: What the member's last emitted record said (`emission_reference`), as of before and after the last
    #: closed day: "before" decides whether that day's record is emitted, the same again after a crash.
    emitted_before: Reference | None = None
    emitted_after: Reference | None = None
    #: The member's CRM outcomes (decayed counts and totals); None until their first outcome.
    outcomes: OutcomeTally | None = None


#: An emitted record's SSI, pillars and ranks' top_percent, in hundredths (-1: no rank).
Reference = tuple[int, int, int, int, int, int, int]


def new_ledger(policy: DedupPolicy) -> MemberLedger:
    return MemberLedger(new_state(), RecentIds(max_entries=policy.max_entries))


def absorb_effect(
    ledger: MemberLedger,
    effect: Effect,
    day: int,
    *,
    late: bool,
    model: Model,
    policy: DedupPolicy,
    links: LinkLimits = DEFAULT_LIMITS,
    on_capped: Capped | None = None,
) -> bool:
    """Count `effect` in `day` unless this member absorbed it before; True if it counted.

    The check runs when `day` is less than `policy.horizon_days` after the effect's own day; an effect
    counted later than that is not checked here (the engine decides it against its partition's
    redelivery filter at the close of `day`, or counts it past every horizon: docs/events.md). A connection
    effect is kept for the network within `links` (`ranking.connections`); `on_capped` hears of each cap.
    """
    if day - day_of(effect.occurred_at) < policy.horizon_days:
        seen = ledger.seen
        full = len(seen) >= seen.max_entries
        if seen.seen_or_add(effect.effect_id, effect.occurred_at):
            return False
        if full and on_capped is not None:
            on_capped(DEDUP_IDS)  # an id forgotten (or not held) to make room
    absorb(ledger.state, effect, day, model)
    if on_capped is None:
        ledger.connections.offer(effect, day, links)
    else:
        ledger.connections.offer(effect, day, links, on_capped)
    if effect.kind is EffectKind.OUTCOME:  # counted in its own section: the state scores nothing of it
        if ledger.outcomes is None:
            ledger.outcomes = OutcomeTally()
        ledger.outcomes.count(effect, day)
    if late:  # at most what the stored form holds, so a ledger in memory and one read back agree
        ledger.late[day] = min(ledger.late.get(day, 0) + 1, MAX_LATE_COUNT)
    return True


def close_member_day(
    ledger: MemberLedger,
    day: int,
    model: Model,
    policy: DedupPolicy,
    links: LinkLimits = DEFAULT_LIMITS,
    on_capped: Capped | None = None,
) -> float | None:
    """Close `day` for this member and return its SSI (None before its history starts); its record
    follows from `ranked_record` once the day's ranks are known.

    Ids whose own day can no longer be checked (see `absorb_effect`) are forgotten: after closing `day`,
    every effect still to come counts in day + 1 or later, so older ids are done (`forget_before`).
    A close of the member's last closed day again (a worker re-reading its input after a crash) returns
    the same SSI and leaves the ledger as it was. Scores read closed days only, so effects absorbed
    since into later days do not change it.
    """
    state = ledger.state
    if not has_history(state, day):
        return None  # nothing before this day
    if state.last_closed is not None and day <= state.last_closed:
        if day < state.last_closed:
            return None  # older closes were ranked before the next day closed (see docs/ranking.md)
        return ledger.history.get(day)
    acted = acted_on(state, day)
    close_day(state, day, model)
    ssi = record_ssi(pillar_totals(state, model))
    finish_close(ledger, day, ssi, acted=acted, policy=policy, links=links, on_capped=on_capped)
    return ssi


def needs_close(ledger: MemberLedger, day: int) -> bool:
    """True if closing `day` changes this member: it has history by then and has not closed it yet."""
    state = ledger.state
    return has_history(state, day) and (state.last_closed is None or day > state.last_closed)


def acted_on(state: MemberState, day: int) -> bool:
    """True if the member did something themselves on open day `day` (read before the day closes)."""
    return any(o.day == day and o.counts[Signal.ACTIVE_DAYS] > 0 for o in state.open_days)


def finish_close(
    ledger: MemberLedger,
    day: int,
    ssi: float,
    *,
    acted: bool,
    policy: DedupPolicy,
    links: LinkLimits = DEFAULT_LIMITS,
    on_capped: Capped | None = None,
) -> None:
    """Everything but the scoring state that closing `day` changes, once the state is closed through it
    (by `close_day`, or by a partition's columnar close) and its SSI known. A day on which the member
    logged an outcome counts as a day they acted (its record is emitted)."""
    if ledger.outcomes is not None and ledger.outcomes.close(day):
        acted = True
    if on_capped is None:
        ledger.connections.close(day, links)
    else:
        ledger.connections.close(day, links, on_capped)
    ledger.seen.forget_before(forget_before(day, policy))
    ledger.closed_late = ledger.late.pop(day, 0)
    ledger.history.record(day, ssi)
    ledger.alerts_before = ledger.alerts_after
    ledger.emitted_before = ledger.emitted_after
    ledger.acted = acted
    ledger.ranks = None


def forget_before(day: int, policy: DedupPolicy) -> int:
    """The event time before which closing `day` forgets a member's ids: every effect still to come counts
    in day + 1 or later, so ids of days before day + 2 − horizon are done. With the redelivery filter they
    are kept one close longer: the partition's filter of own day X takes the ids at the close of
    X + horizon − 1 (`engine.target`), and a close done again after a crash must still find them."""
    return day_start(day + (1 if policy.filtered else 2) - policy.horizon_days)


def member_day(member_id: str, ledger: MemberLedger) -> MemberDay:
    """What the day's rank exchange needs of the member's last closed day."""
    ssi = ledger.history.get(ledger.state.last_closed) if ledger.state.last_closed is not None else None
    if ssi is None:
        raise ValueError(f"member {member_id!r} has no closed day with a score")
    return MemberDay(member_id, ssi, ledger.state.profile.industry, ledger.connections.members)


def rank_member(
    member_id: str,
    ledger: MemberLedger,
    model: Model,
    ranks: DayRanks,
    ssi: float,
    reference: Reference,
    scored: Callable[[], ScoredDay],
    *,
    emit: EmitMode,
    alerts: AlertPolicy,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Give the member's last closed day its ranks: its record if the emission rule emits one that day
    (`should_emit`; `ssi` is the day's record SSI, `reference` its `emission_reference`, `scored` gives
    its scored day), and its alerts. Done again after a crash, it decides and builds the same, byte for
    byte: it reads only what the day's close stored ("before" states)."""
    day = ledger.state.last_closed
    assert day is not None, "rank_member: no closed day"
    ledger.ranks = ranks
    record = None
    if emit == "daily" or should_emit(ledger, reference):
        record = ranked_record(member_id, ledger, model, ranks, scored())
        ledger.emitted_after = reference
    else:
        ledger.emitted_after = ledger.emitted_before
    return record, day_alerts(member_id, ledger, ssi, day, model.version, alerts)


def should_emit(ledger: MemberLedger, reference: Reference) -> bool:
    """The default emission rule: on the member's first scored day, on a day they acted, and when their
    SSI, a pillar or a rank's top_percent moved by at least 0.01 since their last emitted record."""
    return ledger.emitted_before is None or ledger.acted or reference != ledger.emitted_before


def emission_reference(ssi: float, pillars: Iterable[float], ranks: DayRanks) -> Reference:
    """What a record says that the emission rule compares, in hundredths (-1: no rank): its `ssi`, its
    rounded pillars (from the unrounded `pillars`) and its ranks' top_percent."""
    return (
        _hundredths(ssi),
        *(_hundredths(round_for_record(points)) for points in pillars),
        -1 if ranks.industry is None else _hundredths(ranks.industry.top_percent),
        -1 if ranks.network is None else _hundredths(ranks.network.top_percent),
    )  # type: ignore[return-value]


def ranked_record(
    member_id: str, ledger: MemberLedger, model: Model, ranks: DayRanks, scored: ScoredDay | None = None
) -> dict[str, Any]:
    """The score record of the member's last closed day, with its ranks (kept for `latest_record`).
    Built again after a crash, it is the same record byte for byte."""
    ledger.ranks = ranks
    record = latest_record(member_id, ledger, model, scored)
    assert record is not None, "ranked_record: no closed day"
    return record


def day_alerts(
    member_id: str, ledger: MemberLedger, ssi: float, day: int, model_version: str, policy: AlertPolicy
) -> list[dict[str, Any]]:
    """The alerts the member's last closed day (`day`, its record's `ssi`) raises; one per crossing
    (trend.alerts). Call it after every close: a re-emitted close gets the same alerts again."""
    ledger.alerts_after, alerts = evaluate_alerts(
        ledger.alerts_before,
        member_id=member_id,
        date=iso_date(day),
        ssi=ssi,
        week_ago=ledger.history.get(day - 7),
        policy=policy,
        model_version=model_version,
    )
    return alerts


def latest_record(
    member_id: str, ledger: MemberLedger, model: Model, scored: ScoredDay | None = None
) -> dict[str, Any] | None:
    """The record of the member's last closed day, byte for byte as the close would emit it (None
    before any, and while that day's ranks are not known yet); `scored` when the close scored it."""
    state, ranks = ledger.state, ledger.ranks
    if state.last_closed is None or ranks is None:
        return None
    if scored is None:
        scored = from_card(score(state, model))
    return score_record(
        member_id,
        state.last_closed,
        scored,
        industry=state.profile.industry,
        model_version=model.version,
        late_events=ledger.closed_late,
        industry_rank=None if ranks.industry is None else ranks.industry.as_record(),
        network_rank=None if ranks.network is None else ranks.network.as_record(),
        outcomes=None if ledger.outcomes is None else ledger.outcomes.summary(),
    )


def _hundredths(value: float) -> int:
    return round(value * 100)


def encode_ledger(ledger: MemberLedger) -> bytes:
    """The stored form of `ledger` (this version; see `_HEADER` for the layout)."""
    state = encode_state(ledger.state)
    ids = ledger.seen.to_bytes()
    history = ledger.history.to_compact_bytes()
    connections = ledger.connections.to_bytes()
    parts = [b"", state, ids]  # the header goes first, once the lengths are known
    late = ledger.late
    if late:
        parts += [_LATE.pack(day, min(count, MAX_LATE_COUNT)) for day, count in sorted(late.items())]
    parts += (history, connections)
    rank_bits, ranks = 0, ledger.ranks
    if ranks is not None:
        rank_bits = 1
        industry, network = ranks.industry, ranks.network
        if industry is not None:
            rank_bits |= 2
            parts.append(_RANK.pack(industry.position, industry.population))
        if network is not None:
            rank_bits |= 4
            parts.append(_RANK.pack(network.position, network.population))
    emission_bits = int(ledger.acted)
    for bit, reference in ((2, ledger.emitted_before), (4, ledger.emitted_after)):
        if reference is not None:
            emission_bits |= bit
            parts.append(_REFERENCE.pack(*reference))
    if ledger.outcomes is not None:
        outcomes = ledger.outcomes.to_bytes()
        emission_bits |= _OUTCOMES_BIT
        parts += (_OUTCOMES_LENGTH.pack(len(outcomes)), outcomes)
    parts[0] = _HEADER.pack(
        _VERSION,
        len(state),
        len(ids),
        len(late),
        min(ledger.closed_late, MAX_LATE_COUNT),
        len(history),
        _alert_bits(ledger.alerts_before) | _alert_bits(ledger.alerts_after) << 3,
        len(connections),
        rank_bits,
        emission_bits,
    )
    return b"".join(parts)


class UnreadableLedger(ValueError):
    """A stored ledger this code cannot read (an unknown version, cut short, corrupt)."""

    def __init__(self, member_id: str, problem: str) -> None:
        super().__init__(f"the ledger of member {member_id!r} cannot be read: {problem}")
        self.member_id = member_id


def read_ledger(member_id: str, raw: bytes, policy: DedupPolicy) -> MemberLedger:
    """`decode_ledger`, with any failure raised as `UnreadableLedger` naming the member."""
    try:
        return decode_ledger(raw, policy)
    except (ValueError, struct.error, IndexError, KeyError, TypeError, OverflowError) as exc:
        raise UnreadableLedger(member_id, f"{type(exc).__name__}: {exc}") from None


def decode_ledger(raw: bytes, policy: DedupPolicy) -> MemberLedger:
    """Read `encode_ledger` output: this version, or one written before ledgers kept outcomes (4),
    emission states (3), connections and ranks (2) or history (1); their last record was emitted
    without ranks."""
    version = raw[0] if raw else None
    connections_len, rank_bits, emission_bits = 0, 1, 0
    if version in (_VERSION, 4):
        header = _HEADER.unpack_from(raw)
        (_, state_len, ids_len, late_entries, closed_late, history_len, flags, connections_len, rank_bits) = (
            header[:-1]
        )
        emission_bits = header[-1]
        at = _HEADER.size
    elif version == 3:
        header = _HEADER_V3.unpack_from(raw)
        _, state_len, ids_len, late_entries, closed_late, history_len, flags, connections_len, rank_bits = (
            header
        )
        at = _HEADER_V3.size
    elif version == 2:
        _, state_len, ids_len, late_entries, closed_late, history_len, flags = _HEADER_V2.unpack_from(raw)
        at = _HEADER_V2.size
    elif version == 1:
        _, state_len, ids_len, late_entries, closed_late = _HEADER_V1.unpack_from(raw)
        history_len, flags, at = 0, 0, _HEADER_V1.size
    else:
        raise ValueError(
            f"member ledger version {version} is not supported (expected {_VERSION}, 4, 3, 2 or 1)"
        )
    state = decode_state(raw[at : at + state_len])
    at += state_len
    seen = RecentIds.from_bytes(raw[at : at + ids_len], max_entries=policy.max_entries)
    at += ids_len
    late = {}
    for _ in range(late_entries):
        day, count = _LATE.unpack_from(raw, at)
        late[day] = count
        at += _LATE.size
    history = ScoreHistory.from_compact_bytes(raw[at : at + history_len])
    at += history_len
    connections = Connections.from_bytes(raw[at : at + connections_len])
    at += connections_len
    ranks = None
    if rank_bits & 1:
        standings: list[Standing | None] = []
        for bit in (2, 4):
            if rank_bits & bit:
                position, population = _RANK.unpack_from(raw, at)
                if population == 0:  # Standing.of would divide by it: no ledger is written so
                    raise ValueError(f"a rank among 0 members (position {position})")
                standings.append(Standing.of(position, population))
                at += _RANK.size
            else:
                standings.append(None)
        ranks = DayRanks(*standings) if rank_bits != 1 else _UNRANKED
    references: list[Reference | None] = []
    for bit in (2, 4):
        if emission_bits & bit:
            references.append(_REFERENCE.unpack_from(raw, at))  # type: ignore[arg-type]
            at += _REFERENCE.size
        else:
            references.append(None)
    outcomes = None
    if emission_bits & _OUTCOMES_BIT and version == _VERSION:
        (outcomes_len,) = _OUTCOMES_LENGTH.unpack_from(raw, at)
        at += _OUTCOMES_LENGTH.size
        outcomes = OutcomeTally.from_bytes(raw[at : at + outcomes_len])
    before, after = _ALERT_STATES[flags & 7], _ALERT_STATES[flags >> 3 & 7]
    return MemberLedger(
        state,
        seen,
        late,
        closed_late,
        history,
        before,
        after,
        connections,
        ranks,
        bool(emission_bits & 1),
        *references,
        outcomes,
    )


def _alert_bits(alerts: AlertState) -> int:
    below = alerts.below
    return (0 if below is None else 3 if below else 1) | int(alerts.dropping) << 2


def _alert_state(bits: int) -> AlertState:
    return AlertState(bool(bits & 2) if bits & 1 else None, bool(bits & 4))


#: The alert state of each 3-bit code, built once (shared: an `AlertState` is immutable).
_ALERT_STATES = tuple(_alert_state(bits) for bits in range(8))
