"""How the engine's internal messages cross the effects topic.

Frames: one Kafka message carries every message a step sends to one partition, in order — a JSON array
(`schemas/v1/internal/frame.json`) of effect entries, `["m", mark]` and `["s", share]` entries, with the
header `ssi-kind: frame`, at most `MAX_FRAME_BYTES` each. Faust then pays its per-message cost once per
frame, not once per effect (BENCHMARKS.md). An effect entry is, in format 2 (the default),
`["f", day, late, [member_id, effect_id, kind, occurred_at, flags, seniority, text]]`, parsed and
type-checked by msgspec; in format 1, `["e", day, late, {effect object}]`. Both are read; `encode_frames`
writes the one `SSI_FRAME_FORMAT` names.

The single-message forms below are still read, so a worker upgraded mid-stream reads what an older
one wrote: an effect travels as its own JSON (`encode_effect`, schema `schemas/v1/internal/effect.json`)
with two Kafka headers saying where it counts: `ssi-day` (the day number, ASCII digits) and `ssi-late`
(`1` if it was late at its source). A source mark travels as JSON (`schemas/v1/internal/source_mark.json`)
with the header `ssi-kind: mark`; a part of a partition's day share for ranking
(`schemas/v1/internal/day_share.json`) with `ssi-kind: share`. Headers keep the hot path to one JSON
parse per message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import msgspec
import orjson

from ssi_stream.engine.messages import EffectMessage, TargetMessage
from ssi_stream.ranking.exchange import DayShare
from ssi_stream.ranking.standing import MAX_BIN
from ssi_stream.scoring.effects import MAX_OCCURRED_AT, Effect, effect_from_wire, encode_effect
from ssi_stream.timeline.days import day_of
from ssi_stream.timeline.source_clock import Placement, SourceMark

KIND_HEADER = "ssi-kind"
DAY_HEADER = "ssi-day"
LATE_HEADER = "ssi-late"
MARK = b"mark"
EFFECT = b"effect"
SHARE = b"share"
FRAME = b"frame"
MAC_HEADER = "ssi-mac"
#: Most JSON bytes in one frame: under Kafka's default 1 MiB record limit with a share part (512 KiB) in it.
MAX_FRAME_BYTES = 900 * 1024


def placement_headers(placement: Placement) -> list[tuple[str, bytes]]:
    return [
        (KIND_HEADER, EFFECT),
        (DAY_HEADER, str(placement.day).encode()),
        (LATE_HEADER, b"1" if placement.late else b"0"),
    ]


def mark_headers() -> list[tuple[str, bytes]]:
    return [(KIND_HEADER, MARK)]


def share_headers() -> list[tuple[str, bytes]]:
    return [(KIND_HEADER, SHARE)]


def frame_headers(value: bytes, key: bytes | None = None) -> list[tuple[str, bytes]]:
    """A frame's headers; with `key`, its HMAC-SHA256 signature too (see `check_signature`)."""
    if key is None:
        return [(KIND_HEADER, FRAME)]
    return [(KIND_HEADER, FRAME), (MAC_HEADER, _mac(key, value))]


def check_signature(value: bytes | None, headers: Mapping[str, bytes], key: bytes) -> None:
    """Raise ValueError unless `headers` carry the HMAC-SHA256 of `value` under `key` (a forged or an
    unsigned internal record must not change a score)."""
    given = headers.get(MAC_HEADER)
    if given is None:
        raise ValueError(f"internal record without a {MAC_HEADER} signature (SSI_INTERNAL_KEY_FILE is set)")
    if not hmac.compare_digest(given, _mac(key, value or b"")):
        raise ValueError(f"internal record whose {MAC_HEADER} signature does not match: forged or corrupt")


def _mac(key: bytes, value: bytes) -> bytes:
    return hmac.new(key, value, hashlib.sha256).hexdigest().encode()


def header_map(headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> dict[str, bytes]:
    if not headers:
        return {}
    if isinstance(headers, Mapping):
        return dict(headers)
    return {key: value for key, value in headers}


def placement_from_headers(headers: Mapping[str, bytes]) -> Placement:
    try:
        return Placement(int(headers[DAY_HEADER]), headers.get(LATE_HEADER) == b"1")
    except (KeyError, ValueError) as exc:
        raise ValueError(f"effect message without a valid {DAY_HEADER} header: {exc}") from None


def encode_mark(mark: SourceMark) -> bytes:
    return orjson.dumps(
        {
            "source": mark.source,
            "closable": mark.closable,
            "top_day": mark.top_day,
            "idle": mark.idle,
            "offset": mark.offset,
            "first_day": mark.first_day,
        }
    )


_MARK_KEYS = ("source", "closable", "top_day", "idle", "offset", "first_day")


def decode_mark(raw: bytes) -> SourceMark:
    """Parse `encode_mark` output; raises ValueError naming the faulty key on malformed input."""
    try:
        wire = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"source mark: not JSON ({exc})") from None
    return mark_from_wire(wire)


def mark_from_wire(wire: object) -> SourceMark:
    """A source mark from its parsed JSON; raises ValueError naming the faulty key."""
    if type(wire) is not dict:
        raise ValueError(f"source mark: expected a JSON object, got {type(wire).__name__}")
    if wire.keys() != set(_MARK_KEYS):
        missing, unknown = sorted(set(_MARK_KEYS) - wire.keys()), sorted(wire.keys() - set(_MARK_KEYS))
        raise ValueError(f"source mark: missing keys {missing}, unknown keys {unknown}")
    source, closable, top_day, idle, offset, first_day = (wire[key] for key in _MARK_KEYS)
    if type(source) is not int or source < 0:
        raise ValueError(f"source mark: 'source' must be an integer >= 0, got {source!r}")
    if type(offset) is not int or offset < -1:
        raise ValueError(f"source mark: 'offset' must be an integer >= -1, got {offset!r}")
    if type(idle) is not bool:
        raise ValueError(f"source mark: 'idle' must be true or false, got {idle!r}")
    both_null = closable is None and top_day is None
    if not (both_null or (type(closable) is int and type(top_day) is int)):
        raise ValueError(
            f"source mark: 'closable' and 'top_day' must be both null or both integers, "
            f"got {closable!r} and {top_day!r}"
        )
    if first_day is not None and type(first_day) is not int:
        raise ValueError(f"source mark: 'first_day' must be an integer or null, got {first_day!r}")
    return SourceMark(source, closable, top_day, idle, offset, first_day)


_SHARE_KEYS = ("source", "day", "part", "parts", "industries", "network", "closed")


def encode_share(share: DayShare) -> bytes:
    return orjson.dumps(
        {
            "source": share.source,
            "day": share.day,
            "part": share.part,
            "parts": share.parts,
            "industries": share.industries,
            "network": share.network,
            "closed": share.closed,
        }
    )


def decode_share(raw: bytes) -> DayShare:
    """Parse `encode_share` output; raises ValueError naming the faulty key on malformed input."""
    try:
        wire = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"day share: not JSON ({exc})") from None
    return share_from_wire(wire)


def share_from_wire(wire: object) -> DayShare:
    """A day share part from its parsed JSON; raises ValueError naming the faulty key."""
    if type(wire) is not dict or wire.keys() != set(_SHARE_KEYS):
        raise ValueError(f"day share: expected an object with keys {list(_SHARE_KEYS)}")
    source, day, part, parts, industries, network, closed = (wire[key] for key in _SHARE_KEYS)
    if type(closed) is not bool:
        raise ValueError("day share: 'closed' must be true or false")
    for name, value, least in (
        ("source", source, 0),
        ("day", day, None),
        ("part", part, 0),
        ("parts", parts, 1),
    ):
        if type(value) is not int or (least is not None and value < least):
            raise ValueError(
                f"day share: {name!r} must be an integer{'' if least is None else f' >= {least}'}"
            )
    if part >= parts:
        raise ValueError(f"day share: part {part} of {parts}")
    if type(industries) is not dict or not all(
        type(pairs) is list
        and all(
            type(pair) is list
            and len(pair) == 2
            and type(pair[0]) is int
            and type(pair[1]) is int
            and 0 <= pair[0] <= MAX_BIN
            and pair[1] > 0
            for pair in pairs
        )
        for pairs in industries.values()
    ):
        raise ValueError("day share: 'industries' must map names to [[bin 0-10000, count >= 1], ...]")
    if type(network) is not dict or not all(
        1 <= len(member_id) <= 64
        and type(bins) is list
        and all(type(b) is int and 0 <= b <= MAX_BIN for b in bins)
        for member_id, bins in network.items()
    ):
        raise ValueError("day share: 'network' must map member ids (1-64 characters) to [bin 0-10000, ...]")
    return DayShare(source, day, part, parts, industries, network, closed)


#: The frame formats `encode_frames` writes (`SSI_FRAME_FORMAT`): 2 writes each effect as a positional
#: `["f", ...]` entry; 1 writes the `["e", ..., {effect}]` object entries an older worker reads (set it
#: during a rolling upgrade from one, docs/streaming.md). Both are always read.
FRAME_FORMATS = (1, 2)
#: The last day an effect can count in: the day of the latest event time it can hold.
MAX_DAY = day_of(MAX_OCCURRED_AT)


class _Entry(msgspec.Struct, array_like=True, frozen=True, gc=False, forbid_unknown_fields=True):
    """A frame entry: an array whose first item is its tag, and no item more than its fields."""


class _FlatEffect(_Entry, tag="f"):
    """Format 2's effect entry: ``["f", day, late (0|1), [member_id, effect_id, kind, occurred_at, flags,
    seniority|null, text|null]]``, type-checked by msgspec as it is parsed."""

    day: Annotated[int, msgspec.Meta(ge=0, le=MAX_DAY)]
    late: Literal[0, 1]
    effect: Effect


class _ObjectEffect(_Entry, tag="e"):
    """Format 1's effect entry: ``["e", day, late, {effect}]`` (the effect checked by `effect_from_wire`)."""

    day: Any
    late: Any
    effect: msgspec.Raw


class _MarkEntry(_Entry, tag="m"):
    mark: msgspec.Raw


class _ShareEntry(_Entry, tag="s"):
    share: msgspec.Raw


def _parsed(index: int, raw: msgspec.Raw) -> object:
    """An object entry's payload, parsed as format 1 always was (orjson: 64-bit integers, 1,024 levels)."""
    try:
        return orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"frame: entry {index}: {exc}") from None


_FRAME = msgspec.json.Decoder(list[_FlatEffect | _ObjectEffect | _MarkEntry | _ShareEntry])
_ENCODE = msgspec.json.Encoder().encode


def encode_frames(
    messages: Sequence[TargetMessage], max_bytes: int = MAX_FRAME_BYTES, *, frame_format: int = 2
) -> list[bytes]:
    """`messages` for one partition as frames, in order; each at most `max_bytes` unless one message alone
    is larger (a share part is at most 512 KiB: see `ranking.exchange`)."""
    if frame_format not in FRAME_FORMATS:
        raise ValueError(f"frame format must be one of {FRAME_FORMATS}, got {frame_format!r}")
    flat = frame_format == 2
    frames: list[bytes] = []
    entries: list[bytes] = []
    size = 2
    encoded: dict[int, bytes] = {}  # a mark or share goes to every partition: encode it once
    for message in messages:
        if isinstance(message, EffectMessage):
            placement = message.placement
            if flat:
                entry = _ENCODE(("f", placement.day, int(placement.late), message.effect))
            else:
                entry = b'["e",%d,%d,%s]' % (placement.day, placement.late, encode_effect(message.effect))
        else:
            entry = encoded.get(id(message))
            if entry is None:
                if isinstance(message, SourceMark):
                    entry = b'["m",' + encode_mark(message) + b"]"
                else:
                    entry = b'["s",' + encode_share(message) + b"]"
                encoded[id(message)] = entry
        if entries and size + len(entry) + 1 > max_bytes:
            frames.append(b"[" + b",".join(entries) + b"]")
            entries, size = [], 2
        entries.append(entry)
        size += len(entry) + 1
    if entries:
        frames.append(b"[" + b",".join(entries) + b"]")
    return frames


def decode_frame(raw: bytes) -> list[TargetMessage]:
    """Parse `encode_frames` output (either format); raises ValueError saying what is wrong on malformed
    input."""
    try:
        entries = _FRAME.decode(raw)
    except msgspec.ValidationError as exc:
        raise ValueError(f"frame: {_entry_problem(str(exc))}") from None
    except msgspec.DecodeError as exc:
        raise ValueError(f"frame: not JSON ({exc})") from None
    except RecursionError:
        raise ValueError("frame: nested too deeply to be a frame") from None
    messages: list[TargetMessage] = []
    for index, entry in enumerate(entries):
        if type(entry) is _FlatEffect:
            messages.append(EffectMessage(entry.effect, Placement(entry.day, entry.late == 1)))
        elif type(entry) is _ObjectEffect:
            day, late = entry.day, entry.late
            if type(day) is not int or late not in (0, 1) or type(late) is not int:
                raise ValueError(f"frame: entry {index}: day must be an integer and late 0 or 1")
            if not 0 <= day <= MAX_DAY:
                raise ValueError(f"frame: entry {index}: day {day} is not within 0..{MAX_DAY}")
            effect = effect_from_wire(_parsed(index, entry.effect))
            messages.append(EffectMessage(effect, Placement(day, late == 1)))
        elif type(entry) is _MarkEntry:
            messages.append(mark_from_wire(_parsed(index, entry.mark)))
        else:
            messages.append(share_from_wire(_parsed(index, entry.share)))
    return messages


_AT_ENTRY = re.compile(r" - at `\$\[(\d+)\](.*)`$")


def _entry_problem(problem: str) -> str:
    """msgspec's account of an invalid frame, in the words of the frame's contract."""
    at = _AT_ENTRY.search(problem)
    if at is None:  # msgspec names no place for the frame itself, nor for an entry of too many items
        if problem.startswith("Expected `array`, got"):
            return f"expected a JSON array of entries ({problem})"
        return f"an entry is malformed ({problem})"
    index, within, what = at.group(1), at.group(2), problem[: at.start()]
    if within == "[0]" and what.startswith("Invalid value"):
        return f"entry {index} is not an effect, mark or share entry ({what})"
    return f"entry {index}: {what}" + (f" (at {within})" if within else "")
