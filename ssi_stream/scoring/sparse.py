"""Sparse arrays in the compact codecs: a bit mask of the non-zero slots, then their values in order.

The per-slot work runs in C: `itertools.compress` sums the mask bits of the non-zero slots, and a pair of
`struct.Struct`s per mask (`_layout`) gathers those slots' items out of an array, or scatters them back
over a zero-filled image of it. Items are native, as `array` holds them.
"""

from __future__ import annotations

import re
import struct
from array import array
from functools import cache, lru_cache
from itertools import compress

#: `_BITS[i]` is slot i's mask bit (masks are at most 64 bits wide in every codec).
_BITS = tuple(1 << index for index in range(64))


def _bits(length: int) -> tuple[int, ...]:
    return _BITS if length <= len(_BITS) else tuple(1 << index for index in range(length))


def sparse(values: array) -> tuple[int, list]:
    """The mask of `values`' non-zero slots and those values, in slot order."""
    return sum(compress(_bits(len(values)), values)), list(compress(values, values))


def sparse_values(values: array) -> tuple[int, bytes]:
    """The mask of `values`' non-zero slots and those values' items (of `values`' typecode), in slot order."""
    length = len(values)
    mask = sum(compress(_bits(length), values))
    gather, image = _layout(mask, length, values.typecode)
    return mask, gather.pack(*image.unpack_from(values))


def put_sparse(out: bytearray, values: array, mask_format: str, typecode: str) -> None:
    """Append `values` to `out`: the mask (packed as `mask_format`), then the non-zero values."""
    if typecode == values.typecode:
        mask, present = sparse_values(values)
    else:
        mask, items = sparse(values)
        present = array(typecode, items).tobytes()
    out += struct.pack(mask_format, mask)
    out += present


def get_sparse(
    view: memoryview, offset: int, target: array, mask_format: str, typecode: str, what: str
) -> int:
    """Read what `put_sparse` wrote at `offset` into `target`; returns the offset after it."""
    (mask,) = struct.unpack_from(mask_format, view, offset)
    return fill(view, offset + struct.calcsize(mask_format), target, mask, typecode, what)


def fill(view: memoryview, offset: int, target: array, mask: int, typecode: str, what: str) -> int:
    """Set the slots of `target` that `mask` names from the values at `offset`; returns the offset after
    them. Raises ValueError, naming `what`, on a mask wider than `target` or values cut short."""
    values, end = sparse_array(view, offset, len(target), mask, typecode, what)
    for index in range(len(target)):  # the slots `mask` names; the others keep what they held
        if mask >> index & 1:
            target[index] = values[index]
    return end


def sparse_array(
    view: memoryview, offset: int, length: int, mask: int, typecode: str, what: str
) -> tuple[array, int]:
    """A new array of `length` `typecode` slots: those `mask` names from the values at `offset`, the others
    zero (what `fill` makes of a zeroed array); and the offset after the values. Raises as `fill` does."""
    if mask >> length:
        raise ValueError(f"{what}: mask {mask:#x} has bits beyond {length} slots")
    values, image = _layout(mask, length, typecode)
    width = values.size
    if width and offset + width > len(view):
        raise ValueError(f"{what}: cut short")
    return array(typecode, image.pack(*values.unpack_from(view, offset))), offset + width


@lru_cache(maxsize=4096)
def _layout(mask: int, length: int, typecode: str) -> tuple[struct.Struct, struct.Struct]:
    """The structs of the `typecode` items of `mask`'s slots (no bits beyond `length`): one packs them one
    after the other, one in place in the whole array, the other slots pad bytes (zeros when packed,
    skipped when unpacked). The second's format is put together a byte of the mask at a time."""
    whole, rest = divmod(length, 8)
    groups = mask.to_bytes(whole + 1, "little")
    image = "".join(map(_group_formats(8, typecode).__getitem__, groups[:whole]))
    if rest:
        image += _group_formats(rest, typecode)[groups[whole]]
    return _values_struct(mask.bit_count(), typecode), struct.Struct(image)


@cache
def _values_struct(count: int, typecode: str) -> struct.Struct:
    return struct.Struct(f"{count}{typecode}")


@cache
def _group_formats(width: int, typecode: str) -> tuple[str, ...]:
    """The image format of `width` (at most 8) slots for each byte of their mask bits: a run of n set
    slots is `<n><typecode>`, one of n clear slots `<n * itemsize>x`."""
    size = array(typecode).itemsize
    return tuple(
        "".join(
            f"{len(run)}{typecode}" if run[0] == "1" else f"{len(run) * size}x"
            for run in re.findall("1+|0+", f"{bits:08b}"[::-1][:width])
        )
        for bits in range(256)
    )
