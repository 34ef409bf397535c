"""Where ssi-stream keeps its local files: the Kafka install cache and local broker state."""

from __future__ import annotations

import os
from pathlib import Path


def ssi_home() -> Path:
    """`SSI_STREAM_HOME`, or `$XDG_CACHE_HOME/ssi-stream` (default `~/.cache/ssi-stream`)."""
    explicit = os.environ.get("SSI_STREAM_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser().resolve() / "ssi-stream"
