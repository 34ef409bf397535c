"""Repeated log lines while a dependency is down: the first line of each cause per interval, then a count.

With the broker unreachable, aiokafka logs the same few errors on every retry: 4,440 ERROR lines in the
first minute of an idle worker, over a million in three minutes of a busy one. `RepeatLimiter` keeps the
first record of each cause (logger and message template) per interval and counts the others; when the
interval has passed it writes one summary line with that count at the cause's level, so the log still
says how often it happened. It is a handler filter (a logger's filter does not see its children's
records) and only looks at WARNING and above from the loggers in `scopes`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: The loggers of the worker's stack: Faust, its Kafka client, its service framework and ssi-stream.
WORKER_LOGGERS = ("faust", "aiokafka", "mode", "ssi_stream")
#: One line per cause per this many seconds.
INTERVAL_SECONDS = 60.0
#: Causes tracked at once; the oldest is reported and forgotten beyond it.
MAX_CAUSES = 1000

#: Set on a record once judged (a filter on two handlers sees it twice) and on summary records.
_VERDICT = "_ssi_repeat_verdict"
_DIGITS = re.compile(r"\d+")


@dataclass(slots=True)
class _Window:
    """One cause's current interval: when it opened, and how many records it held back since."""

    opened: float
    logger: str
    level: int
    template: str
    suppressed: int = 0


class RepeatLimiter(logging.Filter):
    """Passes the first record of each cause per `interval` seconds and summarises the ones it held back."""

    def __init__(
        self,
        interval: float = INTERVAL_SECONDS,
        *,
        scopes: Iterable[str] = WORKER_LOGGERS,
        level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
        max_causes: int = MAX_CAUSES,
    ) -> None:
        super().__init__()
        self.interval = interval
        self.scopes = tuple(scopes)
        self.level = level
        self.clock = clock
        self.max_causes = max_causes
        self._windows: dict[tuple[str, int, str], _Window] = {}
        self._next_scan = 0.0  # the other causes' windows are looked at once a second at most
        self._lock = threading.Lock()  # Faust's consumer thread logs too

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = record.__dict__.get(_VERDICT)
        if verdict is not None:
            return bool(verdict)
        if record.levelno < self.level or not self._in_scope(record.name):
            return True
        template = str(record.msg)
        key = (record.name, record.levelno, _DIGITS.sub("#", template)[:300])
        now = self.clock()
        with self._lock:
            due = self._take_due(now) if now >= self._next_scan else []
            window = self._windows.get(key)
            passes = window is None or now - window.opened >= self.interval
            if passes:
                if window is not None and window.suppressed:
                    due.append(window)
                self._windows.pop(key, None)
                self._windows[key] = _Window(now, record.name, record.levelno, template)
                due.extend(self._evict_beyond_limit())
            else:
                assert window is not None
                window.suppressed += 1
        record.__dict__[_VERDICT] = passes
        self._summarise(due)
        return passes

    def flush(self, *, everything: bool = False) -> None:
        """Write the summaries whose interval has passed (all of them with `everything`, e.g. at exit)."""
        with self._lock:
            if everything:
                due = [window for window in self._windows.values() if window.suppressed]
                self._windows.clear()
            else:
                due = self._take_due(self.clock())
        self._summarise(due)

    def _in_scope(self, name: str) -> bool:
        return any(name == scope or name.startswith(scope + ".") for scope in self.scopes)

    def _take_due(self, now: float) -> list[_Window]:
        """Remove and return the windows that are over and held records back (under the lock)."""
        self._next_scan = now + min(1.0, self.interval)
        due = [
            (key, window)
            for key, window in self._windows.items()
            if window.suppressed and now - window.opened >= self.interval
        ]
        for key, _ in due:
            del self._windows[key]
        return [window for _, window in due]

    def _evict_beyond_limit(self) -> list[_Window]:
        evicted = []
        while len(self._windows) > self.max_causes:
            oldest = next(iter(self._windows))
            window = self._windows.pop(oldest)
            if window.suppressed:
                evicted.append(window)
        return evicted

    def _summarise(self, windows: list[_Window]) -> None:
        """One line per window, from the cause's own logger and at its level (outside the lock)."""
        for window in windows:
            seconds = self.clock() - window.opened
            logging.getLogger(window.logger).log(
                window.level,
                "%d more like this in the last %.0f s were not logged: %s",
                window.suppressed,
                seconds,
                window.template,
                extra={_VERDICT: True},
            )


def limit_repeats(handlers: Iterable[logging.Handler], limiter: RepeatLimiter) -> RepeatLimiter:
    """Put `limiter` on each handler (the root logger's, once Faust has set logging up)."""
    for handler in handlers:
        if limiter not in handler.filters:
            handler.addFilter(limiter)
    return limiter
