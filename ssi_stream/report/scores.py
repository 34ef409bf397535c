"""Score records -> columns: what the outcomes report needs of each record, one row per member and day.

A row keeps the record's day, SSI, four pillars, the points of every component its `signals` name
(a component outside its pillar's top signals counts 0: its points are at most the third's) and its
outcome totals (`outcomes.*.total`, 0 when absent). Records may come in any order and more than once
(the scores topic is at least once): the last one read of a (member, day) wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.scoring.columnar import COMPONENT_NAMES
from ssi_stream.scoring.model import PILLARS
from ssi_stream.timeline.days import day_from_iso

N_PILLARS = len(PILLARS)
N_COMPONENTS = len(COMPONENT_NAMES)
N_OUTCOMES = len(OUTCOME_TYPES)
_COMPONENT_COLUMN = {name: column for column, (_, name) in enumerate(COMPONENT_NAMES)}
_CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class ScoreTable:
    """Every member's rows, sorted by (member, day), one per member and day."""

    member_ids: tuple[str, ...]
    member: np.ndarray  # int32: index into member_ids
    day: np.ndarray  # int32: days since 1970-01-01
    ssi: np.ndarray  # float64
    pillars: np.ndarray  # float64 (rows, 4), PILLARS order
    components: np.ndarray  # float64 (rows, 20), COMPONENT_NAMES order
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
        self._keys: list[tuple[int, int, int]] = []  # (member, day, reading order)
        self._values: list[tuple] = []  # ssi, pillars, components, totals
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []

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
        totals = [0] * N_OUTCOMES
        outcomes = record.get("outcomes")
        if outcomes:
            for index, name in enumerate(OUTCOME_TYPES):
                counted = outcomes.get(name)
                if counted:
                    totals[index] = counted["total"]
        components = [0.0] * N_COMPONENTS
        for signals in record["signals"].values():
            for code, _, points in signals:
                components[_COMPONENT_COLUMN[code]] = points
        pillars = record["pillars"]
        pillar_points = [pillars[name] for name in PILLARS]
        self._keys.append((member, day, self.records))
        self._values.append((record["ssi"], *pillar_points, *components, *totals))
        self.records += 1
        if len(self._keys) >= _CHUNK:
            self._flush()

    def add_all(self, records: Iterable[dict]) -> None:
        for record in records:
            self.add(record)

    def build(self) -> ScoreTable:
        """The table: rows sorted by (member, day), the last record read of a (member, day) kept."""
        self._flush()
        if not self._chunks:
            raise ValueError("no score records")
        keys = np.concatenate([chunk[0] for chunk in self._chunks])
        values = np.concatenate([chunk[1] for chunk in self._chunks])
        self._chunks = [(keys, values)]
        sort = np.lexsort((keys[:, 2], keys[:, 1], keys[:, 0]))
        keys, values = keys[sort], values[sort]
        member, day = keys[:, 0].astype(np.int32), keys[:, 1].astype(np.int32)
        last = np.ones(len(keys), bool)  # the last of each (member, day) in reading order
        last[:-1] = (member[1:] != member[:-1]) | (day[1:] != day[:-1])
        member, day, values = member[last], day[last], values[last]
        at = 1 + N_PILLARS
        return ScoreTable(
            member_ids=tuple(self._ids),
            member=member,
            day=day,
            ssi=values[:, 0].astype(np.float64),
            pillars=values[:, 1:at].astype(np.float64),
            components=values[:, at : at + N_COMPONENTS].astype(np.float64),
            totals=values[:, at + N_COMPONENTS :].astype(np.int64),
        )

    def _flush(self) -> None:
        if self._keys:
            keys = np.asarray(self._keys, dtype=np.int64)
            # float32 holds every record number (two decimals, at most 100) closely enough, and every
            # outcome total below 2**24 exactly
            self._chunks.append((keys, np.asarray(self._values, dtype=np.float32)))
            self._keys, self._values = [], []
