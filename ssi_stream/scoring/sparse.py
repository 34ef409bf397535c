"""Sparse arrays in the compact codecs: a bit mask of the non-zero slots, then their values in order."""

from __future__ import annotations

import struct
from array import array


def sparse(values: array) -> tuple[int, list]:
    """The mask of `values`' non-zero slots and those values, in slot order."""
    mask, present = 0, []
    for index, value in enumerate(values):
        if value:
            mask |= 1 << index
            present.append(value)
    return mask, present


def put_sparse(out: bytearray, values: array, mask_format: str, typecode: str) -> None:
    """Append `values` to `out`: the mask (packed as `mask_format`), then the non-zero values."""
    mask, present = sparse(values)
    out += struct.pack(mask_format, mask)
    out += array(typecode, present).tobytes()


def get_sparse(
    view: memoryview, offset: int, target: array, mask_format: str, typecode: str, what: str
) -> int:
    """Read what `put_sparse` wrote at `offset` into `target`; returns the offset after it."""
    (mask,) = struct.unpack_from(mask_format, view, offset)
    return fill(view, offset + struct.calcsize(mask_format), target, mask, typecode, what)


def fill(view: memoryview, offset: int, target: array, mask: int, typecode: str, what: str) -> int:
    """Set the slots of `target` that `mask` names from the values at `offset`; returns the offset after
    them. Raises ValueError, naming `what`, on a mask wider than `target` or values cut short."""
    if mask >> len(target):
        raise ValueError(f"{what}: mask {mask:#x} has bits beyond {len(target)} slots")
    indexes = [index for index in range(len(target)) if mask >> index & 1]
    width = array(typecode).itemsize * len(indexes)
    chunk = view[offset : offset + width]
    if len(chunk) != width:
        raise ValueError(f"{what}: cut short")
    for index, value in zip(indexes, array(typecode, chunk.tobytes()), strict=True):
        target[index] = value
    return offset + width
