"""What the live demo shows: a pure rendering of the scores seen so far (no I/O here)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

PILLAR_SHORT = (
    ("professional_brand", "brand"),
    ("find_right_people", "people"),
    ("engage_with_insights", "insights"),
    ("build_relationships", "relations"),
)


@dataclass(slots=True)
class DemoBoard:
    """Latest score per member plus rates, fed by the demo's consumer."""

    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, deque[float]] = field(default_factory=dict)
    records: int = 0
    newest_date: str = ""

    def add(self, record: dict[str, Any]) -> None:
        member = record["member_id"]
        self.latest[member] = record
        trail = self.history.get(member)
        if trail is None:
            trail = self.history[member] = deque(maxlen=8)
        trail.append(record["ssi"])
        self.records += 1
        self.newest_date = max(self.newest_date, record["date"])

    def bands(self) -> tuple[int, int, int]:
        """Members scoring 0–20, 21–69 and 70+ (LinkedIn's published bands)."""
        low = mid = high = 0
        for record in self.latest.values():
            ssi = record["ssi"]
            if ssi <= 20:
                low += 1
            elif ssi < 70:
                mid += 1
            else:
                high += 1
        return low, mid, high


def render(
    board: DemoBoard, *, events_sent: int, events_per_second: float, lag: int | None, urls: list[str]
) -> str:
    """The demo screen as text: totals, the score bands, and the top members with their ranks and pillars."""
    members = len(board.latest)
    low, mid, high = board.bands()
    share = (lambda n: f"{100 * n / members:4.1f}%") if members else (lambda n: "   -")
    lines = [
        "ssi-stream live demo — Ctrl-C to stop",
        f"events sent {events_sent:>10,}   {events_per_second:>8,.0f} events/s   "
        f"consumer lag {'?' if lag is None else f'{lag:,}'}",
        f"score records {board.records:>8,}   members scored {members:,}   "
        f"latest day {board.newest_date or '-'}",
        f"SSI bands: 0-20 {share(low)}   21-69 {share(mid)}   70+ {share(high)}",
        "",
        f"{'member':<10} {'ssi':>6} {'trend':>7} {'in industry':>17} {'in network':>10}  "
        + " ".join(f"{short:>9}" for _, short in PILLAR_SHORT)
        + "  next step",
    ]
    top = sorted(board.latest.values(), key=lambda r: (-r["ssi"], r["member_id"]))[:10]
    for record in top:
        trail = board.history[record["member_id"]]
        trend = trail[-1] - trail[0] if len(trail) > 1 else 0.0
        pillars = " ".join(f"{record['pillars'][name]:>9.2f}" for name, _ in PILLAR_SHORT)
        hint = best_next_step(record)
        industry, network = record["industry_rank"], record["network_rank"]
        in_industry = f"top {industry['top_percent']:g}% of {industry['population']}" if industry else "-"
        in_network = f"#{network['position']} of {network['population']}" if network else "-"
        lines.append(
            f"{record['member_id']:<10} {record['ssi']:>6.2f} {trend:>+7.2f} "
            f"{in_industry:>17} {in_network:>10}  {pillars}  {hint[:44]}"
        )
    lines.append("")
    lines.extend(urls)
    return "\n".join(lines)


def best_next_step(record: dict) -> str:
    """The record's next step that gains the most points, e.g. "post and answer (+1.2)"; "keep going"."""
    steps = record.get("next_steps") or {}
    if not steps:
        return "keep going"
    code, gain = max(steps.values(), key=lambda step: (step[1], step[0]))
    return f"{code.replace('_', ' ')} (+{gain:g})"
