"""Memory is bounded by the population, not by how many days run."""

from __future__ import annotations

from ssi_stream.simulation import Simulation, SimulationConfig
from ssi_stream.simulation.timeline import DAY_MS

CAP = 25


def _run(config: SimulationConfig) -> tuple[Simulation, list[dict[str, int]]]:
    """Run to the end; return the simulation and the largest state sizes seen during each day."""
    simulation = Simulation(config)
    peaks: list[dict[str, int]] = [{} for _ in range(config.days)]
    for n, (t, _) in enumerate(simulation.ordered_events()):
        if n % 200 == 0:
            day = peaks[t // DAY_MS]
            for name, size in simulation.state_size().items():
                day[name] = max(day.get(name, 0), size)
    return simulation, peaks


def test_pending_work_does_not_grow_with_days() -> None:
    _, peaks = _run(SimulationConfig(members=150, days=48, seed=5, max_connections=CAP))
    queue = [day["queue"] for day in peaks if day]
    assert max(queue[-14:]) < 1.5 * max(queue[7:21])
    assert all(day["recent_posts"] <= 4096 for day in peaks if day)


def test_connections_follows_and_groups_are_capped_per_member() -> None:
    config = SimulationConfig(members=150, days=48, seed=5, max_connections=CAP)
    simulation, _ = _run(config)
    network = simulation.network
    degrees = [network.connections.size(i) for i in range(config.members)]
    assert max(degrees) == CAP  # the cap binds (spammers and sellers would exceed it)
    assert all(
        network.following.size(i) <= CAP and network.groups.size(i) <= CAP for i in range(config.members)
    )


def test_queue_grows_with_members() -> None:
    _, small = _run(SimulationConfig(members=100, days=3, seed=5))
    _, large = _run(SimulationConfig(members=400, days=3, seed=5))
    assert max(d["queue"] for d in large if d) > 2 * max(d["queue"] for d in small if d)
