"""The scoring model: every weight, half-life, saturation constant and prior, as validated data.

`load_model` reads a TOML file (the packaged `ssi_stream/model/default.toml` by default) into a frozen
`Model`. The dataclasses below are the schema: each field is one required TOML key, and its metadata
states the allowed range, so validation errors name the exact key (`pillars.x.weights.y`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any, get_type_hints

#: Points a pillar can earn; the SSI is the sum of four pillars.
PILLAR_MAX = 25.0
PILLARS: tuple[str, ...] = (
    "professional_brand",
    "find_right_people",
    "engage_with_insights",
    "build_relationships",
)


class ModelError(ValueError):
    """The model file is unusable; the message names the file, the key and what is wrong."""


def _number(minimum: float = 0.0, maximum: float = math.inf, *, positive: bool = False) -> Any:
    return field(metadata={"min": minimum, "max": maximum, "positive": positive})


def _points() -> Any:
    return _number(0.0, PILLAR_MAX)


def _rate() -> Any:
    return _number(0.0, 1.0, positive=True)


def _scale() -> Any:
    return _number(positive=True)


@dataclass(frozen=True, slots=True)
class HalfLives:
    """Days after which a signal counts half; each names a family of signals (see docs/scoring.md)."""

    invitations: float = _scale()
    messages: float = _scale()
    content: float = _scale()
    engagement_given: float = _scale()
    engagement_received: float = _scale()
    searches: float = _scale()
    profile_views: float = _scale()
    activity: float = _scale()
    audience: float = _scale()


@dataclass(frozen=True, slots=True)
class StateSettings:
    #: Decayed signals below this are reset to 0 at day close (keeps inactive members small).
    forget_below: float = _number(0.0, 1.0)


@dataclass(frozen=True, slots=True)
class Prior:
    """A Bayesian prior for a ratio: `weight` pseudo-observations at `rate`."""

    rate: float = _number()
    weight: float = _scale()


@dataclass(frozen=True, slots=True)
class Priors:
    invitation_acceptance: Prior
    message_reply: Prior
    responsiveness: Prior
    search_success: Prior
    engagement_per_post: Prior


@dataclass(frozen=True, slots=True)
class BrandWeights:
    profile_completeness: float = _points()
    recommendations: float = _points()
    content: float = _points()
    engagement_received: float = _points()
    followers: float = _points()


@dataclass(frozen=True, slots=True)
class BrandSaturation:
    recommendations: float = _scale()
    content: float = _scale()
    engagement_received: float = _scale()
    followers: float = _scale()


@dataclass(frozen=True, slots=True)
class BrandQuality:
    article_weight: float = _number()
    reshare_weight: float = _number()
    comment_weight: float = _number()
    reaction_weight: float = _number()
    share_weight: float = _number()
    #: Weighted engagement per post at which content earns full credit.
    engagement_per_post_target: float = _scale()


@dataclass(frozen=True, slots=True)
class Brand:
    weights: BrandWeights
    saturation: BrandSaturation
    quality: BrandQuality


@dataclass(frozen=True, slots=True)
class ProspectingWeights:
    people_searches: float = _points()
    prospecting_views: float = _points()
    days_active: float = _points()
    decision_makers_reached: float = _points()


@dataclass(frozen=True, slots=True)
class ProspectingSaturation:
    people_searches: float = _scale()
    prospecting_views: float = _scale()
    days_active: float = _scale()
    decision_makers_reached: float = _scale()


@dataclass(frozen=True, slots=True)
class ProspectingQuality:
    #: Share of searches that lead to an opened result at which searches earn full credit.
    search_success_target: float = _rate()
    #: Weight of a profile view from the feed/network relative to one from a search.
    other_view_weight: float = _number()
    #: Invitation acceptance rate at which searching and viewing earn full credit.
    acceptance_target: float = _rate()


@dataclass(frozen=True, slots=True)
class Prospecting:
    weights: ProspectingWeights
    saturation: ProspectingSaturation
    quality: ProspectingQuality


@dataclass(frozen=True, slots=True)
class EngagementWeights:
    engagement_given: float = _points()
    conversations: float = _points()
    responsiveness: float = _points()
    groups: float = _points()
    #: Maximum points lost for messages nobody answers.
    unanswered_messages: float = _points()


@dataclass(frozen=True, slots=True)
class EngagementSaturation:
    engagement_given: float = _scale()
    conversations: float = _scale()
    responsiveness: float = _scale()
    groups: float = _scale()
    unanswered_messages: float = _scale()


@dataclass(frozen=True, slots=True)
class EngagementQuality:
    comment_weight: float = _number()
    reaction_weight: float = _number()
    share_weight: float = _number()
    #: Reply rate below which initiated messages start to cost points.
    reply_rate_threshold: float = _rate()
    #: Reply rate to received messages at which responsiveness earns full credit.
    responsiveness_target: float = _rate()


@dataclass(frozen=True, slots=True)
class Engagement:
    weights: EngagementWeights
    saturation: EngagementSaturation
    quality: EngagementQuality


@dataclass(frozen=True, slots=True)
class RelationshipWeights:
    connections: float = _points()
    decision_maker_connections: float = _points()
    accepted_invitations: float = _points()
    acceptance_rate: float = _points()
    invitations_accepted_by_you: float = _points()
    #: Maximum points lost for invitations nobody accepts.
    blind_invitations: float = _points()


@dataclass(frozen=True, slots=True)
class RelationshipSaturation:
    connections: float = _scale()
    decision_maker_connections: float = _scale()
    accepted_invitations: float = _scale()
    #: Invitations sent before the acceptance rate earns its full weight.
    acceptance_rate: float = _scale()
    invitations_accepted_by_you: float = _scale()
    blind_invitations: float = _scale()


@dataclass(frozen=True, slots=True)
class RelationshipQuality:
    #: Acceptance rate at which accepted invitations earn full credit.
    acceptance_target: float = _rate()
    #: Acceptance rate below which sent invitations start to cost points.
    acceptance_threshold: float = _rate()


@dataclass(frozen=True, slots=True)
class Relationships:
    weights: RelationshipWeights
    saturation: RelationshipSaturation
    quality: RelationshipQuality


@dataclass(frozen=True, slots=True)
class Pillars:
    professional_brand: Brand
    find_right_people: Prospecting
    engage_with_insights: Engagement
    build_relationships: Relationships


@dataclass(frozen=True, slots=True)
class Model:
    """A loaded, validated scoring model. Build it with `load_model`."""

    version: str
    half_life_days: HalfLives
    state: StateSettings
    priors: Priors
    pillars: Pillars


DEFAULT_MODEL = "default.toml"


def load_model(path: str | Path | None = None) -> Model:
    """Read and validate a model file; None loads the packaged default. Raises ModelError."""
    if path is None:
        source = resources.files("ssi_stream").joinpath("model", DEFAULT_MODEL)
        name, text = DEFAULT_MODEL, source.read_text(encoding="utf-8")
    else:
        name = Path(path).name
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"{name}: cannot read the model file ({exc.strerror})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{name}: not valid TOML ({exc})") from None
    model = _build(Model, document, name, "")
    if not model.version.strip():
        raise ModelError(f"{name}: version must be a non-empty string")
    return model


def _build(cls: type, table: dict[str, Any], name: str, prefix: str) -> Any:
    """Construct dataclass `cls` from a TOML table, checking keys, types and ranges."""
    hints = get_type_hints(cls)
    expected = {f.name: f for f in fields(cls)}
    unknown = sorted(table.keys() - expected.keys())
    if unknown:
        raise ModelError(f"{name}: unknown key {prefix}{unknown[0]} (expected one of {sorted(expected)})")
    values: dict[str, Any] = {}
    for key, spec in expected.items():
        path = f"{prefix}{key}"
        if key not in table:
            raise ModelError(f"{name}: missing key {path}")
        value = table[key]
        kind = hints[key]
        if is_dataclass(kind):
            if not isinstance(value, dict):
                raise ModelError(f"{name}: {path} must be a table, got {value!r}")
            values[key] = _build(kind, value, name, f"{path}.")
        elif kind is str:
            if not isinstance(value, str):
                raise ModelError(f"{name}: {path} must be a string, got {value!r}")
            values[key] = value
        else:
            values[key] = _number_value(value, spec, name, path)
    return cls(**values)


def _number_value(value: Any, spec: Any, name: str, path: str) -> float:
    low, high, positive = spec.metadata["min"], spec.metadata["max"], spec.metadata["positive"]
    bound = f"> {low:g}" if positive else f"≥ {low:g}"
    if high != math.inf:
        bound += f" and ≤ {high:g}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < low
        or (positive and value == low)
        or value > high
    ):
        raise ModelError(f"{name}: {path} must be a number {bound}, got {value!r}")
    return float(value)
