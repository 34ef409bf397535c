"""The redelivery filter's memory, false-positive rate and changelog cost, beside the exact ids.

1. Memory and false positives: a `DayFilter` made for n ids (`size_for`) holds them in 24 to 48 bits
   each; the rate is measured with ids it never held, at the fill it is made for and when twice as many
   ids are added later. The exact ids a member ledger holds cost 12 bytes each (`RecentIds`).
2. Bytes written: the engine's target side over a store that counts the bytes of every write, one
   partition of members acting every day, batches of 500 effects; a share of redeliveries arrives 3-20
   days after its day. Per batch, the ledgers' bytes against the filter's and the deferred effects'; per
   day's close, the filter's.

    .venv/bin/python bench/redelivery_filter_bench.py [--members 5000] [--days 12]
"""

from __future__ import annotations

import argparse
import os
import random
from collections import defaultdict

from ssi_stream.engine import EffectMessage, MemoryTargetStore, TargetSide
from ssi_stream.ledger.member_ledger import MemberLedger, encode_ledger
from ssi_stream.ledger.redelivery_filter import BITS_PER_ID, CHUNK_BYTES, DayFilter, size_for
from ssi_stream.scoring.effects import Effect, EffectKind
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.days import day_start
from ssi_stream.timeline.policy import DedupPolicy, TimelineSettings
from ssi_stream.timeline.source_clock import Placement, SourceMark

DAY = 20_300


def false_positives(ids: int, probes: int = 200_000) -> None:
    print(
        f"{'ids made for':>12} {'ids added':>10} {'bytes':>10} {'bytes/id':>8}",
        f"{'false positives':>16} {'rate':>9}",
    )
    for added in (ids, 2 * ids):
        made = DayFilter.empty(size_for(ids))
        made.add(os.urandom(16) for _ in range(added))
        hits = sum(made.contains(os.urandom(16)) for _ in range(probes))
        size = made.chunks * CHUNK_BYTES
        print(
            f"{ids:>12,} {added:>10,} {size:>10,} {size / added:>8.2f}",
            f"{hits:>6,} / {probes:,} {hits / probes:>9.1e}",
        )
    print(f"(exact ids in the ledgers: 12 bytes each; the filter is made with >= {BITS_PER_ID} bits an id)\n")


class CountingStore(MemoryTargetStore):
    """A memory store that adds up the bytes each kind of write would put on the changelog."""

    def __init__(self) -> None:
        super().__init__()
        self.written: dict[str, int] = defaultdict(int)

    def put_ledger(self, member_id: str, ledger: MemberLedger) -> None:
        self.written["ledgers"] += len(encode_ledger(ledger))
        super().put_ledger(member_id, ledger)

    def put_filter_chunk(self, day: int, index: int, chunks: int, chunk: bytes) -> None:
        self.written["filter"] += len(chunk)
        super().put_filter_chunk(day, index, chunks, chunk)

    def put_deferred(self, day: int, index: int, chunk: bytes) -> None:
        self.written["deferred"] += len(chunk)
        super().put_deferred(day, index, chunk)


def feed(side: TargetSide, messages: list) -> None:
    """Take `messages`, and the day shares the side sends itself, until it sends nothing more."""
    while messages:
        steps = [*side.take(messages), side.drain()]
        messages = [message for step in steps for _, message in step.to_targets]


def changelog_cost(members: int, days: int, late_share: float) -> None:
    rng = random.Random(7)
    store = CountingStore()
    timeline = TimelineSettings(partitions=1, dedup=DedupPolicy())
    side = TargetSide(0, load_model(), timeline, store)
    sent: list[Effect] = []
    batches: list[dict[str, int]] = []
    closes: list[dict[str, int]] = []
    for offset, day in enumerate(range(DAY, DAY + days), start=1):
        effects = [
            EffectMessage(
                Effect(
                    f"m{rng.randrange(members):06d}",
                    f"d{day}-{n}/a",
                    EffectKind.POST_PUBLISHED,
                    day_start(day) + n % 86_400,
                ),
                Placement(day, False),
            )
            for n in range(members * 4)
        ]
        old = [e for e in sent if e.occurred_at < day_start(day - 2)]  # its own day 3+ days back
        for effect in rng.sample(old, int(len(effects) * late_share)) if old else []:
            effects.append(EffectMessage(effect, Placement(day, True)))  # redelivered 3+ days late
        rng.shuffle(effects)
        sent += [message.effect for message in effects if not message.placement.late]
        for start in range(0, len(effects), 500):
            before = dict(store.written)
            feed(side, effects[start : start + 500])
            batches.append({k: v - before.get(k, 0) for k, v in store.written.items()})
        before = dict(store.written)
        feed(side, [SourceMark(0, day, day + 1, False, offset, DAY)])
        closes.append({k: v - before.get(k, 0) for k, v in store.written.items()})
    kinds = ("ledgers", "filter", "deferred")
    per_batch = {k: sum(b.get(k, 0) for b in batches) / len(batches) for k in kinds}
    per_close = {k: sum(c.get(k, 0) for c in closes[3:]) / max(1, len(closes) - 3) for k in kinds}
    held = sum(len(chunks) * CHUNK_BYTES for chunks in store.filters.values())
    print(
        f"{members:,} members, {members * 4:,} effects a day, {late_share:.1%} redelivered 3+ days late,",
        days,
        "days",
    )
    print(
        f"per batch of 500 effects: ledgers {per_batch['ledgers']:,.0f} B,",
        f"filter {per_batch['filter']:,.0f} B,",
        f"deferred effects {per_batch['deferred']:,.0f} B",
    )
    print(
        f"per day's close (after the first 3): ledgers {per_close['ledgers']:,.0f} B,",
        f"filter {per_close['filter']:,.0f} B, deferred effects {per_close['deferred']:,.0f} B",
    )
    per_id = held / max(1, len(store.filters)) / (members * 4)
    print(f"filters held: {len(store.filters)} days, {held:,} B ({per_id:.2f} B per id)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--ids", type=int, default=100_000, help="ids a filter is made for (part 1)")
    args = parser.parse_args()
    false_positives(args.ids)
    changelog_cost(args.members, args.days, late_share=0.01)


if __name__ == "__main__":
    main()
