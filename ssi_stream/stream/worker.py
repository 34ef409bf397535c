"""`ssi-stream worker`: run one scoring worker until SIGTERM or Ctrl-C."""

from __future__ import annotations

import faust

from ssi_stream.ops.bootstrap import resolve_bootstrap
from ssi_stream.ops.kafka_security import load_security
from ssi_stream.ops.settings import Settings
from ssi_stream.ops.topics import ensure_topics
from ssi_stream.scoring.model import load_model
from ssi_stream.stream.topology import ScoringTopology, topic_specs


def run_worker(settings: Settings, *, loglevel: str = "INFO") -> int:
    """Start a worker in this process; returns when it has shut down cleanly."""
    bootstrap = resolve_bootstrap(settings)
    security = load_security(settings)  # a file that cannot be read fails here, before anything starts
    model = load_model(settings.model_path or None)
    topology = ScoringTopology(settings, bootstrap, model)
    # Create the tables' changelogs too, before Faust starts: a worker that creates one itself while
    # under load can keep a stale "0 partitions" view of it and fail with PartitionsMismatch.
    # This also checks the credentials: a refused login is one line here, not a Faust traceback.
    ensure_topics(bootstrap, [*topic_specs(settings), *topology.changelog_specs()], security=security)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    worker = faust.Worker(topology.app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()  # handles SIGTERM/SIGINT: stops agents, commits, closes
    return 0
