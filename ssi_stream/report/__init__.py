"""`ssi-stream report`: does the score predict selling? Outcomes after each score, measured.

`inputs.read_scores` turns score records (or an event log, replayed) into a `scores.ScoreTable`;
`measure` observes every member on the anchor days and `analysis.analyse` computes every figure (bands,
the leaders' lift, pillar quartiles, the calibration views) with bootstrap intervals; `html.render_html`
draws them (matplotlib, optional). Pure but for the reading. docs/outcomes.md shows a report.
"""

from __future__ import annotations

from typing import Any

from ssi_stream.report.activity import ActivityCounter
from ssi_stream.report.analysis import VOLUME_DAYS, ReportOptions, analyse, anchors, observe
from ssi_stream.report.scores import ScoreTable

__all__ = ["ActivityCounter", "ReportOptions", "ScoreTable", "activity_days", "measure"]


def activity_days(table: ScoreTable, options: ReportOptions) -> tuple[int, int]:
    """The days whose activity the report reads (the `VOLUME_DAYS` up to each anchor); ValueError when
    the scores leave no whole window."""
    days = anchors(table, options)
    return days[0] - VOLUME_DAYS + 1, days[-1]


def measure(
    table: ScoreTable, options: ReportOptions, activity: ActivityCounter | None = None
) -> dict[str, Any]:
    """The report's figures for `table` (with each member's activity volume, when `activity` is given)."""
    volume = None
    if activity is not None:

        def volume(members: Any, day: int) -> Any:
            ids = [table.member_ids[member] for member in members]
            return activity.counts(ids, day - VOLUME_DAYS + 1, day)

    return analyse(observe(table, options, volume), table.member_ids, options)
