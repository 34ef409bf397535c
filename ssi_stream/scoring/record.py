"""The score records: the JSON-able dicts published for a member's closed days.

`score_record` writes version 2 (schemas/v2/records/score.json), what the stream and replay emit: codes
and numbers only, no prose; texts come from the message catalog where people read them::

    {"schema_version": 2, "member_id": str, "date": "YYYY-MM-DD", "ssi": float,
     "pillars": {pillar: float, ...}, "industry": str | None,
     "industry_rank": rank | None, "network_rank": rank | None, "model_version": str,
     "signals": {pillar: [[signal code, value, points], ...]},  # top signals that earn or cost points
     "next_steps": {pillar: [action code, gain]},               # pillars with a step worth taking
     "late_events": int,                                        # only when > 0
     "outcomes": {outcome type: {"recent": float, "total": int}}}  # only for members with outcomes

`daily_record` writes version 1 (schemas/v1/records/daily_score.json), English texts baked in::

    {"schema_version": 1, "member_id": str, "date": "YYYY-MM-DD", "ssi": float,
     "pillars": {pillar: float, ...}, "industry": str | None,
     "industry_rank": rank | None, "network_rank": rank | None,
     "model_version": str,
     "explanations": {pillar: {"points": float,
                               "top_signals": [{"signal": str, "value": float, "points": float, "text": str}],
                               "next_step": str}},
     "late_events": int}

where a rank is {"top_percent": float, "position": int, "population": int} (ssi_stream.ranking).

Numbers are rounded half-even to 2 decimals; `ssi` is the sum of the rounded pillars (so it matches
them to ±0.01) and every pillar is 0-25.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ssi_stream.scoring.card import ScoreCard
from ssi_stream.scoring.model import PILLARS, Model
from ssi_stream.scoring.state import MemberState

if TYPE_CHECKING:
    from ssi_stream.scoring.scored_day import ScoredDay

RECORD_SCHEMA_VERSION = 1
SCORE_RECORD_VERSION = 2
_EPOCH = date(1970, 1, 1)


def day_to_date(day: int) -> str:
    """A day number (days since 1970-01-01 UTC) as an ISO date."""
    return (_EPOCH + timedelta(days=day)).isoformat()


def round_for_record(value: float) -> float:
    """A number as records write it: `round(value, 2)`, with no negative zero."""
    rounded = float(round(value, 2))
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in records


def record_ssi(pillar_points: Iterable[float]) -> float:
    """The record's `ssi`: the sum of the rounded pillars, rounded."""
    return round_for_record(sum(round_for_record(points) for points in pillar_points))


def daily_record(
    member_id: str,
    day: int,
    state: MemberState,
    card: ScoreCard,
    model: Model,
    *,
    late_events: int = 0,
    industry_rank: dict[str, Any] | None = None,
    network_rank: dict[str, Any] | None = None,
) -> dict:
    """The record for `member_id` on `day`, from the card scored on the state after closing `day`."""
    pillars = {p.pillar: round_for_record(p.points) for p in card.pillars}
    return {
        "schema_version": RECORD_SCHEMA_VERSION,
        "member_id": member_id,
        "date": day_to_date(day),
        "ssi": record_ssi(p.points for p in card.pillars),
        "pillars": pillars,
        "industry": state.profile.industry,
        "industry_rank": industry_rank,
        "network_rank": network_rank,
        "model_version": model.version,
        "explanations": {
            p.pillar: {
                "points": pillars[p.pillar],
                "top_signals": [
                    {
                        "signal": c.signal,
                        "value": round_for_record(float(c.value)),
                        "points": round_for_record(c.points),
                        "text": c.text,
                    }
                    for c in p.top_signals
                ],
                "next_step": p.next_step,
            }
            for p in card.pillars
        },
        "late_events": late_events,
    }


def score_record(
    member_id: str,
    day: int,
    scored: ScoredDay,
    *,
    industry: str | None,
    model_version: str,
    late_events: int = 0,
    industry_rank: dict[str, Any] | None = None,
    network_rank: dict[str, Any] | None = None,
    outcomes: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The version 2 record of `member_id` on `day` (see the module docstring); `outcomes` are the
    member's CRM outcomes (`ledger.outcomes.OutcomeTally.summary`), written only when there are some."""
    pillars = {name: round_for_record(p.points) for name, p in zip(PILLARS, scored.pillars, strict=True)}
    signals = {
        name: [[code, _number(value), round_for_record(points)] for code, value, points in p.top]
        for name, p in zip(PILLARS, scored.pillars, strict=True)
        if p.top
    }
    next_steps = {
        name: [p.next_step, round_for_record(p.gain)]
        for name, p in zip(PILLARS, scored.pillars, strict=True)
        if p.next_step is not None
    }
    record: dict[str, Any] = {
        "schema_version": SCORE_RECORD_VERSION,
        "member_id": member_id,
        "date": day_to_date(day),
        "ssi": record_ssi(p.points for p in scored.pillars),
        "pillars": pillars,
        "industry": industry,
        "industry_rank": industry_rank,
        "network_rank": network_rank,
        "model_version": model_version,
        "signals": signals,
        "next_steps": next_steps,
    }
    if late_events:
        record["late_events"] = late_events
    if outcomes:
        record["outcomes"] = outcomes
    return record


def _number(value: float) -> float | int:
    """A value for a record: a whole number as an integer, anything else rounded to 2 decimals."""
    rounded = round_for_record(value)
    return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
