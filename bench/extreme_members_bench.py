"""Ledger size and absorb cost of extreme members, beside an ordinary member in the same run.

Each row builds one member's ledger through the engine's own `absorb_effect` / `close_member_day` and
prints its encoded size (what one changelog write carries), the bound docs/ranking.md states, and the
cost per effect absorbed:

- an ordinary member (a few effects a day for 30 days): the baseline;
- a hub that gained 20,000 connections over 20 days (1,000 a day);
- the same hub with every day of a backlog open at once (changes pending for N days, not yet closed);
- a member sending 50,000 invitations in one day (the dedup set at its cap);
- the worst case the caps allow: the connection ids at their cap, every open day full of changes with
  the longest ids, the dedup set full.

    .venv/bin/python bench/extreme_members_bench.py [--open-days 6]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

from ssi_stream.ledger.member_ledger import (
    MemberLedger,
    absorb_effect,
    close_member_day,
    encode_ledger,
    new_ledger,
)
from ssi_stream.ranking import connections as links
from ssi_stream.scoring.effects import Effect, EffectKind
from ssi_stream.scoring.model import load_model
from ssi_stream.timeline.days import day_start
from ssi_stream.timeline.policy import DedupPolicy

MODEL = load_model()
POLICY = DedupPolicy()
DAY = 20_300
#: Kafka's default record limit (the producer's max.request.size).
KAFKA_LIMIT = 1_048_576


def ordinary(days: int = 30) -> Iterator[tuple[int, Effect]]:
    for day in range(DAY, DAY + days):
        for n in range(6):
            yield (
                day,
                Effect("m-ordinary", f"{day}-{n}/a", EffectKind.POST_PUBLISHED, day_start(day) + n * 3600),
            )


def hub_links(days: int, per_day: int, other: str = "urn:li:person:{:07d}") -> Iterator[tuple[int, Effect]]:
    for day in range(DAY, DAY + days):
        for n in range(per_day):
            at = day_start(day) + (n * 86_400) // per_day
            number = (day - DAY) * per_day + n
            effect_id = f"00000000-0000-4000-8000-{number:012d}/b"
            yield (
                day,
                Effect("hub", effect_id, EffectKind.MY_INVITE_ACCEPTED, at, 0, None, other.format(number)),
            )


def flood(invitations: int = 50_000) -> Iterator[tuple[int, Effect]]:
    for n in range(invitations):
        at = day_start(DAY) + (n * 86_400) // invitations
        yield DAY, Effect("flood", f"invite-{n:06d}/a", EffectKind.INVITE_SENT, at)


def build(
    effects: Iterator[tuple[int, Effect]], *, close_each_day: bool
) -> tuple[MemberLedger, float, int, int]:
    """The ledger, seconds spent absorbing, effects absorbed, things capped."""
    ledger, capped = new_ledger(POLICY), []
    absorbed, seconds, open_day = 0, 0.0, None
    for day, effect in effects:
        if close_each_day and open_day is not None and day != open_day:
            close_member_day(ledger, open_day, MODEL, POLICY, on_capped=capped.append)
        open_day = day
        started = time.perf_counter()
        absorb_effect(ledger, effect, day, late=False, model=MODEL, policy=POLICY, on_capped=capped.append)
        seconds += time.perf_counter() - started
        absorbed += 1
    if close_each_day and open_day is not None:
        close_member_day(ledger, open_day, MODEL, POLICY, on_capped=capped.append)
    return ledger, seconds, absorbed, len(capped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-days", type=int, default=6, help="days of a backlog open at once")
    args = parser.parse_args()
    longest = "\U0001f600" * 57 + "{:07d}"  # 64 characters, 235 bytes: the longest id the contract allows
    rows = [
        ("ordinary member, 30 days", ordinary(), True),
        ("hub: 20,000 connections over 20 days", hub_links(20, 1_000), True),
        (
            f"hub: {args.open_days} days open at once, 2,000 changes a day",
            hub_links(args.open_days, 2_000),
            False,
        ),
        ("50,000 invitations in one day", flood(), True),
        (
            f"worst case: {args.open_days} open days of the longest ids",
            hub_links(args.open_days, 2_000, longest),
            False,
        ),
    ]
    print(
        f"{'member':<52} {'ledger bytes':>12} {'connections':>11} {'pending':>8} {'capped':>7}",
        f"{'µs/effect':>9}",
    )
    for name, effects, close_each_day in rows:
        ledger, seconds, absorbed, capped = build(effects, close_each_day=close_each_day)
        if name.startswith("worst"):  # on top of the hub's 20,000 closed connections and a full dedup set
            hub, _, _, _ = build(hub_links(20, 1_000, longest[:-7] + "{:07d}"), close_each_day=True)
            ledger.connections.members, ledger.connections.member_bytes = (
                hub.connections.members,
                hub.connections.member_bytes,
            )
            for n in range(POLICY.max_entries):
                ledger.seen.seen_or_add(f"id-{n}", day_start(DAY))
        size = len(encode_ledger(ledger))
        print(
            f"{name:<52} {size:>12,} {len(ledger.connections.members):>11,} "
            f"{ledger.connections.pending_count():>8,} {capped:>7,} {seconds / absorbed * 1e6:>9.1f}"
        )
    bound = links.MAX_CONNECTION_BYTES + links.MAX_PENDING_BYTES + 12 * POLICY.max_entries
    print(
        f"\nbound: {links.MAX_CONNECTION_BYTES:,} B of connection ids + "
        f"{links.MAX_PENDING_BYTES:,} B of pending changes + {12 * POLICY.max_entries:,} B of dedup ids "
        f"= {bound:,} B plus the scoring state "
        f"(~150 B per open day) and history (≤ 370 B); Kafka's record limit is {KAFKA_LIMIT:,} B"
    )


if __name__ == "__main__":
    main()
