"""The daily score record: the JSON-able dict published for each member with history, per closed day.

Shape (schemas/v1/records/daily_score.json is written from it)::

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
from typing import Any

from ssi_stream.scoring.card import ScoreCard
from ssi_stream.scoring.model import Model
from ssi_stream.scoring.state import MemberState

RECORD_SCHEMA_VERSION = 1
_EPOCH = date(1970, 1, 1)


def day_to_date(day: int) -> str:
    """A day number (days since 1970-01-01 UTC) as an ISO date."""
    return (_EPOCH + timedelta(days=day)).isoformat()


def _round(value: float) -> float:
    rounded = float(round(value, 2))
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in records


def record_ssi(pillar_points: Iterable[float]) -> float:
    """The record's `ssi`: the sum of the rounded pillars, rounded."""
    return _round(sum(_round(points) for points in pillar_points))


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
    pillars = {p.pillar: _round(p.points) for p in card.pillars}
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
                        "value": _round(float(c.value)),
                        "points": _round(c.points),
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
