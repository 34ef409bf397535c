"""Confluent Schema Registry framing on an event value: refused with its own reason, or taken off.

A Schema Registry serializer (Confluent's `KafkaJsonSchemaSerializer` and its ports) writes the magic
byte 0x00, the schema id as a 4-byte big-endian integer, then the JSON. ssi-stream reads plain JSON; by
setting (`SSI_SCHEMA_REGISTRY_FRAMING`) it refuses a framed value (`reject`, the default), takes the
framing off and reads the JSON after it (`skip`), or does so only for the schema ids it was given
(`check`, `SSI_SCHEMA_REGISTRY_IDS`). A value is framed when it starts with 0x00 and has at least the
5 framing bytes: no JSON text starts with a NUL byte, so a plain event is never mistaken for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ssi_stream.events.rejection import Rejected, RejectionCode

__all__ = ["FRAME_BYTES", "MAGIC", "FramingMode", "SchemaRegistryFraming", "unframe"]

#: The first byte of a framed value, and the bytes before the JSON (magic byte + schema id).
MAGIC = b"\x00"
FRAME_BYTES = 5
#: Schema Registry ids are positive Java ints.
MAX_SCHEMA_ID = 2**31 - 1


class FramingMode(StrEnum):
    """What the decoder does with a framed value."""

    REJECT = "reject"
    SKIP = "skip"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class SchemaRegistryFraming:
    """The framing rule: `mode`, and for `check` the schema ids whose values are read."""

    mode: FramingMode = FramingMode.REJECT
    schema_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.mode is FramingMode.CHECK and not self.schema_ids:
            raise ValueError("framing 'check' needs the schema ids to accept")
        if self.mode is not FramingMode.CHECK and self.schema_ids:
            raise ValueError(f"schema ids are only used by framing 'check', not {self.mode.value!r}")
        wrong = [number for number in self.schema_ids if not 0 <= number <= MAX_SCHEMA_ID]
        if wrong:
            raise ValueError(f"a schema id is a whole number from 0 to {MAX_SCHEMA_ID}, got {min(wrong)}")


def unframe(raw: bytes, framing: SchemaRegistryFraming) -> bytes | Rejected:
    """The JSON of a framed `raw` (one that starts with `MAGIC` and has `FRAME_BYTES`), or why not."""
    schema_id = int.from_bytes(raw[1:FRAME_BYTES], "big")
    mode = framing.mode
    if mode is FramingMode.REJECT:
        return Rejected(
            RejectionCode.SCHEMA_REGISTRY_FRAMED,
            None,
            f"payload starts with Schema Registry framing (magic byte 0, schema id {schema_id}): events "
            "are plain JSON unless the workers take the framing off (SSI_SCHEMA_REGISTRY_FRAMING)",
        )
    if mode is FramingMode.CHECK and schema_id not in framing.schema_ids:
        accepted = sorted(framing.schema_ids)
        shown = ", ".join(map(str, accepted[:10])) + (", …" if len(accepted) > 10 else "")
        return Rejected(
            RejectionCode.UNKNOWN_SCHEMA_ID,
            None,
            f"payload is framed with schema id {schema_id}, which is not one of the accepted ids "
            f"{shown} (SSI_SCHEMA_REGISTRY_IDS)",
        )
    return raw[FRAME_BYTES:]
