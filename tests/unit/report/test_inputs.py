"""What the report reads, fast: where a bad line is named, score records only from a topic, and a table
that does not depend on the order members come in."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from ssi_stream.report.inputs import FILE, InputError, LineSource, read_scores
from ssi_stream.scoring.model import PILLARS

TOPIC = LineSource(unit="records of t", locate="the record at offset {}".format, events=False)


def no_replay() -> Any:
    raise AssertionError("score records need no replay")


def record(member: str, date: str, ssi: float) -> bytes:
    pillars = dict.fromkeys(PILLARS, round(ssi / 4, 2))
    return orjson.dumps({"member_id": member, "date": date, "ssi": ssi, "pillars": pillars, "signals": {}})


EVENT = orjson.dumps({"event_id": "e1", "type": "post_published", "member_id": "m1"})


@pytest.mark.parametrize(
    ("lines", "source", "complaint"),
    [
        ([record("m1", "2026-03-02", 10.0), b"{oops"], FILE, "line 2 is not JSON"),
        ([record("m1", "2026-03-02", 10.0), b"{oops"], TOPIC, "the record at offset 2 is not JSON"),
        ([b"[1]"], TOPIC, "the record at offset 1 is neither a score record"),
        ([record("m1", "2026-03-02", 10.0), EVENT], TOPIC, "the record at offset 2 is not a score record"),
        ([EVENT], TOPIC, "the record at offset 1 is an event, not a score record"),
    ],
)
def test_a_line_the_report_cannot_use_is_named_as_its_source_names_it(
    lines: list[bytes], source: LineSource, complaint: str
) -> None:
    with pytest.raises(InputError) as error:
        read_scores(lines, replay=no_replay, source=source)
    assert str(error.value).startswith(complaint)


def test_the_summary_names_what_was_read() -> None:
    _, summary = read_scores([record("m1", "2026-03-02", 10.0)] * 2, replay=no_replay, source=TOPIC)
    assert summary.text().startswith("report: 2 records of t, 2 score records of 1 members read in ")


def test_the_table_does_not_depend_on_the_order_members_come_in() -> None:
    lines = [record(f"m{m}", f"2026-03-0{day}", 10.0 * m + day) for m in (3, 1, 2) for day in (2, 3)]
    interleaved = [lines[i] for i in (2, 4, 0, 3, 1, 5)]  # each member's own records still in order
    first, _ = read_scores(lines, replay=no_replay)
    second, _ = read_scores(interleaved, replay=no_replay)
    assert first.member_ids == second.member_ids == ("m1", "m2", "m3")
    for column in ("member", "day", "ssi", "pillars", "components", "totals"):
        assert np.array_equal(getattr(first, column), getattr(second, column)), column
    assert list(first.ssi) == [12.0, 13.0, 22.0, 23.0, 32.0, 33.0]
