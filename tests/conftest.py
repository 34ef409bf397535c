"""Shared fixtures: a real Kafka broker for integration tests, started once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ssi_stream.ops.home import ssi_home
from ssi_stream.ops.kafka_broker import LocalBroker


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


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a running broker: `SSI_TEST_BROKER` if set, else a fresh local one.

    The local broker reuses the Kafka install cached under SSI_STREAM_HOME (installing it with
    `mvn` the first time) and lives in a temporary directory for this test session only. A
    missing java or mvn fails the tests loudly: they are never skipped silently.
    """
    external = os.environ.get("SSI_TEST_BROKER")
    if external:
        yield external
        return
    broker = LocalBroker(ssi_home(), tmp_path_factory.mktemp("kafka-broker"))
    state = broker.up(timeout=120)
    try:
        yield state.bootstrap
    finally:
        broker.down()
