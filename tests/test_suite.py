"""The suite's own rules (tests/support/suite.py) hold: a property tries the examples its run gives it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.suite import built_once_per_run, quick_examples

ASKED = 40
_tried: list[int] = []


@settings(max_examples=ASKED, deadline=None, database=None)
@given(st.integers())
def test_a_property_asking_for_40_examples(number: int) -> None:
    _tried.append(number)


def test_the_property_above_tried_what_its_run_gives_it(request: pytest.FixtureRequest) -> None:
    run = request.config.getoption("examples")
    if not _tried:
        pytest.skip("the property above did not run in this process (deselected, or on another worker)")
    assert len(_tried) == quick_examples(ASKED, run)


@pytest.mark.parametrize(
    ("asked", "quick"), [(1, 1), (10, 10), (25, 10), (40, 10), (100, 25), (150, 38), (3000, 750)]
)
def test_a_quick_run_tries_a_quarter_of_the_examples_and_at_least_ten(asked: int, quick: int) -> None:
    assert quick_examples(asked) == quick
    assert quick_examples(asked, "full") == asked


def test_a_value_built_once_per_run_is_built_by_one_worker_and_read_by_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []

    def build() -> dict[str, bytes]:
        builds.append(1)
        return {"log": b"line\n" * len(builds)}

    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert built_once_per_run(tmp_path / "gw0", "world", build) == {"log": b"line\n"}
    assert built_once_per_run(tmp_path / "gw0", "world", build) == {"log": b"line\n" * 2}, "no xdist: built"
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        assert built_once_per_run(tmp_path / worker, "world", build) == {"log": b"line\n" * 3}
    assert len(builds) == 3, "under xdist the second worker read what the first built"
