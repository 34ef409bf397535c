"""Shared fixtures: a real Kafka broker for integration tests, started once per run; how the suite runs
(hypothesis example counts, xdist grouping: see tests/support/suite.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import LocalBroker
from ssi_stream.ops.kafka_dist import install_kafka
from tests.support.suite import (
    EXAMPLE_RUNS,
    EXAMPLES_VARIABLE,
    module_scheduling,
    run_directory,
    scale_hypothesis_examples,
    slow_modules_first,
    xdist_worker,
)

#: The session broker's directory, under the run's shared directory (one broker for every xdist worker).
SESSION_BROKER = "kafka-broker"
#: Every JVM the tests start (their brokers, Kafka's StorageTool) compiles with C1 only: a test broker
#: lives minutes, and C2's compiling costs more CPU than it saves there (7 s of 17 on the broker of
#: test_stream_equals_replay and test_bad_records). The product's JVM options are unchanged.
os.environ.setdefault("JDK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--examples",
        choices=sorted(EXAMPLE_RUNS),
        default=os.environ.get(EXAMPLES_VARIABLE, "quick"),
        help=f"hypothesis examples per property: quick (a quarter of what each asks for, the default) or "
        f"full (all of them); also ${EXAMPLES_VARIABLE}",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the broker carries the `kafka` marker, so `-m "not kafka"` skips them all.

    Tests marked `fault_suite_only` (fault scenarios too long for `make test`) run only when the marker
    expression names the fault suite (`make faults`: `-m faults`); otherwise they say they skipped.
    """
    in_fault_suite = "faults" in (config.getoption("markexpr", "") or "")
    for item in items:
        if "kafka_bootstrap" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)
        if item.get_closest_marker("fault_suite_only") is not None and not in_fault_suite:
            item.add_marker(pytest.mark.skip(reason="in the fault suite only: make faults"))
    scale_hypothesis_examples(items, config.getoption("examples"))
    if xdist_worker():
        slow_modules_first(items)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under `-n N`: a module per worker at a time (tests/support/suite.py), unless --dist says otherwise."""
    return module_scheduling(config, log) if config.getvalue("dist") in ("load", "loadscope") else None


@pytest.fixture(autouse=True)
def _kafka_installed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Before a `kafka` test: Kafka in the cache (`install_kafka` lets one process install at a time)."""
    if request.node.get_closest_marker("kafka") is None:
        return
    install_kafka(ssi_home(), quiet=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a running broker: `SSI_TEST_BROKER` if set, else a fresh local one.

    The local broker reuses the Kafka install cached under SSI_STREAM_HOME (installing it with
    `mvn` the first time) and lives in a temporary directory for this test run only. Under xdist the
    workers share it: the first `up` starts it, the others find it running (`up` is idempotent and
    locked), and the controller stops it when the run ends. A missing java or mvn fails the tests
    loudly: they are never skipped silently.
    """
    external = os.environ.get("SSI_TEST_BROKER")
    if external:
        yield external
        return
    broker = LocalBroker(ssi_home(), run_directory(tmp_path_factory.getbasetemp()) / SESSION_BROKER)
    state = broker.up(timeout=120)
    try:
        yield state.bootstrap
    finally:
        if not xdist_worker():
            broker.down()


@pytest.hookimpl(trylast=True)  # after xdist stopped its workers
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller of an xdist run stops the broker its workers shared (if one was started)."""
    config = session.config
    if (
        xdist_worker()
        or not getattr(config.option, "numprocesses", None)
        or os.environ.get("SSI_TEST_BROKER")
    ):
        return
    instance = config._tmp_path_factory.getbasetemp() / SESSION_BROKER  # type: ignore[attr-defined]
    if instance.is_dir():
        LocalBroker(ssi_home(), instance).down()
