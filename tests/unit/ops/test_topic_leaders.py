"""Creating topics waits until the broker describes every partition with a leader: a client that asks
for their metadata too early (Faust's consumer, when it subscribes) would leave them out."""

from __future__ import annotations

from typing import Any

import pytest

from ssi_stream.ops.topics import _wait_for_leaders


class SlowBroker:
    """Describes each topic without leaders for its first `late` answers (as a busy broker may)."""

    def __init__(self, late: int) -> None:
        self.late = late
        self.calls = 0

    def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        self.calls += 1
        leader = -1 if self.calls <= self.late else 1
        return [
            {
                "error_code": 0,
                "name": name,
                "partitions": [{"partition_index": i, "leader_id": leader} for i in range(4)],
            }
            for name in names
        ]


def test_it_returns_once_every_partition_has_a_leader() -> None:
    broker = SlowBroker(late=3)
    _wait_for_leaders(broker, {"t.events": 4, "t.effects": 4}, timeout=30)
    assert broker.calls == 4


def test_a_topic_still_without_leaders_after_the_timeout_is_an_error_naming_it() -> None:
    with pytest.raises(TimeoutError, match=r"t\.events"):
        _wait_for_leaders(SlowBroker(late=10**9), {"t.events": 4}, timeout=0.3)


def test_fewer_partitions_than_asked_for_is_not_done() -> None:
    broker = SlowBroker(late=0)
    with pytest.raises(TimeoutError):
        _wait_for_leaders(broker, {"t.events": 8}, timeout=0.3)
