"""`ssi-stream dlq resend --file ... --dry-run` as an SRE meets it, without a broker: one line per record
that would be sent, the skips, a summary on stderr; unusable settings and files are one-line errors.
(The topic and the real send are proved on the broker: tests/integration/test_dlq_resend.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from ssi_stream.cli import EXIT_RUNTIME, main

GOOD = {"event_id": "e-1", "type": "group_joined", "member_id": "m-1", "group_id": "g-1"}
LINES = [
    orjson.dumps(GOOD | {"occurred_at": "2099-03-02T09:15:00Z"}),  # future_timestamp: resendable later
    orjson.dumps(GOOD | {"occurred_at": "2026-03-02T09:15:00Z", "type": "group_left"}),  # unknown_type
    b'{"event_id": "e-3", "member_id": "m-2", "member_id": "m-2"}',  # duplicate_key
    b"not json",  # not_json: no member_id to key it by
]


@pytest.fixture(autouse=True)
def _no_ssi_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SSI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SSI_BROKER", "127.0.0.1:1")  # nothing listens: a dry run of a file needs no broker


@pytest.fixture
def dead_letters(tmp_path: Path) -> Path:
    events, dlq = tmp_path / "events.jsonl", tmp_path / "rejected.jsonl"
    events.write_bytes(b"\n".join(LINES) + b"\n")
    assert main(["replay", str(events), "--output", str(tmp_path / "s.jsonl"), "--dlq", str(dlq)]) == 0
    return dlq


def test_a_dry_run_of_a_file_lists_what_would_be_sent_and_sends_nothing(
    dead_letters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dlq", "resend", "--file", str(dead_letters), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"{dead_letters}:1: future_timestamp (from ") and "key 'm-1'" in lines[0]
    assert lines[3] == f"{dead_letters}:4: skipped, no member_id to key it by"
    assert err == (
        f"dlq resend: 4 read from {dead_letters}, 4 selected, 3 would be sent to ssi.events"
        " (dry run: nothing was sent); skipped: 1 no member_id to key it by\n"
    )


def test_a_dry_run_selects_by_reason(dead_letters: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["dlq", "resend", "--file", str(dead_letters), "--dry-run", "--reason", "future_timestamp"]
    assert main([*argv, "--reason", "duplicate_key"]) == 0
    out, err = capsys.readouterr()
    assert [line.split(": ")[1].split()[0] for line in out.splitlines()] == [
        "future_timestamp",
        "duplicate_key",
    ]
    assert "4 read from" in err and "2 selected, 2 would be sent" in err


def test_offsets_select_nothing_of_a_replayed_file(
    dead_letters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dlq", "resend", "--file", str(dead_letters), "--dry-run", "--offsets", "0-"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "4 read from" in err and "0 selected" in err


def test_a_missing_file_and_an_unreachable_broker_are_one_line_errors(
    tmp_path: Path, dead_letters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.jsonl"
    assert main(["dlq", "resend", "--file", str(missing), "--dry-run"]) == EXIT_RUNTIME
    assert capsys.readouterr().err == f"ssi-stream dlq resend: cannot read {missing}: no such file\n"
    assert main(["dlq", "resend", "--file", str(dead_letters)]) == EXIT_RUNTIME  # a real send needs Kafka
    err = capsys.readouterr().err
    assert err.startswith("ssi-stream dlq resend: cannot reach Kafka") and err.count("\n") == 1
