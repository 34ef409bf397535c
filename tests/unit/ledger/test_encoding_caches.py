"""The parts of a ledger that keep their encoded bytes between writes (a member's connections, its score
history) are never stale: through a whole replay, every ledger written carries the bytes a fresh
encoding of those parts gives at that moment."""

from __future__ import annotations

from datetime import UTC, datetime

from ssi_stream.engine import MemoryTargetStore
from ssi_stream.ledger.member_ledger import MemberLedger
from ssi_stream.replay import Replay
from ssi_stream.scoring.model import load_model
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.timeline.policy import TimelineSettings


class CheckingStore(MemoryTargetStore):
    """Checks each written ledger's kept bytes against a fresh encoding of the same parts."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = self.with_connections = self.with_history = 0

    def put_ledger(self, member_id: str, ledger: MemberLedger) -> None:
        connections, history = ledger.connections, ledger.history
        kept = (connections.to_bytes(), history.to_compact_bytes())
        fresh = (
            connections._encode() if connections.members or connections.pending else b"",
            history._compacted(),
        )
        assert kept == fresh, member_id
        self.checked += 1
        self.with_connections += bool(kept[0])
        self.with_history += bool(kept[1])
        super().put_ledger(member_id, ledger)


def test_kept_connection_and_history_bytes_match_a_fresh_encoding_at_every_write() -> None:
    config = SimulationConfig(members=120, days=12, seed=3, duplicate_rate=0.05)
    replay = Replay(
        load_model(), timeline=TimelineSettings(partitions=2), now=datetime(2026, 12, 1, tzinfo=UTC)
    )
    replay.stores = [CheckingStore() for _ in replay.targets]
    for target, store in zip(replay.targets, replay.stores, strict=True):
        target.store = store
    lines = [(number, value) for number, (_, value) in enumerate(iter_encoded(config), start=1)]
    for start in range(0, len(lines), 300):
        replay.feed(lines[start : start + 300])
        for store in replay.stores:  # encode between writes too, as the worker's writes do
            for ledger in store.ledgers.values():
                ledger.connections.to_bytes()
                ledger.history.to_compact_bytes()
    replay.finish()
    stores = replay.stores
    assert sum(s.checked for s in stores) > 1000
    assert sum(s.with_connections for s in stores) > 100 and sum(s.with_history for s in stores) > 100
