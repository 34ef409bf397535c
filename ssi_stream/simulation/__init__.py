"""Deterministic population simulator: realistic activity events for demos, tests and benchmarks.

Pure Python, no Kafka: `generate(SimulationConfig(...))` streams event dicts in time order;
`iter_encoded` gives (key, bytes) pairs for a producer; `write_jsonl` writes a file. See docs/simulation.md.
"""

from ssi_stream.simulation.activity import Simulation
from ssi_stream.simulation.config import SimulationConfig
from ssi_stream.simulation.output import generate, iter_encoded, keyed_events, write_jsonl
from ssi_stream.simulation.personas import DEFAULT_MIX, PERSONAS, Persona
from ssi_stream.simulation.population import Member, Population

__all__ = [
    "DEFAULT_MIX",
    "PERSONAS",
    "Member",
    "Persona",
    "Population",
    "Simulation",
    "SimulationConfig",
    "generate",
    "iter_encoded",
    "keyed_events",
    "write_jsonl",
]
