"""A score request for a member whose day just closed waits briefly for the day's ranks instead of
answering 503 at once (`stream.views.ranked`)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ssi_stream.stream.views import ranked

LEDGER: Any = object()  # the reader's ledger: passed through untouched
RECORD = {"member_id": "m-1", "ssi": 42.0}


class Reader:
    """Answers `pending` times that the ranks are awaited, then `final`."""

    def __init__(self, pending: int, final: Any) -> None:
        self.pending, self.final, self.calls = pending, final, 0

    def __call__(self) -> Any:
        self.calls += 1
        return (LEDGER, None) if self.calls <= self.pending else self.final


def test_the_record_that_arrives_while_it_waits_is_the_answer() -> None:
    reader = Reader(3, (LEDGER, RECORD))
    assert asyncio.run(ranked(reader, wait=30.0, poll=0.001)) == (LEDGER, RECORD)
    assert reader.calls == 4


def test_it_gives_up_after_the_wait_and_says_the_ranks_are_still_awaited() -> None:
    reader = Reader(10**9, (LEDGER, RECORD))
    assert asyncio.run(ranked(reader, wait=0.05, poll=0.001)) == (LEDGER, None)
    assert reader.calls > 1


def test_an_answer_that_is_not_a_ledger_is_returned_at_once() -> None:
    missing = web.Response(status=404)
    reader = Reader(0, missing)
    assert asyncio.run(ranked(reader, wait=30.0, poll=0.001)) is missing
    assert reader.calls == 1


def test_a_record_ready_at_once_costs_one_read() -> None:
    reader = Reader(0, (LEDGER, RECORD))
    assert asyncio.run(ranked(reader, wait=30.0, poll=30.0)) == (LEDGER, RECORD)
    assert reader.calls == 1
