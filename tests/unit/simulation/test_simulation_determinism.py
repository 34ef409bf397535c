"""Same seed, same bytes: across runs and across processes (no global random, no str hash)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys

from ssi_stream.simulation import SimulationConfig, iter_encoded

CONFIG = SimulationConfig(
    members=120, days=5, seed=11, jitter_seconds=20, duplicate_rate=0.02, invalid_rate=0.02
)


def _digest(config: SimulationConfig) -> str:
    h = hashlib.sha256()
    for key, value in iter_encoded(config):
        h.update(key.encode())
        h.update(value)
    return h.hexdigest()


def test_same_seed_gives_identical_bytes() -> None:
    assert _digest(CONFIG) == _digest(CONFIG)


def test_different_seed_gives_different_events() -> None:
    assert _digest(CONFIG) != _digest(dataclasses.replace(CONFIG, seed=12))


def test_identical_bytes_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import hashlib\n"
        "from ssi_stream.simulation import SimulationConfig, iter_encoded\n"
        "h = hashlib.sha256()\n"
        f"for k, v in iter_encoded(SimulationConfig(**{_args()!r})): h.update(k.encode()); h.update(v)\n"
        "print(h.hexdigest())"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _digest(CONFIG)


def _args() -> dict[str, object]:
    return {
        "members": CONFIG.members,
        "days": CONFIG.days,
        "seed": CONFIG.seed,
        "jitter_seconds": CONFIG.jitter_seconds,
        "duplicate_rate": CONFIG.duplicate_rate,
        "invalid_rate": CONFIG.invalid_rate,
    }
