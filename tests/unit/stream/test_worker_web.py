"""What a worker tells its group and serves, read from the Faust app it builds (no broker needed)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from yarl import URL

from ssi_stream.ops.settings import Settings
from ssi_stream.scoring.model import load_model
from ssi_stream.stream.topology import ScoringTopology
from ssi_stream.stream.web_server import ApiWeb


def topology(tmp_path: Path, **changes: object) -> ScoringTopology:
    settings = replace(Settings(), store="memory://", data_dir=str(tmp_path), **changes)  # type: ignore[arg-type]
    return ScoringTopology(settings, "127.0.0.1:9", load_model())


def test_the_group_is_told_ssi_web_url_and_the_server_is_the_closed_one(tmp_path: Path) -> None:
    app = topology(tmp_path, web_host="0.0.0.0", web_url="http://10.1.2.3:6066").app
    assert app.conf.canonical_url == URL("http://10.1.2.3:6066")
    assert app.conf.web_bind == "0.0.0.0"
    assert isinstance(app.web, ApiWeb)


def test_without_ssi_web_url_the_group_is_told_the_web_host_and_port(tmp_path: Path) -> None:
    app = topology(tmp_path, web_port=7123).app
    assert app.conf.canonical_url == URL("http://127.0.0.1:7123")


def test_advertising_an_address_no_other_worker_can_reach_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ssi_stream.stream.routing"):
        topology(tmp_path, web_host="0.0.0.0")
    assert "set SSI_WEB_URL" in caplog.text and "http://0.0.0.0:6066" in caplog.text
