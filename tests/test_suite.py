"""The suite's own rules (tests/support/suite.py) hold: a property tries the examples its run gives it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.suite import quick_examples

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
