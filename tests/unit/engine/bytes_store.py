"""A target store for tests that keeps ledgers as the stream's table does: as their stored bytes."""

from __future__ import annotations

from collections.abc import Iterable

from ssi_stream.engine import MemoryTargetStore
from ssi_stream.ledger.member_ledger import MemberLedger, decode_ledger, encode_ledger
from ssi_stream.timeline.policy import DedupPolicy


class BytesTargetStore(MemoryTargetStore):
    """A partition's ledgers kept as `encode_ledger` bytes: a change the side has not written is not in
    the store, and every read decodes a fresh ledger."""

    def __init__(self, dedup: DedupPolicy) -> None:
        super().__init__()
        self.dedup = dedup
        self.stored: dict[str, bytes] = {}

    def ledger(self, member_id: str) -> MemberLedger | None:
        raw = self.stored.get(member_id)
        return None if raw is None else decode_ledger(raw, self.dedup)

    def put_ledger(self, member_id: str, ledger: MemberLedger) -> None:
        self.stored[member_id] = encode_ledger(ledger)

    def member_ids(self) -> Iterable[str]:
        return self.stored.keys()
