"""Python's cyclic garbage collector, set for a scorer: rarer young collections, start-up objects frozen.

The engine allocates a few dozen short-lived objects per event (decoded events, effects, steps) and
keeps every member's ledger alive. With CPython's default first threshold (700 allocations), a
replay of 93k events in the worker's batches runs 682 collections that take 8.7-9.7 % of its CPU,
mostly walking objects that are about to die anyway or that live for the whole run
(`bench/collector_bench.py`, BENCHMARKS.md "Session 10"). Nothing the engine
keeps forms a reference cycle; reference counting frees it, so collecting less often costs little
memory: at most `YOUNG_THRESHOLD` cyclic objects wait for the next collection.
"""

from __future__ import annotations

import gc

#: Allocations (minus deallocations) between two collections of the youngest generation (default 700).
YOUNG_THRESHOLD = 50_000
#: Young collections between two collections of the middle generation (default 10).
MIDDLE_THRESHOLD = 20
#: Middle collections between two full collections (default 10; CPython also waits until a quarter of
#: the long-lived objects are new since the last full collection).
OLD_THRESHOLD = 100


def tune_collector(*, freeze: bool = True) -> tuple[int, int, int]:
    """Set the collector's thresholds for a scoring process and, with `freeze`, move every object alive
    now (modules, the model, start-up state) out of its reach for good (`gc.freeze`). Returns the
    thresholds it replaced. Call once, after start-up, in the process's main thread."""
    previous = gc.get_threshold()
    if freeze:
        gc.collect()  # what start-up left as garbage goes first; what is frozen is never looked at again
        gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    return previous  # type: ignore[return-value]
