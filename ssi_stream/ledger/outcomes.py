"""A member's CRM outcomes as the ledger keeps them: decayed counts and totals, never part of the score.

Outcome effects (`EffectKind.OUTCOME`: meetings booked, opportunities created, deals won and lost,
calls logged) are counted like every effect, as integers in the open day they count in (so absorbing is
order-independent), and folded in when that day closes: `recent` is each count decayed day by day with
a half-life of `OUTCOME_HALF_LIFE_DAYS` (float32, as the scoring state keeps its signals), `total` the
count since the member's first outcome. The section exists only for members with an outcome, so every
other ledger stays as small as before. Both close paths (per member and columnar) fold it through the
same function, `OutcomeTally.close`, so they agree bit for bit.

Bytes (inside the ledger, after its length)::

    i32 through (the last closed day folded in; INT32_MIN: none yet)
    u8  mask of non-zero `recent`, then one f32 per set bit
    u8  mask of non-zero `total`, then one u32 per set bit
    u8  number of open days, then per open day: i32 day, u8 mask, one u32 per set bit
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass, field
from typing import Any

from ssi_stream.events.types import OUTCOME_TYPES
from ssi_stream.scoring.effects import Effect
from ssi_stream.scoring.record import round_for_record
from ssi_stream.scoring.sparse import fill, get_sparse, put_sparse, sparse

#: Days after which an outcome counts half in `recent`: a quarter's pipeline weighs most.
OUTCOME_HALF_LIFE_DAYS = 90.0
#: A decayed count below this is forgotten (set to 0), as the scoring state forgets its signals.
FORGET_BELOW = 0.001
N_OUTCOMES = len(OUTCOME_TYPES)
_DAILY_DECAY = 0.5 ** (1.0 / OUTCOME_HALF_LIFE_DAYS)
_NONE_DAY = -(2**31)
_MAX_COUNT = 2**32 - 1
_DAY = struct.Struct("<i")
_OPEN_DAY = struct.Struct("<iB")


def _zeros(typecode: str) -> array:
    return array(typecode, bytes(array(typecode).itemsize * N_OUTCOMES))


@dataclass(slots=True)
class OutcomeTally:
    """Outcome counts of one member: decayed and total through `through`, and those of open days."""

    through: int | None = None
    recent: array = field(default_factory=lambda: _zeros("f"))
    total: array = field(default_factory=lambda: _zeros("I"))
    open_days: dict[int, array] = field(default_factory=dict)

    def count(self, effect: Effect, day: int) -> None:
        """Count an OUTCOME effect in open `day` (its flags are the outcome's index)."""
        if not 0 <= effect.flags < N_OUTCOMES:
            return  # an outcome this code does not know (a newer writer): not counted
        counts = self.open_days.get(day)
        if counts is None:
            counts = self.open_days[day] = _zeros("I")
        counts[effect.flags] = min(_MAX_COUNT, counts[effect.flags] + 1)

    def close(self, day: int) -> bool:
        """Fold every open day up to `day` in (decaying day by day in between) and decay to `day`;
        True if one of them held an outcome. Days close in increasing order."""
        due = sorted(d for d in self.open_days if d <= day)
        for open_day in due:
            self._decay_to(open_day)
            counts = self.open_days.pop(open_day)
            recent, total = self.recent, self.total
            for index, number in enumerate(counts):
                if number:
                    recent[index] += number
                    total[index] = min(_MAX_COUNT, total[index] + number)
        self._decay_to(day)
        return bool(due)

    def _decay_to(self, day: int) -> None:
        if self.through is not None:
            recent = self.recent
            for _ in range(day - self.through):
                if not any(recent):
                    break
                for index in range(N_OUTCOMES):
                    value = recent[index] * _DAILY_DECAY
                    recent[index] = value if value >= FORGET_BELOW else 0.0
        self.through = day

    def summary(self) -> dict[str, dict[str, Any]] | None:
        """What a score record says (`outcomes`): per outcome type with a total, its decayed count
        (`recent`, 2 decimals) and `total`, as of the last closed day; None before the first."""
        kept = {
            name: {"recent": round_for_record(self.recent[index]), "total": self.total[index]}
            for index, name in enumerate(OUTCOME_TYPES)
            if self.total[index]
        }
        return kept or None

    def to_bytes(self) -> bytes:
        out = bytearray(_DAY.pack(_NONE_DAY if self.through is None else self.through))
        put_sparse(out, self.recent, "<B", "f")
        put_sparse(out, self.total, "<B", "I")
        out.append(len(self.open_days))
        for day in sorted(self.open_days):
            counts = self.open_days[day]
            mask, present = sparse(counts)
            out += _OPEN_DAY.pack(day, mask) + array("I", present).tobytes()
        return bytes(out)

    @classmethod
    def from_bytes(cls, raw: bytes) -> OutcomeTally:
        """Read `to_bytes` output; ValueError when it is cut short or has bytes left over."""
        view = memoryview(raw)
        try:
            (through,) = _DAY.unpack_from(view, 0)
            tally = cls(None if through == _NONE_DAY else through)
            at = get_sparse(view, _DAY.size, tally.recent, "<B", "f", "outcomes")
            at = get_sparse(view, at, tally.total, "<B", "I", "outcomes")
            days = view[at]
            at += 1
            for _ in range(days):
                day, mask = _OPEN_DAY.unpack_from(view, at)
                counts = tally.open_days[day] = _zeros("I")
                at = fill(view, at + _OPEN_DAY.size, counts, mask, "I", "outcomes")
        except (struct.error, IndexError) as exc:
            raise ValueError(f"outcomes: cut short ({exc})") from None
        if at != len(view):
            raise ValueError(f"outcomes: {len(view) - at} unexpected trailing bytes")
        return tally
