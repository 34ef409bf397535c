"""Which producer carries what a worker sends, and what each reader's flush waits for (no broker needed):
the ingest's whole output but table writes goes through the frame producer, and its flush waits for
that producer only; the absorber's flush waits for both (docs/streaming.md, "Frames")."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from ssi_stream.engine import Step
from ssi_stream.events.dead_letter import PayloadSource, dead_letter_record
from ssi_stream.events.decode import Rejected
from ssi_stream.events.rejection import RejectionCode
from ssi_stream.ops.settings import Settings
from ssi_stream.scoring.model import load_model
from ssi_stream.stream.topology import (
    EFFECTS_BACKLOG_PER_PARTITION,
    LIVE_EFFECTS_BACKLOG_PER_PARTITION,
    ScoringTopology,
)
from ssi_stream.timeline.partitioner import partition_for
from ssi_stream.timeline.source_clock import SourceMark


class FakeProducer:
    """Records each send and each flush; every send is delivered, or fails when its topic is `failing`."""

    def __init__(self, name: str, log: list[tuple[str, str, int | None]], failing: str | None = None) -> None:
        self.name, self.log, self.failing = name, log, failing
        self.partitions = Settings().partitions  # of every topic
        self.batches: list[tuple[str, int, list[tuple[bytes, bytes]]]] = []
        self.asked: list[str] = []  # the topics whose partitions were asked for

    def _future(self, topic: str) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if topic == self.failing:
            future.set_exception(RuntimeError(f"{topic} refused the write"))
        else:
            future.set_result(SimpleNamespace(offset=0))
        return future

    async def send(self, topic: str, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:  # both signatures
        at = 1 if self.name == "frames" else 2  # (value, partition, …) or Faust's (key, value, partition, …)
        partition = kwargs.get("partition", args[at] if len(args) > at else None)
        self.log.append((self.name, topic, partition))
        return self._future(topic)

    async def flush(self) -> None:
        self.log.append((self.name, "flush", None))

    # the aiokafka producer under Faust's (`_ensure_producer`): record batches, as table writes send them
    def _ensure_producer(self) -> FakeProducer:
        return self

    async def partitions_for(self, topic: str) -> set[int]:
        self.asked.append(topic)
        return set(range(self.partitions))

    def create_batch(self) -> FakeBatch:
        return FakeBatch()

    async def send_batch(self, batch: FakeBatch, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self.log.append((self.name, topic, partition))
        self.batches.append((topic, partition, list(batch)))
        return self._future(topic)


class FakeBatch(list):
    """An aiokafka batch builder that never fills."""

    def append(self, *, timestamp: Any, key: bytes, value: bytes, headers: list) -> object:
        super().append((key, value))
        return object()


def topology(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str | None = None) -> tuple[Any, list]:
    built, log, _ = topology_and_producer(tmp_path, monkeypatch, failing)
    return built, log


def topology_and_producer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str | None = None
) -> tuple[Any, list, FakeProducer]:
    settings = replace(Settings(), store="memory://", data_dir=str(tmp_path))
    built = ScoringTopology(settings, "127.0.0.1:9", load_model())
    log: list[tuple[str, str, int | None]] = []
    built.frames = FakeProducer("frames", log, failing)  # type: ignore[assignment]
    faust = FakeProducer("faust", log, failing)
    monkeypatch.setattr(built, "_send_table_writes", _nothing)
    monkeypatch.setattr(type(built.app), "producer", property(lambda app: faust))
    return built, log, faust


async def _nothing() -> None:
    return None


def a_place_step() -> Step:
    rejected = Rejected(RejectionCode.WRONG_KEY, None, "the record has no key")
    mark = SourceMark(source=0, closable=None, top_day=None, idle=False, offset=4)
    letter = dead_letter_record(
        b"{}", rejected, source=PayloadSource.kafka("ssi.events", 0, 3), rejected_at=datetime.now(UTC)
    )
    return Step(to_targets=[(1, mark), (0, mark)], dead_letters=[(b"m-1", letter)])


def test_the_ingest_sends_frames_and_dead_letters_on_the_frame_producer_and_waits_for_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, log = topology(tmp_path, monkeypatch)

    async def run() -> None:
        await built._deliver(a_place_step())
        await built._flush("place")

    asyncio.run(run())
    effects, dlq = built.effects_topic.get_topic_name(), built.dlq_topic.get_topic_name()
    assert log == [
        ("frames", effects, 0),
        ("frames", effects, 1),
        ("frames", dlq, None),
        ("frames", "flush", None),
    ]


def test_the_absorbers_flush_waits_for_both_producers_and_records_go_through_fausts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, log = topology(tmp_path, monkeypatch)
    scores = built.scores_topic.get_topic_name()
    home = partition_for("m-1", built.settings.partitions)

    async def run() -> None:
        await built._deliver(Step(records=[("m-1", {"ssi": 1.0})]), home)
        await built._flush("absorb")

    asyncio.run(run())
    assert log == [("faust", scores, home), ("faust", "flush", None), ("frames", "flush", None)]


@pytest.mark.parametrize("partitions", [None, 3], ids=["as-many-as-the-effects-topic", "three"])
def test_score_records_and_alerts_go_in_one_batch_a_partition_where_kafkas_partitioner_puts_each_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitions: int | None
) -> None:
    built, log, faust = topology_and_producer(tmp_path, monkeypatch)
    faust.partitions = partitions or built.settings.partitions
    members = [f"m-{index}" for index in range(40)]
    # a target side's members share its effects partition; with as many partitions, so do their records
    target = partition_for(members[0], built.settings.partitions)
    members = [m for m in members if partition_for(m, built.settings.partitions) == target]
    records = [(member, {"member_id": member, "ssi": float(i)}) for i, member in enumerate(members)]
    alerts = [(members[0], {"member_id": members[0], "kind": "drop"})]

    asyncio.run(built._deliver(Step(records=records, alerts=alerts), target))
    scores, alerts_topic = built.scores_topic.get_topic_name(), built.alerts_topic.get_topic_name()
    expected: dict[tuple[str, int], list[tuple[bytes, bytes]]] = {}
    for topic, keyed in ((scores, records), (alerts_topic, alerts)):
        for member, record in keyed:
            placed = expected.setdefault((topic, partition_for(member, faust.partitions)), [])
            placed.append((member.encode(), orjson.dumps(record)))
    assert {(topic, partition): batch for topic, partition, batch in faust.batches} == expected
    assert len(faust.batches) == len(expected), "one batch a topic partition, in the order sent"
    assert all(name == "faust" for name, _, _ in log)
    assert faust.asked == [scores, alerts_topic]  # each topic's own partition count
    if partitions is None:  # the side's own partition
        assert {partition for _, partition, _ in faust.batches} == {target}
    else:  # with another count, spread over the topic's partitions by key
        assert len({partition for _, partition, _ in faust.batches}) > 1


def test_a_dead_letter_that_fails_stops_the_ingest_at_its_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, _ = topology(tmp_path, monkeypatch, failing=Settings().dlq_topic)

    async def run() -> None:
        await built._deliver(a_place_step())
        await built._flush("place")

    with pytest.raises(RuntimeError, match="refused the write"):
        asyncio.run(run())


def test_the_backlog_counts_the_messages_written_and_not_absorbed_on_held_partitions_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, _ = topology(tmp_path, monkeypatch)
    built.absorber._reading = frozenset({0})  # this worker absorbs effects partition 0 only

    async def run() -> list[int]:
        loop = asyncio.get_running_loop()

        def delivered(offset: int) -> asyncio.Future[Any]:
            future: asyncio.Future[Any] = loop.create_future()
            future.set_result(SimpleNamespace(offset=offset))
            return future

        late: asyncio.Future[Any] = loop.create_future()  # partition 0's third frame, not delivered yet
        built._frames_sent = [
            (0, delivered(10), 300),
            (1, delivered(4), 999),  # another worker's partition
            (0, delivered(11), 200),
            (0, late, 50),
            (0, delivered(13), 70),  # after a frame not delivered yet: counted once that one is
        ]
        seen = [built._effects_backlog()]  # nothing absorbed here yet: no backlog to wait for
        built._absorbed[0] = 9
        seen.append(built._effects_backlog())  # 300 + 200 delivered, none absorbed
        built._absorbed[0] = 10
        seen.append(built._effects_backlog())
        late.set_result(SimpleNamespace(offset=12))
        seen.append(built._effects_backlog())  # 200 + 50 + 70
        built._absorbed[0] = 13
        seen.append(built._effects_backlog())
        assert 1 not in built._unabsorbed and 1 not in built._unabsorbed_messages  # nothing kept for 1
        assert not built._frames_sent and not built._unabsorbed[0] and built._unabsorbed_messages[0] == 0
        return seen

    assert asyncio.run(run()) == [0, 500, 200, 320, 0]


def test_a_rebalance_forgets_the_backlog_counted_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, _ = topology(tmp_path, monkeypatch)
    built.absorber._reading = frozenset({0, 1})

    async def run() -> list[int]:
        loop = asyncio.get_running_loop()
        sent = [loop.create_future(), loop.create_future()]
        for offset, future in enumerate(sent, start=10):
            future.set_result(SimpleNamespace(offset=offset))
        built._frames_sent = [(0, sent[0], 300), (1, sent[1], 400)]
        built._absorbed.update({0: 5, 1: 5})
        seen = [built._effects_backlog()]
        built._forget_caches()  # partition 1 moved to another worker
        built.absorber._reading = frozenset({0})
        built._absorbed[0] = 5  # absorbing again from the stored position
        seen.append(built._effects_backlog())
        assert not built._unabsorbed and not built._unabsorbed_messages
        return seen

    assert asyncio.run(run()) == [400, 0]


class Highwaters:
    """Stands in for the ingest consumer's `highwater`: `waiting` records past each fetch's last one."""

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting

    def highwater(self, tp: Any) -> int:
        return 100 + self.waiting


def test_backpressure_holds_a_backlogs_fetch_until_absorbed_and_lets_live_input_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, _ = topology(tmp_path, monkeypatch)
    built.absorber._reading = frozenset({0})
    built.ingest._reading = frozenset({0})
    fetch = {0: [SimpleNamespace(offset=99)]}  # the fetch ends at offset 100

    async def run(waiting: int, unabsorbed: int = EFFECTS_BACKLOG_PER_PARTITION + 1) -> bool:
        """Whether the fetch was let through before its effects partition's backlog was absorbed."""
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[Any] = loop.create_future()
        delivered.set_result(SimpleNamespace(offset=10))
        # a close keeps the absorber busy: more than the limit written and not absorbed
        built._frames_sent = [(0, delivered, unabsorbed)]
        built._absorbed[0] = 9
        built.ingest._consumer = Highwaters(waiting)
        absorbed = asyncio.Event()

        async def absorb() -> None:
            await asyncio.sleep(0.1)
            absorbed.set()
            built._absorbed[0] = 10

        absorbing = asyncio.ensure_future(absorb())
        await built._wait_for_absorb(fetch)
        through_first = not absorbed.is_set()
        assert not built._frames_sent  # counted either way: the list of frames sent does not grow
        await absorbing
        return through_first

    batch = built.settings.batch_max
    assert asyncio.run(run(waiting=batch))  # at most one batch behind: placed at once
    assert not asyncio.run(run(waiting=batch + 1))  # a backlog: it waits for the absorber
    # live input faster than the absorber: held too, past a larger bound
    assert not asyncio.run(run(waiting=0, unabsorbed=LIVE_EFFECTS_BACKLOG_PER_PARTITION + 1))
