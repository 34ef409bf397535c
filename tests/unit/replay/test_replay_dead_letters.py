"""Invalid lines go to the dead-letter file with their reason and where they were read; blank lines are
not events and are skipped."""

from __future__ import annotations

from ssi_stream.events.decode import Rejected, decode

from .conftest import NOW, Replayed, World, replay_bytes, schema_validator


def test_every_invalid_line_is_dead_lettered_with_its_reason_file_and_line(
    world: World, replayed: Replayed
) -> None:
    invalid = {number: decode(raw, now=NOW) for number, raw in world.lines() if not world.is_valid(number)}
    assert len(invalid) > 5
    by_line = {record["source"]["line"]: record for record in replayed.dead_letters}
    assert sorted(by_line) == sorted(invalid)
    assert len(replayed.dead_letters) == replayed.stats.rejected == len(invalid)
    validator = schema_validator("v2/records/dead_letter.json")
    for number, rejection in invalid.items():
        record = by_line[number]
        validator.validate(record)
        assert isinstance(rejection, Rejected)
        assert (record["reason"], record["field"]) == (rejection.code.value, rejection.field)
        assert record["source"]["file"] == "events.jsonl"
        if record["payload_encoding"] == "utf8":
            assert record["payload"].encode() == world.raws[number - 1]
    reasons = {code.value: count for code, count in replayed.stats.rejected_by_reason.items()}
    assert sum(reasons.values()) == len(invalid)
    assert replayed.result is not None
    assert all(f"{code} {count}" in replayed.result.summary() for code, count in reasons.items())


def test_blank_lines_are_skipped_and_line_numbers_stay_true(world: World, replayed: Replayed) -> None:
    blanks = (b"", b"   ", b"\t", b"\r")
    padded: list[bytes] = []
    for index, raw in enumerate(world.raws):
        padded.append(raw)
        if index % 97 == 0:
            padded.append(blanks[index % len(blanks)])
    padded_log = b"".join(raw + b"\n" for raw in padded)
    again = replay_bytes(padded_log)
    assert again.output == replayed.output
    assert again.stats == replayed.stats
    file_lines = padded_log.split(b"\n")
    assert len(again.dead_letters) == len(replayed.dead_letters)
    for record in again.dead_letters:
        raw = file_lines[record["source"]["line"] - 1]
        assert raw.strip() and not world.is_valid(world.raws.index(raw) + 1)


def test_a_log_with_crlf_line_ends_replays_to_the_same_records(world: World, replayed: Replayed) -> None:
    again = replay_bytes(world.log.replace(b"\n", b"\r\n"))
    assert again.output == replayed.output
    assert again.stats == replayed.stats
