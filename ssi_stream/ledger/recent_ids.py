"""`RecentIds`: the effect ids one member absorbed recently, to drop duplicate deliveries.

Each id is held as a 64-bit blake2b hash (stable across processes and versions, unlike `hash()`) with its
event time in epoch seconds, ordered by event time. The owner decides what to forget, with
`forget_before(at)`: the engine forgets by *closed day*, never by arrival order, so that whether a
redelivery is recognised does not depend on how deliveries from different partitions interleave
(replay and the stream must agree). See `ssi_stream.ledger.member_ledger` for the rule and
docs/events.md for the redelivery window it guarantees.

`max_entries` is a safety valve against abuse (a member flooding millions of events): when full, the
oldest ids are forgotten first, by (event time, hash), so the ids held (and their bytes) do not depend
on the order they came in. Within it, the set is exact; past it, a redelivery of a forgotten id counts
again (the engine counts each id forgotten this way: `ssi_capped_total{cap="dedup_ids"}`).
A hash collision (about n²/2⁶⁵ for n held ids) would drop one event.

Serialised form (`to_bytes`), little-endian: a version byte (1), a u32 count n, n 8-byte hashes, then n
u32 event times: 5 + 12·n bytes.
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from hashlib import blake2b

__all__ = ["DEDUP_IDS", "DEFAULT_MAX_ENTRIES", "RecentIds", "id_hash"]

#: The safety cap on ids held per member (about 12 bytes each).
DEFAULT_MAX_ENTRIES = 4096
#: The cap's name, as the engine reports an id forgotten to make room (`ssi_capped_total`).
DEDUP_IDS = "dedup_ids"

_VERSION = 1
_HEADER = struct.Struct("<BI")
_HASH_BYTES = 8
_MAX_TIME = 2**32 - 1  # u32 epoch seconds: until 2106
_SWAP = sys.byteorder == "big"
if array("I").itemsize != 4:  # pragma: no cover - every mainstream platform has a 4-byte unsigned int
    raise ImportError("RecentIds needs array('I') to hold 4-byte items")


def id_hash(key: str) -> bytes:
    """The 8-byte digest under which an id is held (blake2b, digest_size=8, of its UTF-8 bytes)."""
    return blake2b(key.encode("utf-8", "surrogatepass"), digest_size=_HASH_BYTES).digest()


class RecentIds:
    """A bounded set of recently seen event ids for one member; pure and deterministic."""

    __slots__ = ("_hashes", "_times", "max_entries")

    def __init__(self, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"need max_entries >= 1, got {max_entries}")
        self.max_entries = max_entries
        self._hashes = bytearray()  # 8 bytes per id, in the order of _times
        self._times = array("I")  # event times, non-decreasing

    def __len__(self) -> int:
        return len(self._times)

    def __contains__(self, key: str) -> bool:
        return self._find(id_hash(key)) >= 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecentIds):
            return NotImplemented
        return (self.max_entries, self._times, self._hashes) == (
            other.max_entries,
            other._times,
            other._hashes,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    @property
    def newest(self) -> int | None:
        """The newest event time held, or None when empty."""
        return self._times[-1] if self._times else None

    def seen_or_add(self, key: str, at: int) -> bool:
        """True if `key` is held (a duplicate); otherwise hold it with event time `at` and return False.

        Ids are held in (event time, hash) order. When the set is full, the smallest is forgotten to
        make room (an id smaller than every held one is then not held at all): the ids held are the
        `max_entries` greatest offered, whatever the order they came in.
        """
        if not 0 <= at <= _MAX_TIME:
            raise ValueError(f"event time {at} is outside 0..{_MAX_TIME} epoch seconds")
        digest = id_hash(key)
        if self._find(digest) >= 0:
            return True
        times, hashes = self._times, self._hashes
        if not times or at > times[-1]:  # the usual case: newer than every id held
            if len(times) >= self.max_entries:
                self._drop_before(1)
            times.append(at)
            hashes += digest
            return False
        index = bisect_left(times, at)
        end = bisect_right(times, at, index)
        while index < end and hashes[index * _HASH_BYTES : (index + 1) * _HASH_BYTES] < digest:
            index += 1
        if len(times) >= self.max_entries and index == 0:
            return False
        times.insert(index, at)
        hashes[index * _HASH_BYTES : index * _HASH_BYTES] = digest
        self._drop_before(len(times) - self.max_entries)
        return False

    def hashes_between(self, start: int, end: int) -> list[bytes]:
        """The hashes of the ids held with an event time in [start, end), in held order."""
        first, last = bisect_left(self._times, start), bisect_left(self._times, end)
        raw = self._hashes[first * _HASH_BYTES : last * _HASH_BYTES]
        return [bytes(raw[i : i + _HASH_BYTES]) for i in range(0, len(raw), _HASH_BYTES)]

    def forget_before(self, at: int) -> None:
        """Forget every id whose event time is before `at` (epoch seconds)."""
        self._drop_before(bisect_left(self._times, at))

    def to_bytes(self) -> bytes:
        """The compact serialised form (see the module docstring)."""
        times = self._times
        if _SWAP:  # pragma: no cover - big-endian hosts
            times = array("I", times)
            times.byteswap()
        return b"".join((_HEADER.pack(_VERSION, len(times)), self._hashes, times))

    @classmethod
    def from_bytes(cls, data: bytes, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> RecentIds:
        """Read `to_bytes` output; limits apply at once (a smaller `max_entries` drops the oldest ids).

        Raises ValueError on bytes `to_bytes` cannot have written (a corrupt table entry is a bug).
        """
        if len(data) < _HEADER.size:
            raise ValueError(f"RecentIds: {len(data)} bytes is shorter than the {_HEADER.size}-byte header")
        version, n = _HEADER.unpack_from(data)
        expected = _HEADER.size + n * (_HASH_BYTES + 4)
        if version != _VERSION or len(data) != expected:
            raise ValueError(
                f"RecentIds: version {version}, {len(data)} bytes; "
                f"expected version {_VERSION}, {expected} bytes"
            )
        recent = cls(max_entries=max_entries)
        split = _HEADER.size + n * _HASH_BYTES
        recent._hashes[:] = data[_HEADER.size : split]
        recent._times.frombytes(data[split:])
        if _SWAP:  # pragma: no cover - big-endian hosts
            recent._times.byteswap()
        recent._drop_before(len(recent._times) - max_entries)
        return recent

    def _find(self, digest: bytes) -> int:
        """Index of `digest` among the held hashes, or -1 (a byte search, aligned to 8-byte slots)."""
        hashes = self._hashes
        start = hashes.find(digest)
        while start >= 0:
            if start % _HASH_BYTES == 0:
                return start // _HASH_BYTES
            start = hashes.find(digest, start + 1)
        return -1

    def _drop_before(self, count: int) -> None:
        """Forget the `count` oldest ids."""
        if count > 0:
            del self._times[:count]
            del self._hashes[: count * _HASH_BYTES]
