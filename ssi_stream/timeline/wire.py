"""How the timeline's internal messages cross the effects topic.

An effect travels as its own JSON (`encode_effect`, schema `schemas/v1/internal/effect.json`) with two
Kafka headers saying where it counts: `ssi-day` (the day number, ASCII digits) and `ssi-late` (`1` if
it was late at its source). A source mark travels as JSON (`schemas/v1/internal/source_mark.json`) with
the header `ssi-kind: mark`. Headers keep the hot path to one JSON parse per message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from ssi_stream.timeline.source_clock import Placement, SourceMark

KIND_HEADER = "ssi-kind"
DAY_HEADER = "ssi-day"
LATE_HEADER = "ssi-late"
MARK = b"mark"
EFFECT = b"effect"


def placement_headers(placement: Placement) -> list[tuple[str, bytes]]:
    return [
        (KIND_HEADER, EFFECT),
        (DAY_HEADER, str(placement.day).encode()),
        (LATE_HEADER, b"1" if placement.late else b"0"),
    ]


def mark_headers() -> list[tuple[str, bytes]]:
    return [(KIND_HEADER, MARK)]


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
        }
    )


def decode_mark(raw: bytes) -> SourceMark:
    wire = orjson.loads(raw)
    return SourceMark(wire["source"], wire["closable"], wire["top_day"], bool(wire["idle"]), wire["offset"])
