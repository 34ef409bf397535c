"""Score alerts: one per crossing, not one per day (schemas/v1/records/alert.json).

- `below_threshold` when the SSI falls under the threshold (default 70, the level practitioners use to
  flag a salesperson's activity) after being at or above it; `recovered` when it climbs back.
- `weekly_drop` when the SSI is more than `weekly_drop_points` lower than 7 days before; it re-arms once
  the week-over-week drop is back within the limit.
A member's first score sets the state without an alert: nobody "fell" below a threshold they never met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    threshold: float = 70.0
    weekly_drop_points: float = 10.0


@dataclass(frozen=True, slots=True)
class AlertState:
    """What the member's last score said: below the threshold (None before any score), dropping."""

    below: bool | None = None
    dropping: bool = False


def evaluate_alerts(
    state: AlertState,
    *,
    member_id: str,
    date: str,
    ssi: float,
    week_ago: float | None,
    policy: AlertPolicy,
    model_version: str,
) -> tuple[AlertState, list[dict[str, Any]]]:
    """The member's new alert state and the alerts this day's score raises."""
    base = {
        "member_id": member_id,
        "date": date,
        "ssi": ssi,
        "model_version": model_version,
        "schema_version": 1,
    }
    alerts: list[dict[str, Any]] = []
    below = ssi < policy.threshold
    if state.below is False and below:
        alerts.append({**base, "kind": "below_threshold", "threshold": policy.threshold})
    elif state.below is True and not below:
        alerts.append({**base, "kind": "recovered", "threshold": policy.threshold})
    drop = 0.0 if week_ago is None else round(week_ago - ssi, 2)
    dropping = drop > policy.weekly_drop_points
    if dropping and not state.dropping:
        alerts.append({**base, "kind": "weekly_drop", "drop": drop})
    return AlertState(below, dropping), alerts
