"""What the live demo shows: a pure rendering of the scores seen so far (no I/O here)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ssi_stream.catalog import KEEP_GOING, label

PILLAR_SHORT = (
    ("professional_brand", "brand"),
    ("find_right_people", "find"),
    ("engage_with_insights", "engage"),
    ("build_relationships", "build"),
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
    board: DemoBoard,
    *,
    events_sent: int,
    events_per_second: float,
    lag: int | None,
    urls: list[str],
    locale: str = "en",
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
        f"{'member':<8} {'ssi':>6} {'trend':>5} {'industry':>9} {'network':>7} "
        + " ".join(f"{short:>6}" for _, short in PILLAR_SHORT)
        + "  best next step",
    ]
    top = sorted(board.latest.values(), key=lambda r: (-r["ssi"], r["member_id"]))[:10]
    for record in top:
        trail = board.history[record["member_id"]]
        trend = trail[-1] - trail[0] if len(trail) > 1 else 0.0
        pillars = " ".join(f"{record['pillars'][name]:>6.2f}" for name, _ in PILLAR_SHORT)
        industry, network = record["industry_rank"], record["network_rank"]
        in_industry = f"top {industry['top_percent']:.3g}%" if industry else "-"
        in_network = f"{network['position']}/{network['population']}" if network else "-"
        lines.append(
            f"{record['member_id'][:8]:<8} {record['ssi']:>6.2f} {trend:>+5.1f} "
            f"{in_industry:>9} {in_network:>7} {pillars}  {best_next_step(record, locale)}"
        )
    lines += [
        "",
        "trend: SSI change over the member's last 8 records; industry: the member's top share of their",
        "industry; network: position among the member and their connections; brand, find, engage, build:",
        "the four pillars (0-25 each); best next step: the action that would raise the SSI most.",
    ]
    lines.append("")
    lines.extend(urls)
    return "\n".join(lines)


def best_next_step(record: dict, locale: str = "en") -> str:
    """The record's next step that gains the most points, as a short label in `locale` (at most 32
    characters), e.g. "Personalise your invitations"; the keep-going label when no step is worth it."""
    steps = record.get("next_steps") or {}
    if not steps:
        return label(locale, KEEP_GOING)
    code, _ = max(steps.values(), key=lambda step: (step[1], step[0]))
    return label(locale, code)
