"""`DayFilter`: a Bloom filter of the effect ids one effects partition counted with one own day, so that a
redelivery arriving long after its day (past the members' exact ids) is still recognised.

A filter's bits are the OR of its ids' bits: the same set of ids gives the same bytes in any order, any
number of times, so a close done again after a crash writes the same filter. Its size is fixed when it is
made, from the ids it is made with (the partition's exact ids of that day, `FilterPlan.size_for`), to
`BITS_PER_ID` to twice that per id: a false-positive rate of at most 1e-5 at that fill (measured by
`bench/redelivery_filter_bench.py`), more if many ids are added later (very late events). A false
positive drops a genuine effect.

Ids are keyed by member and effect (`filter_digest`: 16 bytes of blake2b), hashed to `HASHES` positions
within one `CHUNK_BYTES` chunk (a blocked Bloom filter), and the bits are stored a chunk at a time, so
adding an id rewrites one chunk at most, and none when it was held (docs/streaming.md, "Late
redeliveries").
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

import numpy as np

__all__ = ["BITS_PER_ID", "CHUNK_BYTES", "HASHES", "DayFilter", "filter_digest", "size_for"]

#: Bits per id a filter is made with at least (at most twice that): about 1e-5 false positives.
BITS_PER_ID = 24
#: Positions per id (optimal for 24 bits per id: 24 · ln 2 ≈ 16.6).
HASHES = 17
#: The unit the bits are stored in.
CHUNK_BYTES = 4096
_CHUNK_BITS = CHUNK_BYTES * 8
_STEPS = np.arange(HASHES, dtype=np.uint64)


def filter_digest(member_id: str, id_digest: bytes) -> bytes:
    """The key of one member's effect in a filter, from the effect id's 8-byte hash (`recent_ids.id_hash`)."""
    return blake2b(id_digest + member_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def size_for(ids: int) -> int:
    """Chunks of a filter made for `ids` ids: a power of two, with at least `BITS_PER_ID` bits each."""
    chunks = 1
    while chunks * _CHUNK_BITS < ids * BITS_PER_ID:
        chunks *= 2
    return chunks


class DayFilter:
    """The Bloom filter of one own day's effect ids of one partition; pure and deterministic."""

    __slots__ = ("bits", "dirty")

    def __init__(self, bits: np.ndarray) -> None:
        if bits.dtype != np.uint8 or len(bits) == 0 or len(bits) % CHUNK_BYTES:
            raise ValueError(f"a filter is a whole number of {CHUNK_BYTES}-byte chunks of uint8")
        self.bits = bits
        #: Chunks changed since they were last stored.
        self.dirty: set[int] = set()

    @classmethod
    def empty(cls, chunks: int) -> DayFilter:
        return cls(np.zeros(chunks * CHUNK_BYTES, dtype=np.uint8))

    @classmethod
    def from_chunks(cls, chunks: list[bytes]) -> DayFilter:
        if any(len(chunk) != CHUNK_BYTES for chunk in chunks):
            raise ValueError(f"a filter chunk is {CHUNK_BYTES} bytes")
        return cls(np.frombuffer(b"".join(chunks), dtype=np.uint8).copy())

    @property
    def chunks(self) -> int:
        return len(self.bits) // CHUNK_BYTES

    def chunk(self, index: int) -> bytes:
        return self.bits[index * CHUNK_BYTES : (index + 1) * CHUNK_BYTES].tobytes()

    def add(self, digests: Iterable[bytes]) -> None:
        """Set the bits of every digest; the chunks whose bits changed become dirty (none for ids held)."""
        positions = self._positions(digests)
        if not positions.size:
            return
        touched = np.unique(positions[:, 0] // np.uint64(_CHUNK_BITS)).tolist()
        before = {index: self.chunk(index) for index in touched}
        np.bitwise_or.at(self.bits, positions >> np.uint64(3), _masks(positions))
        self.dirty.update(index for index in touched if self.chunk(index) != before[index])

    def contains(self, digest: bytes) -> bool:
        """True if every bit of `digest` is set: held, or a false positive."""
        positions = self._positions([digest])[0]
        return bool(np.all(self.bits[positions >> np.uint64(3)] & _masks(positions)))

    def fill(self) -> float:
        """The share of bits set (the false-positive rate is about fill ** HASHES)."""
        return float(np.unpackbits(self.bits).mean())

    def _positions(self, digests: Iterable[bytes]) -> np.ndarray:
        """Each digest's `HASHES` bit positions, all in one chunk (a blocked Bloom filter: adding an id
        rewrites one chunk): the chunk from its first 8 bytes, the bits by double hashing within it."""
        raw = b"".join(digests)
        if not raw:
            return np.empty((0, HASHES), dtype=np.uint64)
        if len(raw) % 16:
            raise ValueError("filter digests are 16 bytes")
        pairs = np.frombuffer(raw, dtype="<u8").reshape(-1, 2)
        chunk = pairs[:, :1] % np.uint64(self.chunks)
        first, step = pairs[:, :1] >> np.uint64(32), pairs[:, 1:] | np.uint64(1)
        with np.errstate(over="ignore"):
            return chunk * np.uint64(_CHUNK_BITS) + (first + _STEPS * step) % np.uint64(_CHUNK_BITS)


def _masks(positions: np.ndarray) -> np.ndarray:
    return (np.uint64(1) << (positions & np.uint64(7))).astype(np.uint8)
