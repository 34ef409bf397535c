"""A day's close and its rank hand control back to the driver every `MEMBERS_PER_STEP` members (the
worker's event loop runs its other reader meanwhile), and what they produce does not depend on it."""

from __future__ import annotations

import gc
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
from tests.unit.engine.bytes_store import BytesTargetStore

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


def side_before_close(store: MemoryTargetStore, ledgers: dict[str, bytes], day: int) -> TargetSide:
    """A side of one partition over `store`, filled with `ledgers`, the day before `day` ranked."""
    for member_id, raw in ledgers.items():
        store.put_ledger(member_id, decode_ledger(raw, TIMELINE.dedup))
    side = TargetSide(0, MODEL, TIMELINE, store)
    side.gate.observe(SourceMark(0, day - 1, day, False, 0, day - 5))
    side.gate.closed(day - 1)
    side.gate.ranked(day - 1)
    return side


def close_and_rank(ledgers: dict[str, bytes], day: int) -> tuple[list[tuple[str, int]], dict[str, bytes]]:
    """Close and rank `day` on one partition: per step, what it holds ("close" steps until the shares,
    then "rank" with its records), and the stored ledgers after."""
    store = MemoryTargetStore()
    side = side_before_close(store, ledgers, day)
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


def crashed_close_and_rank(
    ledgers: dict[str, bytes], day: int, crash_in: str, after: int
) -> tuple[set[bytes], dict[str, bytes]]:
    """Close and rank `day` on a store that keeps only what was written, with a crash after `after`
    steps of the close or of the rank (`crash_in`): a new side on the store takes that input again.
    Returns every record delivered (some twice) and the store's ledgers and filters after."""
    store = BytesTargetStore(TIMELINE.dedup)
    side = side_before_close(store, ledgers, day)
    store.put_gate(side.gate.to_bytes())
    records: set[bytes] = set()

    def take(batch: list, crash: bool) -> list:
        nonlocal side
        sent = []
        steps = side.take(batch)
        for count, step in enumerate(steps):
            if crash and count == after:
                steps.close()
                side = TargetSide(0, MODEL, TIMELINE, store)  # what was not written went with the process
                return sent + take(batch, crash=False)
            sent += [message for _, message in step.to_targets]
            records.update(orjson.dumps(record) for _, record in step.records)
        step = side.drain()
        records.update(orjson.dumps(record) for _, record in step.records)
        return sent + [message for _, message in step.to_targets]

    shares = take([SourceMark(0, day, day + 1, False, 1, day - 5)], crash=crash_in == "close")
    take(shares, crash=crash_in == "rank")
    assert side.gate.ranked_through == day
    kept = {member_id: store.stored[member_id] for member_id in sorted(store.stored)}
    filters = {f"filter {d}": b"".join(store.filter_chunks(d) or []) for d in range(day - 30, day + 1)}
    return records, {**kept, **filters}


def test_a_crash_after_any_step_of_a_close_or_a_rank_ends_with_the_same_state_and_records(
    population: tuple[dict[str, bytes], int],
) -> None:
    """Every crash point: what the steps before it wrote is kept, a new side takes the input again, and
    the ledgers, the redelivery filters and the records (some sent twice) are those of no crash."""
    ledgers, day = population
    with patch.object(target_module, "MEMBERS_PER_STEP", 7):
        expected_records, expected_state = crashed_close_and_rank(ledgers, day, "none", 0)
        steps, _ = close_and_rank(ledgers, day)
        assert any(expected_state[f"filter {d}"] for d in range(day - 30, day + 1))  # ids were filtered
        for crash_in in ("close", "rank"):
            for after in range(sum(1 for kind, _ in steps if kind == crash_in)):
                records, state = crashed_close_and_rank(ledgers, day, crash_in, after)
                assert state == expected_state, (crash_in, after)
                assert records == expected_records, (crash_in, after)


def test_ledgers_are_read_for_the_close_and_the_rank_with_the_collector_paused_and_it_runs_again_after(
    population: tuple[dict[str, bytes], int],
) -> None:
    """A cyclic collection while a partition's ledgers are read walks every ledger read so far: at 100k
    members one such stretch of the rank took ~1 s (BENCHMARKS.md, Session 16)."""
    ledgers, day = population
    collector: list[bool] = []

    class WatchedStore(MemoryTargetStore):
        def ledger(self, member_id: str):  # type: ignore[no-untyped-def]
            collector.append(gc.isenabled())
            return super().ledger(member_id)

    store = WatchedStore()
    side = side_before_close(store, ledgers, day)
    assert gc.isenabled()
    shares = [
        message
        for step in side.take([SourceMark(0, day, day + 1, False, 1, day - 5)])
        for _, message in step.to_targets
    ]
    closing = len(collector)
    for _ in side.take(shares):
        pass
    assert side.gate.ranked_through == day
    assert closing >= len(ledgers) and len(collector) >= 2 * len(ledgers)  # both read every ledger
    assert not any(collector), "a ledger was read with the collector running"
    assert gc.isenabled()
