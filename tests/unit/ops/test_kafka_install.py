"""`install_kafka` with stand-ins for `java` and `mvn` on PATH: what it asks Maven for, and how often."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ssi_stream.ops.kafka_dist import KAFKA_VERSION, install_kafka, installed_dist, maven_repository

#: A `mvn` that records its arguments and "downloads" the broker jar to -DoutputDirectory, like the real
#: `dependency:copy-dependencies` does.
FAKE_MVN = """#!/bin/sh
printf '%s\\n' "$*" >> "$MVN_CALLS"
for argument in "$@"; do
  case $argument in
    -DoutputDirectory=*) libs=${argument#-DoutputDirectory=} ;;
  esac
done
mkdir -p "$libs" && touch "$libs/kafka_2.13-@VERSION@.jar"
"""


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the stand-in `mvn` appends each call's arguments to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("java", "#!/bin/sh\n"), ("mvn", FAKE_MVN.replace("@VERSION@", KAFKA_VERSION))):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "mvn-calls"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MVN_CALLS", str(log))
    return log


def test_maven_downloads_into_the_cache_directory_not_the_users_m2(calls: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    dist = install_kafka(home)
    (arguments,) = [shlex.split(line) for line in calls.read_text().splitlines()]
    assert f"-Dmaven.repo.local={maven_repository(home)}" in arguments
    assert maven_repository(home).parent == home
    assert ".m2" not in " ".join(arguments)
    assert dist == installed_dist(home) and dist.libs.is_relative_to(home)


def test_a_second_install_finds_the_cache_and_runs_no_maven(calls: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = install_kafka(home)
    second = install_kafka(home)
    assert second == first
    assert len(calls.read_text().splitlines()) == 1


def test_two_installs_at_once_take_turns_and_maven_runs_once(
    calls: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make test` and `make demo` started together on a fresh machine: without a lock, the second
    would delete the first's staging directory while its `mvn` runs."""
    slow = tmp_path / "bin" / "mvn"
    slow.write_text(slow.read_text().replace("#!/bin/sh\n", "#!/bin/sh\nsleep 1\n", 1))  # a download
    home = tmp_path / "home"
    script = (
        "from pathlib import Path; from ssi_stream.ops.kafka_dist import install_kafka; "
        f"install_kafka(Path({str(home)!r}))"
    )
    children = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [child.wait(timeout=120) for child in children] == [0, 0]
    assert len(calls.read_text().splitlines()) == 1
    assert installed_dist(home) is not None
