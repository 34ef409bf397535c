"""The worker image: Python 3.11 slim, the package with RocksDB, a non-root user, the CLI as entry point."""

from __future__ import annotations

import json
import re
import tomllib

from ssi_stream.cli import build_parser
from ssi_stream.ops.settings import Settings, env_names
from tests.deploy.catalog import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def instructions(keyword: str) -> list[str]:
    """Arguments of every `keyword` instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in text.splitlines() if line.split(None, 1)[:1] == [keyword]]


def test_base_image_is_python_311_slim() -> None:
    assert instructions("FROM") == ["python:3.11-slim"]


def test_installs_the_package_with_the_rocksdb_extra() -> None:
    assert any('pip install --no-cache-dir ".[rocksdb]"' in run for run in instructions("RUN"))
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "rocksdb" in pyproject["project"]["optional-dependencies"]
    for copy in instructions("COPY"):
        for source in copy.split()[:-1]:
            assert (REPO / source).exists(), source


def test_runs_as_a_non_root_user() -> None:
    (user,) = instructions("USER")
    assert user.split(":")[0] not in {"root", "0"}


def test_entry_point_is_the_cli_and_the_default_command_a_worker() -> None:
    (entrypoint,) = instructions("ENTRYPOINT")
    (command,) = instructions("CMD")
    assert json.loads(entrypoint) == ["ssi-stream"]
    assert "ssi-stream" in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert build_parser().parse_args(json.loads(command)).command == "worker"


def test_environment_is_real_settings_and_serves_on_the_default_port() -> None:
    (environment,) = instructions("ENV")
    pairs = dict(re.findall(r"(\w+)=(\S+)", environment))
    ssi = {name: value for name, value in pairs.items() if name.startswith("SSI_")}
    assert set(ssi) <= set(env_names())
    assert Settings.from_env(ssi).web_host == "0.0.0.0"
    assert instructions("EXPOSE") == [str(Settings().web_port)]
