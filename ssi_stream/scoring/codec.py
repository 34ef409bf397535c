"""Compact binary form of `MemberState` (little-endian, sparse: zeros cost nothing).

Layout, version 1::

    u8  version (=1)
    i32 first_day, i32 last_closed          (INT32_MIN = none)
    u32 mask of non-zero decayed signals,  then one f32 per set bit
    u8  mask of non-zero levels,           then one i32 per set bit
    profile                                (see below)
    u8  number of open days, then per open day:
        i32 day, u64 mask of non-zero count slots, then one i32 per set bit, then profile

    profile: u8 presence bits (1 sections, 2 seniority, 4 industry), then for each present field:
        i64 stamp, then u16 sections | u8 seniority code | u16 length + UTF-8 industry

Decayed signals are float32 in memory too, so a round-trip changes nothing and scores stay identical.
"""

from __future__ import annotations

import struct
from array import array

from ssi_stream.scoring.sparse import fill, get_sparse, put_sparse, sparse
from ssi_stream.scoring.state import N_LEVELS, N_SIGNALS, N_SLOTS, MemberState, OpenDay, ProfileFacts

STATE_VERSION = 1
_NONE_DAY = -(2**31)
#: What decoding errors name.
WHAT = "member state"
_HEADER = struct.Struct("<Bii")
_DAY_MASK = struct.Struct("<iQ")


def encode_state(state: MemberState) -> bytes:
    """Serialise `state` (see the module docstring for the layout)."""
    out = bytearray(
        _HEADER.pack(
            STATE_VERSION,
            _NONE_DAY if state.first_day is None else state.first_day,
            _NONE_DAY if state.last_closed is None else state.last_closed,
        )
    )
    put_sparse(out, state.decayed, "<I", "f")
    put_sparse(out, state.levels, "<B", "i")
    _put_profile(out, state.profile)
    out.append(len(state.open_days))
    for open_day in sorted(state.open_days, key=lambda d: d.day):
        mask, values = sparse(open_day.counts)
        out += _DAY_MASK.pack(open_day.day, mask)
        out += array("i", values).tobytes()
        _put_profile(out, open_day.profile)
    return bytes(out)


def decode_state(raw: bytes) -> MemberState:
    """Parse `encode_state` output; raises ValueError on an unknown version or truncated input."""
    try:
        return _decode(memoryview(raw))
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"member state: corrupt encoding ({exc})") from None


def _decode(view: memoryview) -> MemberState:
    version, first_day, last_closed = _HEADER.unpack_from(view, 0)
    if version != STATE_VERSION:
        raise ValueError(
            f"member state: unknown encoding version {version} (this code reads {STATE_VERSION})"
        )
    state = MemberState(
        first_day=None if first_day == _NONE_DAY else first_day,
        last_closed=None if last_closed == _NONE_DAY else last_closed,
    )
    offset = get_sparse(view, _HEADER.size, state.decayed, "<I", "f", WHAT)
    offset = get_sparse(view, offset, state.levels, "<B", "i", WHAT)
    profile, offset = _get_profile(view, offset)
    state.profile = profile or ProfileFacts()
    count = view[offset]
    offset += 1
    for _ in range(count):
        day, mask = _DAY_MASK.unpack_from(view, offset)
        open_day = OpenDay(day)
        offset = fill(view, offset + _DAY_MASK.size, open_day.counts, mask, "i", WHAT)
        open_day.profile, offset = _get_profile(view, offset)
        state.open_days.append(open_day)
    if offset != len(view):
        raise ValueError(f"member state: {len(view) - offset} unexpected trailing bytes")
    return state


def _put_profile(out: bytearray, profile: ProfileFacts | None) -> None:
    if profile is None:
        out.append(0)
        return
    presence = (
        (1 if profile.sections_stamp >= 0 else 0)
        | (2 if profile.seniority_stamp >= 0 else 0)
        | (4 if profile.industry_stamp >= 0 else 0)
    )
    out.append(presence)
    if presence & 1:
        out += struct.pack("<qH", profile.sections_stamp, profile.sections)
    if presence & 2:
        out += struct.pack("<qB", profile.seniority_stamp, profile.seniority)
    if presence & 4:
        text = (profile.industry or "").encode()
        out += struct.pack("<qH", profile.industry_stamp, len(text)) + text


def _get_profile(view: memoryview, offset: int) -> tuple[ProfileFacts | None, int]:
    presence = view[offset]
    offset += 1
    if not presence:
        return None, offset
    profile = ProfileFacts()
    if presence & 1:
        profile.sections_stamp, profile.sections = struct.unpack_from("<qH", view, offset)
        offset += 10
    if presence & 2:
        profile.seniority_stamp, profile.seniority = struct.unpack_from("<qB", view, offset)
        offset += 9
    if presence & 4:
        profile.industry_stamp, length = struct.unpack_from("<qH", view, offset)
        offset += 10
        profile.industry = bytes(view[offset : offset + length]).decode()
        offset += length
    return profile, offset


assert N_SIGNALS <= 32 and N_LEVELS <= 8 and N_SLOTS <= 64, "masks are u32 / u8 / u64"
