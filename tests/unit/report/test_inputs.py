"""What the report reads, fast: a table that does not depend on the order members come in."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from ssi_stream.report.inputs import read_scores
from ssi_stream.scoring.model import PILLARS


def no_replay() -> Any:
    raise AssertionError("score records need no replay")


def record(member: str, date: str, ssi: float) -> bytes:
    pillars = dict.fromkeys(PILLARS, round(ssi / 4, 2))
    return orjson.dumps({"member_id": member, "date": date, "ssi": ssi, "pillars": pillars, "signals": {}})


def test_the_table_does_not_depend_on_the_order_members_come_in() -> None:
    lines = [record(f"m{m}", f"2026-03-0{day}", 10.0 * m + day) for m in (3, 1, 2) for day in (2, 3)]
    interleaved = [lines[i] for i in (2, 4, 0, 3, 1, 5)]  # each member's own records still in order
    first, _ = read_scores(lines, replay=no_replay)
    second, _ = read_scores(interleaved, replay=no_replay)
    assert first.member_ids == second.member_ids == ("m1", "m2", "m3")
    for column in ("member", "day", "ssi", "pillars", "components", "totals"):
        assert np.array_equal(getattr(first, column), getattr(second, column)), column
    assert list(first.ssi) == [12.0, 13.0, 22.0, 23.0, 32.0, 33.0]
