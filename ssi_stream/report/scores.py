"""Score records -> columns: what the outcomes report needs of each record, one row per member and day.

A row keeps the record's day, SSI, four pillars, the points of every component its `signals` name
(a component outside its pillar's top signals counts 0), per pillar the most a component it leaves out
can earn (the third's points when it names three, else 0), and its outcome totals (`outcomes.*.total`,
0 when absent). Records may come in any order and more than once
(the scores topic is at least once): the last one read of a (member, day) wins. Members are numbered in
the order of their ids, not of their first record, so the report (whose bootstrap resamples members by
number) does not depend on the order members come in: a file and the partitions of a topic give one.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.scoring.columnar import COMPONENT_NAMES
from ssi_stream.scoring.explain import TOP_SIGNALS
from ssi_stream.scoring.model import PILLARS
from ssi_stream.timeline.days import day_from_iso

N_PILLARS = len(PILLARS)
N_COMPONENTS = len(COMPONENT_NAMES)
N_OUTCOMES = len(OUTCOME_TYPES)


@dataclass(frozen=True, slots=True)
class ScoreTable:
    """Every member's rows, sorted by (member, day), one per member and day."""

    member_ids: tuple[str, ...]  # sorted
    member: np.ndarray  # int32: index into member_ids
    day: np.ndarray  # int32: days since 1970-01-01
    ssi: np.ndarray  # float64
    pillars: np.ndarray  # float64 (rows, 4), PILLARS order
    components: np.ndarray  # float64 (rows, 20), COMPONENT_NAMES order
    #: float64 (rows, 4): per pillar, the most points a component left out of its signals can have
    left_out_at_most: np.ndarray
    totals: np.ndarray  # int64 (rows, 5), OUTCOME_TYPES order

    @property
    def first_day(self) -> int:
        return int(self.day.min())

    @property
    def last_day(self) -> int:
        return int(self.day.max())

    def at(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(members, rows): each member's last row on or before `day`, for the members scored by then."""
        members = np.arange(len(self.member_ids), dtype=np.int64)
        keys = self.member.astype(np.int64) << 32 | (self.day.astype(np.int64) + (1 << 31))
        wanted = members << 32 | (day + (1 << 31))
        rows = np.searchsorted(keys, wanted, side="right") - 1
        found = (rows >= 0) & (self.member[np.maximum(rows, 0)] == members)
        return members[found], rows[found]

    def totals_at(self, members: np.ndarray, day: int) -> np.ndarray:
        """The outcome totals of `members` as of `day` (0 for a member not scored by then)."""
        keys = self.member.astype(np.int64) << 32 | (self.day.astype(np.int64) + (1 << 31))
        wanted = members.astype(np.int64) << 32 | (day + (1 << 31))
        rows = np.searchsorted(keys, wanted, side="right") - 1
        found = (rows >= 0) & (self.member[np.maximum(rows, 0)] == members)
        totals = np.zeros((len(members), N_OUTCOMES), np.int64)
        totals[found] = self.totals[rows[found]]
        return totals


class ScoreTableBuilder:
    """Takes parsed score records one by one; `build()` sorts them into a `ScoreTable`."""

    def __init__(self) -> None:
        self.records = 0
        self._ids: dict[str, int] = {}
        self._days: dict[str, int] = {}
        self._keys = array("q")  # per record: member, day, reading order
        #: per record: ssi, pillars, components, totals. float32 holds every record number (two decimals,
        #: at most 100) closely enough, and every outcome total below 2**24 exactly.
        self._values = array("f")

    def add(self, record: dict) -> None:
        """One v2 score record (a dict as `orjson.loads` gives it)."""
        member_id = record["member_id"]
        member = self._ids.get(member_id)
        if member is None:
            member = self._ids[member_id] = len(self._ids)
        date = record["date"]
        day = self._days.get(date)
        if day is None:
            day = self._days[date] = day_from_iso(date)
        values = [record["ssi"], *_pillar_points(record["pillars"]), *_NO_COMPONENTS, *_NO_TOTALS]
        for pillar, signals in record["signals"].items():
            for code, _, points in signals:
                values[_COMPONENT_COLUMN[code]] = points
            if len(signals) == TOP_SIGNALS:
                values[_FLOOR_COLUMN[pillar]] = abs(signals[-1][2])
        outcomes = record.get("outcomes")
        if outcomes:
            for name, counted in outcomes.items():
                values[_TOTAL_COLUMN[name]] = counted["total"]
        self._keys.extend((member, day, self.records))
        self._values.extend(values)
        self.records += 1

    def add_all(self, records: Iterable[dict]) -> None:
        for record in records:
            self.add(record)

    def build(self) -> ScoreTable:
        """The table: members numbered in the order of their ids, rows sorted by (member, day), the
        last record read of a (member, day) kept."""
        if not self.records:
            raise ValueError("no score records")
        member_ids = sorted(self._ids)
        renumber = np.empty(len(member_ids), np.int64)
        renumber[[self._ids[member_id] for member_id in member_ids]] = np.arange(len(member_ids))
        keys = np.frombuffer(self._keys, np.int64).reshape(-1, 3).copy()
        keys[:, 0] = renumber[keys[:, 0]]
        values = np.frombuffer(self._values, np.float32).reshape(-1, _WIDTH)
        sort = np.lexsort((keys[:, 2], keys[:, 1], keys[:, 0]))
        keys, values = keys[sort], values[sort]
        member, day = keys[:, 0].astype(np.int32), keys[:, 1].astype(np.int32)
        last = np.ones(len(keys), bool)  # the last of each (member, day) in reading order
        last[:-1] = (member[1:] != member[:-1]) | (day[1:] != day[:-1])
        member, day, values = member[last], day[last], values[last]
        at = 1 + N_PILLARS
        return ScoreTable(
            member_ids=tuple(member_ids),
            member=member,
            day=day,
            ssi=values[:, 0].astype(np.float64),
            pillars=values[:, 1:at].astype(np.float64),
            components=values[:, at : at + N_COMPONENTS].astype(np.float64),
            left_out_at_most=values[:, at + N_COMPONENTS : at + N_COMPONENTS + N_PILLARS].astype(np.float64),
            totals=values[:, at + N_COMPONENTS + N_PILLARS :].astype(np.int64),
        )


_pillar_points = itemgetter(*PILLARS)
_NO_COMPONENTS = (0.0,) * N_COMPONENTS
_NO_TOTALS = (0.0,) * N_PILLARS + (0,) * N_OUTCOMES  # the left-out bounds, then the totals
_WIDTH = 1 + N_PILLARS + N_COMPONENTS + N_PILLARS + N_OUTCOMES
_COMPONENT_COLUMN = {name: 1 + N_PILLARS + column for column, (_, name) in enumerate(COMPONENT_NAMES)}
_FLOOR_COLUMN = {name: 1 + N_PILLARS + N_COMPONENTS + index for index, name in enumerate(PILLARS)}
_TOTAL_COLUMN = {name: 1 + 2 * N_PILLARS + N_COMPONENTS + index for index, name in enumerate(OUTCOME_TYPES)}
