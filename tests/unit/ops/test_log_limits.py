"""The repeat limiter: one line per cause per interval, then one line that counts the others."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from ssi_stream.ops.log_limits import RepeatLimiter, limit_repeats


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    """What a log file would show: one formatted line per record that passes the handler's filters."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, record.levelname, record.getMessage()))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lines(clock: FakeClock) -> Iterator[Lines]:
    """A handler on the root logger with a 60 s limiter, removed afterwards."""
    handler = Lines()
    limit_repeats([handler], RepeatLimiter(60, clock=clock))
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


def test_a_cause_repeated_a_thousand_times_in_an_interval_writes_one_line(
    lines: Lines, clock: FakeClock
) -> None:
    log = logging.getLogger("aiokafka.conn")
    for attempt in range(1000):
        log.error("Unable connect to node with id %s: %s", 1, f"attempt {attempt}")
        clock.now += 0.05  # 50 s in all
    assert lines.lines == [("aiokafka.conn", "ERROR", "Unable connect to node with id 1: attempt 0")]


def test_after_the_interval_one_summary_counts_what_was_held_back_then_the_cause_passes_again(
    lines: Lines, clock: FakeClock
) -> None:
    log = logging.getLogger("aiokafka.client")
    for _ in range(400):
        log.error("Unable to update metadata from %s", [1])
        clock.now += 0.125
    clock.now += 10  # 60 s after the first
    log.error("Unable to update metadata from %s", [1])
    assert lines.lines == [
        ("aiokafka.client", "ERROR", "Unable to update metadata from [1]"),
        (
            "aiokafka.client",
            "ERROR",
            "399 more like this in the last 60 s were not logged: Unable to update metadata from %s",
        ),
        ("aiokafka.client", "ERROR", "Unable to update metadata from [1]"),
    ]


def test_each_cause_has_its_own_window_by_logger_and_template(lines: Lines, clock: FakeClock) -> None:
    for _ in range(3):
        logging.getLogger("aiokafka.conn").error("connect to %s failed", "a")
        logging.getLogger("aiokafka.consumer").error("connect to %s failed", "a")  # another logger
        logging.getLogger("aiokafka.conn").error("fetch from %s failed", "a")  # another template
        logging.getLogger("aiokafka.conn").warning("connect to %s failed", "a")  # another level
    assert len(lines.lines) == 4


def test_templates_differing_only_in_numbers_are_one_cause(lines: Lines, clock: FakeClock) -> None:
    log = logging.getLogger("faust.transport.consumer")
    for offset in range(50):  # Faust formats many messages before logging them
        log.warning(f"wait_empty: Waiting for tasks at offset={offset}")
    assert [line for _, _, line in lines.lines] == ["wait_empty: Waiting for tasks at offset=0"]


def test_quiet_causes_are_summarised_by_flush_or_by_any_later_line(lines: Lines, clock: FakeClock) -> None:
    for _ in range(5):
        logging.getLogger("mode.services").warning("Heartbeat failed")
    clock.now += 61
    assert len(lines.lines) == 1
    limiter = lines.filters[0]
    assert isinstance(limiter, RepeatLimiter)
    limiter.flush()
    assert lines.lines[-1] == (
        "mode.services",
        "WARNING",
        "4 more like this in the last 61 s were not logged: Heartbeat failed",
    )
    limiter.flush()  # reported once
    assert len(lines.lines) == 2
    for _ in range(3):
        logging.getLogger("mode.services").warning("Heartbeat failed")
    clock.now += 61
    logging.getLogger("ssi_stream.stream").error("something else")  # any line reports the due windows
    assert lines.lines[-2:] == [
        ("mode.services", "WARNING", "2 more like this in the last 61 s were not logged: Heartbeat failed"),
        ("ssi_stream.stream", "ERROR", "something else"),
    ]


def test_flush_everything_reports_open_windows_at_exit(lines: Lines, clock: FakeClock) -> None:
    for _ in range(7):
        logging.getLogger("aiokafka").error("down")
    clock.now += 5
    limiter = lines.filters[0]
    assert isinstance(limiter, RepeatLimiter)
    limiter.flush(everything=True)
    assert lines.lines[-1] == ("aiokafka", "ERROR", "6 more like this in the last 5 s were not logged: down")


def test_info_lines_and_other_libraries_are_never_held_back(lines: Lines, clock: FakeClock) -> None:
    for _ in range(3):
        logging.getLogger("faust.tables").info("Restoring state from changelog topics...")
        logging.getLogger("urllib3.connectionpool").error("not a worker logger")
        logging.getLogger("faustian").error("a prefix is not a scope")
    assert len(lines.lines) == 9


def test_a_record_seen_by_two_handlers_gets_the_same_verdict(clock: FakeClock) -> None:
    first, second = Lines(), Lines()
    limit_repeats([first, second], RepeatLimiter(60, clock=clock))
    log = logging.getLogger("ssi_stream.twice")
    log.propagate = False
    log.addHandler(first)
    log.addHandler(second)
    try:
        for _ in range(3):
            log.error("the same")
    finally:
        log.removeHandler(first)
        log.removeHandler(second)
        log.propagate = True
    assert first.lines == second.lines == [("ssi_stream.twice", "ERROR", "the same")]


def test_the_number_of_causes_tracked_is_bounded(clock: FakeClock) -> None:
    handler = Lines()
    limiter = limit_repeats([handler], RepeatLimiter(60, clock=clock, max_causes=10))
    log = logging.getLogger("ssi_stream.many")
    log.propagate = False
    log.addHandler(handler)
    try:
        log.error("cause A")
        log.error("cause A")  # held back
        for n in range(20):
            log.error("cause %s", n)
            log.error(f"distinct cause {'x' * n}")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    assert len(limiter._windows) == 10
    assert ("ssi_stream.many", "ERROR", "1 more like this in the last 0 s were not logged: cause A") in (
        handler.lines
    )


def test_threads_logging_at_once_pass_exactly_one_line(lines: Lines, clock: FakeClock) -> None:
    log = logging.getLogger("aiokafka.consumer.fetcher")

    def spam() -> None:
        for _ in range(500):
            log.error("Failed fetch messages from %s", 1)

    threads = [threading.Thread(target=spam) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lines.lines) == 1
    clock.now += 60
    limiter = lines.filters[0]
    assert isinstance(limiter, RepeatLimiter)
    limiter.flush()
    assert lines.lines[-1][2].startswith("1999 more like this in the last 60 s")
