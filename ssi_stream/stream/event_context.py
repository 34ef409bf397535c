"""Run table writes as if inside one event's stream iteration.

A Faust table sends each write to the changelog partition of the event being processed, which it
finds in a context variable that stream iteration sets. A batch from `take_events` is processed
outside that iteration, so before writing a partition's state we name the event it comes from.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from faust.streams import _current_event
from faust.types import EventT


@contextmanager
def event_context(event: EventT) -> Iterator[None]:
    """Within the block, Faust's `current_event()` is `event` (so table writes go to its partition)."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
