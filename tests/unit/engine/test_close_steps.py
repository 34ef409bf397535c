"""A day's close and its rank hand control back to the driver every `MEMBERS_PER_STEP` members (the
worker's event loop runs its other reader meanwhile), and what they produce does not depend on it."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import patch

import orjson
import pytest

from ssi_stream.engine import MemoryTargetStore, TargetSide
from ssi_stream.engine import target as target_module
from ssi_stream.ledger.member_ledger import decode_ledger, encode_ledger
from ssi_stream.replay import Replay
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings
from ssi_stream.timeline.source_clock import SourceMark

MODEL = load_model()
TIMELINE = TimelineSettings(partitions=1)


@pytest.fixture(scope="module")
def population() -> tuple[dict[str, bytes], int]:
    """The stored ledgers of 60 simulated members before their last day closes, and that day."""
    replay = Replay(MODEL, timeline=TIMELINE, now=datetime(2100, 1, 1, tzinfo=UTC))
    log = iter_encoded(SimulationConfig(members=60, days=6, seed=4))
    replay.feed([(n, raw) for n, (_, raw) in enumerate(log, start=1)])
    ledgers = {member_id: encode_ledger(ledger) for member_id, ledger in replay.ledgers()}
    day = max(o.day for _, ledger in replay.ledgers() for o in ledger.state.open_days)
    return ledgers, day


def close_and_rank(ledgers: dict[str, bytes], day: int) -> tuple[list[tuple[str, int]], dict[str, bytes]]:
    """Close and rank `day` on one partition: per step, what it holds ("close" steps until the shares,
    then "rank" with its records), and the stored ledgers after."""
    store = MemoryTargetStore()
    for member_id, raw in ledgers.items():
        store.put_ledger(member_id, decode_ledger(raw, TIMELINE.dedup))
    side = TargetSide(0, MODEL, TIMELINE, store)
    side.gate.observe(SourceMark(0, day - 1, day, False, 0, day - 5))
    side.gate.closed(day - 1)
    side.gate.ranked(day - 1)
    steps: list[tuple[str, int]] = []
    shares = []
    for step in side.take([SourceMark(0, day, day + 1, False, 1, day - 5)]):
        shares += [message for _, message in step.to_targets]
        steps.append(("close", len(step.to_targets)))
    records = []
    for step in side.take(shares):
        records += [orjson.dumps(record) for _, record in step.records]
        steps.append(("rank", len(step.records)))
    records += [orjson.dumps(record) for _, record in side.drain().records]
    assert side.gate.ranked_through == day
    stored = {member_id: encode_ledger(ledger) for member_id, ledger in store.ledgers.items()}
    return steps, {"records": b"\n".join(records), **stored}


def test_the_close_and_the_rank_yield_every_few_members_with_the_same_result(
    population: tuple[dict[str, bytes], int],
) -> None:
    ledgers, day = population
    _, whole = close_and_rank(ledgers, day)
    with patch.object(target_module, "MEMBERS_PER_STEP", 7):
        steps, stepped = close_and_rank(ledgers, day)
    assert stepped == whole  # the same ledgers and the same records, byte for byte
    closing = [held for kind, held in steps if kind == "close"]
    ranking = [held for kind, held in steps if kind == "rank"]
    # 60 members, a step every 7: at least 8 during the close (the shares come in the last) ...
    assert len(closing) >= 60 // 7 and closing[-1] > 0 and not any(closing[:-1])
    # ... and the records in at least 8 steps of at most 7 each
    assert sum(1 for held in ranking if held) >= 60 // 7
    assert max(ranking) <= 7
    assert whole["records"].count(b"\n") + 1 == sum(ranking)
