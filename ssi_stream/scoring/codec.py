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

from ssi_stream.scoring.sparse import sparse_array, sparse_values
from ssi_stream.scoring.state import N_LEVELS, N_SIGNALS, N_SLOTS, MemberState, OpenDay, ProfileFacts

STATE_VERSION = 1
_NONE_DAY = -(2**31)
#: What decoding errors name.
WHAT = "member state"
_HEADER = struct.Struct("<Bii")
_HEADER_AND_SIGNALS = struct.Struct("<BiiI")  # the header, then the signals' mask
_SIGNALS_MASK = struct.Struct("<I")
_LEVELS_MASK = struct.Struct("<B")
_DAY_MASK = struct.Struct("<iQ")
_SECTIONS = struct.Struct("<qH")
_SENIORITY = struct.Struct("<qB")
_INDUSTRY = struct.Struct("<qH")  # stamp, length of the UTF-8 text that follows
#: A profile with all three fields (the common case), read and written in one go.
_FULL_PROFILE = struct.Struct("<BqHqBqH")
_FULL = 7


def encode_state(state: MemberState) -> bytes:
    """Serialise `state` (see the module docstring for the layout)."""
    signals_mask, signals = sparse_values(state.decayed)
    levels_mask, levels = sparse_values(state.levels)
    open_days = state.open_days
    parts = [
        _HEADER_AND_SIGNALS.pack(
            STATE_VERSION,
            _NONE_DAY if state.first_day is None else state.first_day,
            _NONE_DAY if state.last_closed is None else state.last_closed,
            signals_mask,
        ),
        signals,
        _LEVELS_MASK.pack(levels_mask),
        levels,
        _profile_bytes(state.profile),
        bytes((len(open_days),)),  # ValueError past 255, as bytearray.append
    ]
    if len(open_days) > 1:
        open_days = sorted(open_days, key=lambda d: d.day)
    for open_day in open_days:
        mask, counts = sparse_values(open_day.counts)
        parts += (_DAY_MASK.pack(open_day.day, mask), counts, _profile_bytes(open_day.profile))
    return b"".join(parts)


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
    (mask,) = _SIGNALS_MASK.unpack_from(view, _HEADER.size)
    decayed, offset = sparse_array(view, _HEADER.size + _SIGNALS_MASK.size, N_SIGNALS, mask, "f", WHAT)
    (mask,) = _LEVELS_MASK.unpack_from(view, offset)
    levels, offset = sparse_array(view, offset + _LEVELS_MASK.size, N_LEVELS, mask, "i", WHAT)
    profile, offset = _get_profile(view, offset)
    count = view[offset]
    offset += 1
    open_days = []
    for _ in range(count):
        day, mask = _DAY_MASK.unpack_from(view, offset)
        counts, offset = sparse_array(view, offset + _DAY_MASK.size, N_SLOTS, mask, "i", WHAT)
        day_profile, offset = _get_profile(view, offset)
        open_days.append(OpenDay(day, counts, day_profile))
    if offset != len(view):
        raise ValueError(f"member state: {len(view) - offset} unexpected trailing bytes")
    return MemberState(
        None if first_day == _NONE_DAY else first_day,
        None if last_closed == _NONE_DAY else last_closed,
        decayed,
        levels,
        profile or ProfileFacts(),
        open_days,
    )


def _profile_bytes(profile: ProfileFacts | None) -> bytes:
    if profile is None:
        return b"\0"
    presence = (
        (1 if profile.sections_stamp >= 0 else 0)
        | (2 if profile.seniority_stamp >= 0 else 0)
        | (4 if profile.industry_stamp >= 0 else 0)
    )
    if presence == _FULL:
        text = (profile.industry or "").encode()
        return (
            _FULL_PROFILE.pack(
                _FULL,
                profile.sections_stamp,
                profile.sections,
                profile.seniority_stamp,
                profile.seniority,
                profile.industry_stamp,
                len(text),
            )
            + text
        )
    parts = [bytes((presence,))]
    if presence & 1:
        parts.append(_SECTIONS.pack(profile.sections_stamp, profile.sections))
    if presence & 2:
        parts.append(_SENIORITY.pack(profile.seniority_stamp, profile.seniority))
    if presence & 4:
        text = (profile.industry or "").encode()
        parts.append(_INDUSTRY.pack(profile.industry_stamp, len(text)) + text)
    return b"".join(parts)


def _get_profile(view: memoryview, offset: int) -> tuple[ProfileFacts | None, int]:
    presence = view[offset]
    if not presence:
        return None, offset + 1
    if presence == _FULL and offset + _FULL_PROFILE.size <= len(view):  # else as below, for its errors
        sections_stamp, sections, seniority_stamp, seniority, industry_stamp, length = (
            _FULL_PROFILE.unpack_from(view, offset)[1:]
        )
        offset += _FULL_PROFILE.size
        industry = bytes(view[offset : offset + length]).decode()
        profile = ProfileFacts(sections, sections_stamp, seniority, seniority_stamp, industry, industry_stamp)
        return profile, offset + length
    offset += 1
    profile = ProfileFacts()
    if presence & 1:
        profile.sections_stamp, profile.sections = _SECTIONS.unpack_from(view, offset)
        offset += _SECTIONS.size
    if presence & 2:
        profile.seniority_stamp, profile.seniority = _SENIORITY.unpack_from(view, offset)
        offset += _SENIORITY.size
    if presence & 4:
        profile.industry_stamp, length = _INDUSTRY.unpack_from(view, offset)
        offset += _INDUSTRY.size
        profile.industry = bytes(view[offset : offset + length]).decode()
        offset += length
    return profile, offset


assert N_SIGNALS <= 32 and N_LEVELS <= 8 and N_SLOTS <= 64, "masks are u32 / u8 / u64"
