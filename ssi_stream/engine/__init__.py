"""One partition engine, pure: the only place that sequences events into ranked daily records.

`SourceSide` takes a batch of raw events of input partitions and yields steps (dead letters, effects
grouped by the partition of the member they touch, then the source marks); `TargetSide` takes a batch of
effects, marks and day shares for one effects partition and a store of member state, and yields steps
(day shares for every partition, score records, alerts). A `Step` ends with a barrier: a driver delivers
everything it holds — and everything written to the stores so far — before it asks for the next step.
The Faust worker (`stream/`) and `ssi-stream replay` are two thin drivers of this engine; neither holds a
copy of the sequence (docs/streaming.md).
"""

from ssi_stream.engine.messages import EffectMessage, RawEvent, Step, TargetMessage
from ssi_stream.engine.observer import EngineObserver, NullObserver
from ssi_stream.engine.source import MemorySourceStore, SourceSide, SourceStore
from ssi_stream.engine.target import MemoryTargetStore, TargetSide, TargetStore

__all__ = [
    "EffectMessage",
    "EngineObserver",
    "MemorySourceStore",
    "MemoryTargetStore",
    "NullObserver",
    "RawEvent",
    "SourceSide",
    "SourceStore",
    "Step",
    "TargetMessage",
    "TargetSide",
    "TargetStore",
]
