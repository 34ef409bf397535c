"""How the suite runs: hypothesis example counts, which tests share an xdist worker, the shared broker.

Used by tests/conftest.py; nothing here is a fixture. The rules hold for every test, the ones added later
included:

- A property asks for its examples with `@settings(max_examples=N)` (or hypothesis's default, 100). The
  quick run (the default, what `make test` runs) tries `quick_examples(N)` of them: every property runs,
  on fewer draws. `--examples=full` (or `SSI_TEST_EXAMPLES=full`) tries the N each test asks for.
- Under pytest-xdist (`-n N`) a test module runs whole on one worker, in file order, so its module
  fixtures are built once and its order holds (`ModuleScheduling`). The modules in `SPREAD_MODULES` hold
  long, independent tests: each of their tests goes to whichever worker is free.
- Under xdist, modules with a test marked `slow` or `kafka` are handed out first, so the long integration
  tests start at once and the short unit tests fill the gaps while they wait on Kafka and workers.
- A session fixture that costs seconds and is used by modules that may land on different workers is
  built once per run (`built_once_per_run`), not once per worker.
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import pytest

from ssi_stream.ops.file_lock import exclusive

#: `--examples` values: the fraction of each property's examples tried, and the fewest tried.
EXAMPLE_RUNS = {"quick": (0.25, 10), "full": (1.0, 0)}
EXAMPLES_VARIABLE = "SSI_TEST_EXAMPLES"


def quick_examples(asked: int, run: str = "quick") -> int:
    """How many of the `asked` examples a property tries in `run`: never more than asked."""
    fraction, fewest = EXAMPLE_RUNS[run]
    return min(asked, max(fewest, math.ceil(asked * fraction)))


def scale_hypothesis_examples(items: Iterable[pytest.Item], run: str) -> None:
    """Give every hypothesis test `quick_examples` of the examples its settings ask for (once per test
    function: parametrized cases share it)."""
    from hypothesis import settings

    for item in items:
        test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if not getattr(test, "is_hypothesis_test", False) or hasattr(test, "_ssi_examples_asked"):
            continue
        written = test._hypothesis_internal_use_settings
        test._ssi_examples_asked = written.max_examples
        test._hypothesis_internal_use_settings = settings(
            written, max_examples=quick_examples(written.max_examples, run)
        )


#: Modules whose tests share no module fixture and no order, and take a minute each: run side by side.
SPREAD_MODULES = frozenset(
    {
        "tests/integration/test_worker_failures.py",  # three scenarios, each on its own topics
        "tests/integration/test_local_broker.py",  # each test owns its broker
    }
)


def scheduling_unit(nodeid: str) -> str:
    """What an xdist worker is handed at once: the test's module, or the test alone if it is spread."""
    module = nodeid.split("::", 1)[0]
    return nodeid if module in SPREAD_MODULES else module


def module_scheduling(config: pytest.Config, log: object) -> object:
    """xdist's load-by-scope scheduling with `scheduling_unit` as the scope, in collection order.

    (xdist's own `--dist loadgroup` cannot be used: it renames items, which pytest 9.2 ignores.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scheduling_unit(nodeid)

    config.option.loadscopereorder = False  # keep the order `slow_modules_first` gave
    return ModuleScheduling(config, log)


def slow_modules_first(items: list[pytest.Item]) -> None:
    """Reorder `items` so that modules holding a `slow` or `kafka` test come first, each in its order."""
    slow = {
        _module(item) for item in items if item.get_closest_marker("slow") or item.get_closest_marker("kafka")
    }
    position = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (_module(item) not in slow, position[id(item)]))


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def xdist_worker() -> str | None:
    """This process's xdist worker id (`gw0`, ...), or None outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def run_directory(basetemp: Path) -> Path:
    """A directory every process of this pytest run shares: the controller's basetemp under xdist."""
    return basetemp.parent if xdist_worker() else basetemp


T = TypeVar("T")


def built_once_per_run(basetemp: Path, name: str, build: Callable[[], T]) -> T:
    """`build()` once per pytest run: under xdist the first worker to ask builds it and leaves it pickled
    in the run's shared directory, the others wait for it and read it; outside xdist it is just built.

    For session fixtures whose value is plain data (bytes, dicts, tuples): each worker gets its own copy."""
    if not xdist_worker():
        return build()
    shared = run_directory(basetemp) / "built-once" / f"{name}.pickle"
    with exclusive(shared.with_suffix(".lock")):
        if shared.exists():
            return pickle.loads(shared.read_bytes())
        value = build()
        partial = shared.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(shared)
        return value
