"""The day's rank exchange between partitions: what each one shares, and the board that ranks from it.

A member's rank needs scores held by other partitions: everyone in their industry, and their
connections. So when a partition closes day D, it shares with every partition (itself included) a
`DayShare`: its per-industry score histograms (the same to every partition) and, for each member the
target owns, the score of each of that member's connections it holds. A partition ranks its members for
D once it has every partition's share (`ShareIndex` says when), on a `DayBoard` built from them. Shares
are split into parts of at most `max_bytes` (estimated JSON size) so that no Kafka record grows without
bound. A partition that never closed a day someone shares (its first close came later: see
`close_gate`) answers with an empty *stand-in* share (`closed` false), so nobody waits for it.
Histograms are exact (`standing.py`), so ranks do not depend on how members are spread over partitions:
replay, with one board for everybody, computes the same ranks. docs/ranking.md has the costs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec
import orjson

from ssi_stream.ranking.standing import ScoreHistogram, Standing, network_standing, score_bin
from ssi_stream.timeline.partitioner import partition_for

#: Estimated JSON bytes per share part: well under Kafka's default 1 MB record limit.
MAX_SHARE_BYTES = 512 * 1024
#: JSON bytes of a [bin, count] pair: `[10000,123456],`.
_ENTRY_OVERHEAD = 16
#: JSON bytes of one bin in a member's list of connection scores: `10000,`.
_BIN_BYTES = 6


class ShareConflict(ValueError):
    """A share part that disagrees with the parts held for the same day and source."""


@dataclass(frozen=True, slots=True)
class MemberDay:
    """What the rank exchange needs of one member's closed day."""

    member_id: str
    ssi: float
    industry: str | None
    connections: Iterable[str]


@dataclass(frozen=True, slots=True)
class DayShare:
    """One part of what partition `source` shares with one target about `day`."""

    source: int
    day: int
    part: int
    parts: int
    #: industry -> [[bin, count], ...], bins increasing.
    industries: dict[str, list[list[int]]]
    #: member_id -> [bin, ...]: the scores of the member's connections held by the source, for members
    #: the target owns; members and bins in increasing order.
    network: dict[str, list[int]]
    #: False for a stand-in: the source never closed this day (it has nothing to share for it).
    closed: bool = True


class DayRanks(msgspec.Struct, frozen=True, gc=False):
    """A member's standings on one day (None: no industry / no connection scored that day)."""

    industry: Standing | None
    network: Standing | None


def stand_in(source: int, day: int) -> DayShare:
    """The share of a partition that never closed `day`: nothing to add, but nothing to wait for."""
    return DayShare(source, day, 0, 1, {}, {}, closed=False)


def day_shares(
    source: int, day: int, members: Iterable[MemberDay], targets: int, max_bytes: int = MAX_SHARE_BYTES
) -> dict[int, list[DayShare]]:
    """Every target's parts of this partition's share for `day` (each target gets at least one part);
    the same parts again for the same members in the same order."""
    builder = DayShareBuilder(source, day, targets, max_bytes)
    for member in members:
        builder.add(member)
    return {target: builder.target_parts(target) for target in range(targets)}


class DayShareBuilder:
    """A partition's share for `day`, built a member at a time (a close adds each member as it goes, so
    no single stretch of it handles the whole partition), then split into each target's parts."""

    def __init__(self, source: int, day: int, targets: int, max_bytes: int = MAX_SHARE_BYTES) -> None:
        self.source = source
        self.day = day
        self.targets = targets
        self.max_bytes = max_bytes
        self._histograms: dict[str, ScoreHistogram] = {}
        self._network: dict[int, dict[str, list[int]]] = {target: {} for target in range(targets)}
        #: member id -> the bins of its connections here (the list in its target's dict)
        self._where: dict[str, list[int]] = {}
        self._pairs: list[tuple[str, list[int]]] | None = None

    def add(self, member: MemberDay) -> None:
        """Count `member`'s closed day: in its industry's histogram, and for each of its connections."""
        bin_ = score_bin(member.ssi)
        if member.industry is not None:
            histogram = self._histograms.get(member.industry)
            if histogram is None:
                histogram = self._histograms[member.industry] = ScoreHistogram()
            histogram.add(member.ssi)
        where, targets = self._where, self.targets
        for other in member.connections:
            bins = where.get(other)
            if bins is None:  # once per member: murmur2 in Python costs ~2 µs (replay has one target)
                target = partition_for(other, targets) if targets > 1 else 0
                bins = where[other] = self._network[target][other] = []
            bins.append(bin_)

    def target_parts(self, target: int) -> list[DayShare]:
        """`target`'s parts of the share (at least one), once every member is added."""
        if self._pairs is None:
            held = self._histograms
            self._pairs = [(name, pair) for name in sorted(held) for pair in held[name].to_pairs()]
        # sorted, so that a share sent again after a crash is split into the very same parts
        network = sorted((member_id, sorted(bins)) for member_id, bins in self._network[target].items())
        return _parts(self.source, self.day, self._pairs, network, self.max_bytes)


def _parts(
    source: int,
    day: int,
    pairs: list[tuple[str, list[int]]],
    network: list[tuple[str, list[int]]],
    max_bytes: int,
) -> list[DayShare]:
    """Split the entries, in order, into parts of at most about `max_bytes` of JSON each (a member's
    connection scores stay together)."""
    chunks: list[tuple[dict[str, list[list[int]]], dict[str, list[int]]]] = []
    industries: dict[str, list[list[int]]] = {}
    scores: dict[str, list[int]] = {}
    size = 0
    name_bytes = {industry: len(orjson.dumps(industry)) + 4 for industry, _ in pairs}  # `"name":[...],`
    for industry, pair in pairs:
        cost = _ENTRY_OVERHEAD + (0 if industry in industries else name_bytes[industry])
        if size + cost > max_bytes and (industries or scores):
            chunks.append((industries, scores))
            industries, scores, size = {}, {}, 0
            cost = _ENTRY_OVERHEAD + name_bytes[industry]
        industries.setdefault(industry, []).append(pair)
        size += cost
    for member_id, bins in network:
        cost = len(orjson.dumps(member_id)) + 4 + _BIN_BYTES * len(bins)  # `"id":[b,b],`: exact id size
        if size + cost > max_bytes and (industries or scores):
            chunks.append((industries, scores))
            industries, scores, size = {}, {}, 0
        scores[member_id] = bins
        size += cost
    chunks.append((industries, scores))
    count = len(chunks)
    return [DayShare(source, day, part, count, chunk[0], chunk[1]) for part, chunk in enumerate(chunks)]


class DayBoard:
    """Every partition's shares for one day, merged: ranks any member of the target."""

    __slots__ = ("industries", "network")

    def __init__(self) -> None:
        self.industries: dict[str, ScoreHistogram] = {}
        self.network: dict[str, list[int]] = {}

    def add(self, share: DayShare) -> None:
        for industry, pairs in share.industries.items():
            histogram = self.industries.get(industry)
            if histogram is None:
                histogram = self.industries[industry] = ScoreHistogram()
            histogram.merge(ScoreHistogram.from_pairs(pairs))
        network = self.network
        for member_id, bins in share.network.items():
            held = network.get(member_id)
            if held is None:
                network[member_id] = list(bins)
            else:
                held.extend(bins)

    def ranks(self, member_id: str, ssi: float, industry: str | None) -> DayRanks:
        histogram = None if industry is None else self.industries.get(industry)
        industry_rank = None if histogram is None else histogram.standing(ssi)
        return DayRanks(industry_rank, network_standing(score_bin(ssi), self.network.get(member_id, [])))


@dataclass(slots=True)
class ShareIndex:
    """Which share parts a target holds, per day and source: says when a day can be ranked."""

    #: day -> source -> (parts, the part numbers received)
    received: dict[int, dict[int, tuple[int, set[int]]]] = field(default_factory=dict)

    def note(self, share: DayShare) -> bool:
        """Record a part; False if it was held already (a redelivery)."""
        sources = self.received.setdefault(share.day, {})
        parts, seen = sources.get(share.source, (share.parts, set()))
        if parts != share.parts:
            raise ShareConflict(
                f"share of day {share.day} from partition {share.source}: {share.parts} parts, {parts} before"
            )
        if share.part in seen:
            return False
        seen.add(share.part)
        sources[share.source] = (parts, seen)
        return True

    def complete(self, day: int, sources: int) -> bool:
        held = self.received.get(day, {})
        return len(held) == sources and all(len(seen) == parts for parts, seen in held.values())

    def parts(self, day: int) -> list[tuple[int, int]]:
        """(source, part) of every part held for `day`, in order."""
        held = self.received.get(day, {})
        return [(source, part) for source in sorted(held) for part in sorted(held[source][1])]

    def forget_through(self, day: int) -> list[tuple[int, int, int]]:
        """Drop the index of days up to `day`; return the (day, source, part) dropped."""
        dropped = []
        for held_day in sorted(d for d in self.received if d <= day):
            dropped += [(held_day, source, part) for source, part in self.parts(held_day)]
            del self.received[held_day]
        return dropped

    def to_json(self) -> list[list[int]]:
        return [
            [day, source, parts, *sorted(seen)]
            for day in sorted(self.received)
            for source, (parts, seen) in sorted(self.received[day].items())
        ]

    @classmethod
    def from_json(cls, rows: Iterable[list[int]]) -> ShareIndex:
        index = cls()
        for day, source, parts, *seen in rows:
            index.received.setdefault(day, {})[source] = (parts, set(seen))
        return index
