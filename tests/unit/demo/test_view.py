"""The demo board: fits a 100-column terminal, explains its columns, and names each member's best next step
in the board's language."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import orjson

from ssi_stream.demo.view import DemoBoard, best_next_step, render
from ssi_stream.replay import replay_log
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings


def board() -> DemoBoard:
    log = b"".join(raw + b"\n" for _, raw in iter_encoded(SimulationConfig(members=200, days=14, seed=4)))
    output = io.BytesIO()
    replay_log(
        io.BytesIO(log),
        output,
        model=load_model(),
        timeline=TimelineSettings(),
        now=datetime(2100, 1, 1, tzinfo=UTC),
    )
    shown = DemoBoard()
    for line in output.getvalue().splitlines():
        shown.add(orjson.loads(line))
    return shown


def test_the_board_fits_100_columns_and_explains_its_columns_in_two_languages() -> None:
    shown = board()
    urls = ["metrics  http://127.0.0.1:6066/metrics"]
    for locale in ("en", "it"):
        screen = render(shown, events_sent=12345, events_per_second=987.0, lag=3, urls=urls, locale=locale)
        lines = screen.splitlines()
        assert max(len(line) for line in lines) <= 100, max(lines, key=len)
        assert any(line.startswith("trend:") for line in lines)
        assert urls[0] in lines
    top = sorted(shown.latest.values(), key=lambda r: (-r["ssi"], r["member_id"]))[:10]
    steps = {best_next_step(record) for record in top}
    assert len(steps) > 1, "the top members get different next steps"
    assert best_next_step(top[0], "it") != best_next_step(top[0], "en")
