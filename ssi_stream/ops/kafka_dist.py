"""Installs Apache Kafka from Maven Central with `mvn`, once, into a cache directory.

The broker is a plain set of jars (`org.apache.kafka:kafka_2.13` pulls every broker jar at
runtime scope) plus a logging binding, which Kafka's POM leaves out. A marker file written
last makes the install all-or-nothing: a second call finds the marker and needs no network.
Maven's own downloads go to a local repository in the same cache directory (`maven/`), not
`~/.m2`, so everything ssi-stream fetches is in one place (`rm -rf` it to start over). Two installs at
once (`make test` and `make demo` on a fresh machine) take turns: the second finds the first's.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ssi_stream.ops.file_lock import exclusive

#: Kafka 3.9 is the newest line that still accepts every protocol version older clients send
#: (4.0 removed many, KIP-896); faust-streaming's aiokafka and kafka-python both work with it.
KAFKA_VERSION = "3.9.1"
#: Kafka 3.9 logs through slf4j 1.7 + reload4j.
SLF4J_VERSION = "1.7.36"
#: Maven 3.8's default dependency plugin predates fixes we rely on; name a recent one.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_MARKER = "INSTALLED"


class KafkaSetupError(RuntimeError):
    """Kafka could not be installed or started; the message says what to do."""


@dataclass(frozen=True, slots=True)
class KafkaDist:
    """An installed Kafka: its version and the directory holding every jar."""

    version: str
    libs: Path

    @property
    def classpath(self) -> str:
        return str(self.libs / "*")


def require_tool(name: str, install_hint: str) -> str:
    """Path of an executable on PATH, or a KafkaSetupError naming what to install."""
    path = shutil.which(name)
    if path is None:
        raise KafkaSetupError(f"`{name}` was not found on PATH: {install_hint}")
    return path


def java_path() -> str:
    return require_tool(
        "java", "install a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)."
    )


def dist_dir(home: Path, version: str = KAFKA_VERSION) -> Path:
    return home / "dist" / f"kafka-{version}"


def maven_repository(home: Path) -> Path:
    """Maven's local repository for the install: what `mvn` downloads, kept for the next version."""
    return home / "maven"


def installed_dist(home: Path, version: str = KAFKA_VERSION) -> KafkaDist | None:
    """The cached install, if a complete one exists."""
    root = dist_dir(home, version)
    if (root / _MARKER).is_file() and any((root / "libs").glob("kafka_2.13-*.jar")):
        return KafkaDist(version=version, libs=root / "libs")
    return None


def install_kafka(home: Path, version: str = KAFKA_VERSION, *, quiet: bool = False) -> KafkaDist:
    """Return the cached Kafka install, resolving it from Maven Central first if missing."""
    found = installed_dist(home, version)
    if found is not None:
        return found
    # another process may be installing it: wait for it, then look again
    with exclusive(dist_dir(home, version).with_name(f".kafka-{version}.lock")):
        found = installed_dist(home, version)
        if found is not None:
            return found
        return _install(home, version, quiet=quiet)


def _install(home: Path, version: str, *, quiet: bool) -> KafkaDist:
    java_path()
    mvn = require_tool("mvn", "install Apache Maven (e.g. `apt-get install maven`).")
    root = dist_dir(home, version)
    staging = root.with_name(root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    template = resources.files("ssi_stream.ops").joinpath("kafka-dist-pom.xml").read_text()
    pom = template.replace("@KAFKA_VERSION@", version).replace("@SLF4J_VERSION@", SLF4J_VERSION)
    (staging / "pom.xml").write_text(pom)
    command = [
        mvn,
        "-B",
        "-q" if quiet else "-ntp",
        "-f",
        str(staging / "pom.xml"),
        f"{DEPENDENCY_PLUGIN}:copy-dependencies",
        f"-DoutputDirectory={staging / 'libs'}",
        "-DincludeScope=runtime",
        f"-Dmaven.repo.local={maven_repository(home)}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise KafkaSetupError(f"`mvn` could not resolve Kafka {version} (exit {result.returncode}):\n{tail}")
    if not any((staging / "libs").glob("kafka_2.13-*.jar")):
        raise KafkaSetupError(f"`mvn` finished but no kafka_2.13 jar is in {staging / 'libs'}")
    (staging / _MARKER).write_text(version + "\n")
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)
    return KafkaDist(version=version, libs=root / "libs")
