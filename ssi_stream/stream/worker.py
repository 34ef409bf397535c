"""`ssi-stream worker`: run one scoring worker until SIGTERM or Ctrl-C, and stop within a bound."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

import faust

from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.collector import tune_collector
from ssi_stream.ops.kafka_security import KafkaSecurity, load_security
from ssi_stream.ops.log_limits import RepeatLimiter, limit_repeats
from ssi_stream.ops.settings import Settings, SettingsError
from ssi_stream.ops.topics import ensure_topics, topic_names, was_written
from ssi_stream.scoring.model import load_model
from ssi_stream.stream.topology import ScoringTopology, topic_specs

log = logging.getLogger(__name__)

#: The exit status of a worker that did not stop cleanly within SSI_SHUTDOWN_TIMEOUT_SECONDS.
EXIT_SHUTDOWN_TIMEOUT = 1


def run_worker(settings: Settings, *, loglevel: str = "INFO") -> int:
    """Start a worker in this process; returns when it has shut down cleanly."""
    bootstrap = resolve_bootstrap(settings)
    security = load_security(settings)  # a file that cannot be read fails here, before anything starts
    model = load_model(settings.model_path or None)
    for problem in settings.ineffective_settings():
        log.warning("%s", problem)
    topology = ScoringTopology(settings, bootstrap, model)
    # Create the tables' changelogs too, before Faust starts: a worker that creates one itself while
    # under load can keep a stale "0 partitions" view of it and fail with PartitionsMismatch.
    # This also checks the credentials: a refused login is one line here, not a Faust traceback.
    refuse_a_new_effects_topic_under_old_tables(bootstrap, settings, security, topology)
    ensure_topics(bootstrap, [*topic_specs(settings), *topology.changelog_specs()], security=security)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    worker = ScoringWorker(topology, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    tune_collector()  # the app, the model and the imports are built: freeze them (ops.collector)
    worker.execute_from_commandline()  # handles SIGTERM/SIGINT: stops agents, commits, closes
    return 0


#: The effects topic's name before it took the app id as prefix.
LEGACY_EFFECTS_TOPIC = "ssi.effects"


def refuse_a_new_effects_topic_under_old_tables(
    bootstrap: str, settings: Settings, security: KafkaSecurity, topology: ScoringTopology
) -> None:
    """Refuse to start on an effects topic that does not exist yet when the tables already hold state.

    The close-gates table keeps, per effects partition, the next offset it expects (`OffsetGuard`), so
    a worker on a new, empty effects topic would skip its messages as redeliveries until the offsets
    reach the old ones: silently. That happens when a deployment from before the effects topic took the
    app id (`ssi.effects`) upgrades without setting SSI_EFFECTS_TOPIC.
    """
    gates = topology.gates.changelog_topic.get_topic_name()
    existing = topic_names(bootstrap, security=security)
    if settings.effects_topic in existing or gates not in existing:
        return
    if not was_written(bootstrap, gates, security=security):
        return
    found = ", which this cluster has" if LEGACY_EFFECTS_TOPIC in existing else ""
    raise SettingsError(
        f"the effects topic {settings.effects_topic} does not exist, but the tables of {settings.app_id} "
        f"({gates}) hold positions in an earlier one, and a worker would skip a new topic's messages: set "
        f"SSI_EFFECTS_TOPIC to the effects topic this deployment used (before the app-id prefix: "
        f"{LEGACY_EFFECTS_TOPIC}{found}); docs/deploying.md, Upgrading"
    )


class ScoringWorker(faust.Worker):
    """Faust's worker, with repeated log lines limited and a bounded shutdown.

    A clean stop commits what the worker processed, and that needs the broker: with the broker
    unreachable Faust waits for it without end (the agents' flush never returns). After
    `SSI_SHUTDOWN_TIMEOUT_SECONDS` the worker exits anyway, as a SIGKILL would: the durable positions
    make the restarted worker (or the group's others) resume without losing or double counting input.
    """

    def __init__(self, topology: ScoringTopology, **kwargs: Any) -> None:
        super().__init__(topology.app, **kwargs)
        self.topology = topology
        self.shutdown_timeout = float(topology.settings.shutdown_timeout_seconds)
        self.repeats = RepeatLimiter()
        self._deadline: threading.Timer | None = None
        topology.app.timer(self.repeats.interval / 4, name="summarise-repeated-logs")(self._summarise_repeats)

    async def on_start(self) -> None:
        """Start the table recovery watch (before the app's first recovery) and the loop-lag probe."""
        self.add_future(self.topology.watch_recovery())
        self.add_future(self.topology.watch_loop_lag())
        await super().on_start()

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        limit_repeats(logger.handlers, self.repeats)

    def _on_sigterm(self) -> None:
        self._begin_stopping(signal.SIGTERM)
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self._begin_stopping(signal.SIGINT)
        super()._on_sigint()

    async def on_stop(self) -> None:
        """Before the app (a child of this worker) stops: finish the batches in progress and store what
        was absorbed (`ScoringTopology.drain`), so no batch runs on into a stopped producer and the
        restarted worker reads nothing again. If that fails (the broker is away), the stop goes on: the
        durable positions stay consistent, as after a SIGKILL."""
        try:
            await self.topology.drain(for_good=True)
        except Exception as exc:  # a stop must go on
            log.warning("stopping without storing the last absorbed state: %r", exc)
        await super().on_stop()

    def on_worker_shutdown(self) -> None:
        self.repeats.flush(everything=True)
        super().on_worker_shutdown()

    def _begin_stopping(self, signum: signal.Signals) -> None:
        self.topology.views.stopping = True  # /readyz: 503 from now on
        if self._deadline is None:
            self._deadline = threading.Timer(self.shutdown_timeout, self._give_up, args=(signum,))
            self._deadline.daemon = True
            self._deadline.start()

    def _give_up(self, signum: signal.Signals) -> None:
        """Runs on the deadline's own thread: the event loop may be the thing that is stuck."""
        log.critical(
            "not stopped %.0f s after %s (is the broker reachable?): exiting without a clean shutdown; "
            "the restarted worker resumes from the last committed positions",
            self.shutdown_timeout,
            signum.name,
        )
        self.repeats.flush(everything=True)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_SHUTDOWN_TIMEOUT)

    async def _summarise_repeats(self) -> None:
        self.repeats.flush()
