"""The collector settings every driver of the engine applies (`ops.collector`)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ssi_stream.ops.collector import MIDDLE_THRESHOLD, OLD_THRESHOLD, YOUNG_THRESHOLD, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_collector")
def test_sets_the_thresholds_and_returns_the_ones_it_replaced() -> None:
    gc.set_threshold(700, 10, 10)
    assert tune_collector(freeze=False) == (700, 10, 10)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("restored_collector")
def test_freezes_what_is_alive_and_collects_start_up_garbage_first() -> None:
    class Node:
        other: Node

    kept = Node()
    kept.other = kept  # a cycle that stays alive: frozen, out of every later collection's walk
    lost = Node()
    lost.other = lost  # a cycle nobody refers to: collected before the freeze, not kept forever
    gone = weakref.ref(lost)
    del lost
    gc.disable()  # no collection of its own between here and the call
    try:
        assert gone() is not None
        tune_collector()
    finally:
        gc.enable()
    assert gone() is None
    assert gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())  # frozen objects are not listed
    gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())
