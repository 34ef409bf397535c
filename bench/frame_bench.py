"""The effects hop's pure cost: placing events (decode, clock, effects) and framing their effects, per
frame format, on a simulated log; bare `orjson.loads` of the same frames is the baseline. Also the cost
of building the hop's value objects (`Effect`, `Placement`, `EffectMessage`), against a bare tuple.

    .venv/bin/python bench/frame_bench.py [--members 2000] [--days 2] [--events 20000]

Run it on two checkouts in one session to compare (`git worktree add /tmp/before <commit>`, then
`PYTHONPATH=/tmp/before .venv/bin/python /tmp/before/bench/frame_bench.py`, alternated); a checkout
before frame format 2 measures its one format.
"""

from __future__ import annotations

import argparse
import inspect
import timeit
from datetime import UTC, datetime

import orjson

from ssi_stream.engine import MemorySourceStore, RawEvent, SourceSide
from ssi_stream.engine.messages import EffectMessage
from ssi_stream.simulation import SimulationConfig, iter_encoded
from ssi_stream.stream.wire import decode_frame, encode_frames
from ssi_stream.timeline.policy import TimelineSettings


def best_of(function: object, number: int = 3, repeat: int = 5) -> float:
    """Seconds per call: the best of `repeat` rounds of `number` calls."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    log = list(iter_encoded(SimulationConfig(members=args.members, days=args.days, seed=1)))[: args.events]
    raws = [RawEvent(value) for _, value in log]
    now = datetime.now(UTC)
    timeline = TimelineSettings(partitions=8)

    def place() -> list:
        return list(SourceSide(timeline, MemorySourceStore()).place(raws, now))

    effects = [m for _, m in place()[0].to_targets if isinstance(m, EffectMessage)]
    print(f"{len(raws):,} events, {len(effects):,} effects")
    message = effects[0]
    effect, placement = message.effect, message.placement
    fields = (effect.member_id, effect.effect_id, effect.kind, effect.occurred_at, 0, None, None)
    builds = {
        "tuple of 7": lambda: tuple(fields),
        "Effect": lambda: type(effect)(*fields),
        "Placement": lambda: type(placement)(placement.day, placement.late),
        "EffectMessage": lambda: EffectMessage(effect, placement),
    }
    print(
        "build "
        + ", ".join(f"{name} {best_of(build, 100_000) * 1e9:,.0f} ns" for name, build in builds.items())
    )
    print(f"place (decode, clock, effects)  {best_of(place, 1) / len(raws) * 1e6:6.2f} µs per event")
    formats = (1, 2) if "frame_format" in inspect.signature(encode_frames).parameters else (None,)
    for frame_format in formats:
        options = {} if frame_format is None else {"frame_format": frame_format}
        frames = encode_frames(effects, **options)
        encode = best_of(lambda options=options: encode_frames(effects, **options))
        decode = best_of(lambda frames=frames: [decode_frame(frame) for frame in frames])
        loads = best_of(lambda frames=frames: [orjson.loads(frame) for frame in frames])
        name = "the only format" if frame_format is None else f"format {frame_format}"
        print(
            f"{name:<16} encode {encode / len(effects) * 1e6:5.2f}  decode {decode / len(effects) * 1e6:5.2f}"
            f"  orjson.loads {loads / len(effects) * 1e6:5.2f} µs per effect;"
            f" {sum(map(len, frames)) / len(effects):5.1f} bytes per effect"
        )


if __name__ == "__main__":
    main()
