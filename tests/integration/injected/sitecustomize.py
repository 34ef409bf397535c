"""Fault injection for one integration test (on PYTHONPATH of a worker child process only).

With SSI_TEST_DROP_RECOVERED_CHANGELOG=1, Faust's consumer drops the first records it fetches of each
changelog partition while a table recovery runs (once a partition in the life of the process), as its
consumer does when a fetch in flight crosses a rebalance's seek: the position moves past records the
recovery never gets (see ssi_stream.stream.recovery_watch). Each drop is logged, so the test can tell
it happened.
"""

from __future__ import annotations

import logging
import os
from typing import Any

if os.environ.get("SSI_TEST_DROP_RECOVERED_CHANGELOG") == "1":
    from faust.transport import consumer as faust_consumer

    _log = logging.getLogger("ssi_test.injected")
    _dropped: set[Any] = set()
    _fetch = faust_consumer.Consumer._wait_next_records

    async def _dropping_fetch(self: Any, timeout: float) -> Any:
        records, active = await _fetch(self, timeout)
        if records and self.app.tables.recovery.in_recovery:
            for tp in [tp for tp, batch in records.items() if batch and tp.topic.endswith("-changelog")]:
                if tp not in _dropped:
                    _dropped.add(tp)
                    batch = records.pop(tp)
                    _log.warning(
                        "injected fault: dropped %s[%d] offsets %d..%d in recovery",
                        tp.topic,
                        tp.partition,
                        batch[0].offset,
                        batch[-1].offset,
                    )
        return records, active

    faust_consumer.Consumer._wait_next_records = _dropping_fetch  # type: ignore[method-assign]
