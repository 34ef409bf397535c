"""ssi_stream.scoring: typed events -> effects -> member state -> pillar scores -> daily records (pure).

The engine's whole API is re-exported here.
"""

from ssi_stream.scoring.card import PillarScore, ScoreCard, score
from ssi_stream.scoring.codec import decode_state, encode_state
from ssi_stream.scoring.effects import Effect, EffectKind, decode_effect, effects_of, encode_effect
from ssi_stream.scoring.model import Model, ModelError, load_model
from ssi_stream.scoring.pillars import Contribution
from ssi_stream.scoring.record import daily_record
from ssi_stream.scoring.state import MemberState, absorb, close_day, has_history, new_state

__all__ = [
    "Contribution",
    "Effect",
    "EffectKind",
    "MemberState",
    "Model",
    "ModelError",
    "PillarScore",
    "ScoreCard",
    "absorb",
    "close_day",
    "daily_record",
    "decode_effect",
    "decode_state",
    "effects_of",
    "encode_effect",
    "encode_state",
    "has_history",
    "load_model",
    "new_state",
    "score",
]
