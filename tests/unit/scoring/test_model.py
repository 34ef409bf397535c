"""The model file: the packaged default loads, and every kind of mistake is named precisely."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from ssi_stream.scoring import ModelError, load_model
from ssi_stream.scoring.model import PILLAR_MAX

DEFAULT = resources.files("ssi_stream").joinpath("model", "default.toml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_default_loads_and_matches_an_explicit_path(tmp_path: Path) -> None:
    model = load_model()
    assert model.version == tomllib.loads(DEFAULT)["version"]
    assert load_model(write(tmp_path, DEFAULT)) == model
    assert load_model(str(write(tmp_path, DEFAULT))) == model


def test_every_positive_pillar_adds_up_to_25_points() -> None:
    pillars = load_model().pillars
    penalties = {"unanswered_messages", "blind_invitations"}
    for name in ("professional_brand", "find_right_people", "engage_with_insights", "build_relationships"):
        weights = getattr(pillars, name).weights
        total = sum(getattr(weights, f) for f in weights.__dataclass_fields__ if f not in penalties)
        assert total == pytest.approx(PILLAR_MAX), name


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "people_searches = 5.0",
            "people_searches = 'x'",
            "model.toml: pillars.find_right_people.weights.people_searches "
            "must be a number ≥ 0 and ≤ 25, got 'x'",
        ),
        (
            "people_searches = 5.0",
            "people_searches = 26",
            "weights.people_searches must be a number ≥ 0 and ≤ 25, got 26",
        ),
        ("invitations = 14.0", "invitations = 0", "half_life_days.invitations must be a number > 0, got 0"),
        (
            "invitations = 14.0",
            "invitations = true",
            "half_life_days.invitations must be a number > 0, got True",
        ),
        (
            "acceptance_threshold = 0.15",
            "acceptance_threshold = 1.5",
            "acceptance_threshold must be a number > 0 and ≤ 1",
        ),
        (
            "people_searches = 5.0",
            "people_searches = 5.0\npeople_search = 1",
            "unknown key pillars.find_right_people.weights.people_search",
        ),
        ("forget_below = 0.001", "", "missing key state.forget_below"),
        ('version = "2025.1"', "version = 3", "version must be a string, got 3"),
        ('version = "2025.1"', 'version = " "', "version must be a non-empty string"),
        (
            "[priors.message_reply]\nrate = 0.25",
            "[priors.message_reply]\nrate = -0.25",
            "priors.message_reply.rate must be a number ≥ 0",
        ),
    ],
)
def test_mistakes_are_reported_with_the_key_and_the_rule(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in DEFAULT
    with pytest.raises(ModelError) as error:
        load_model(write(tmp_path, DEFAULT.replace(old, new, 1)))
    assert message in str(error.value)


def test_a_table_given_as_a_value_is_rejected(tmp_path: Path) -> None:
    without_state = re.sub(r"\[state\]\n(#.*\n)*forget_below = [0-9.]+\n", "", DEFAULT)
    assert "forget_below" not in without_state
    broken = without_state.replace("[half_life_days]", "state = 1\n[half_life_days]")
    with pytest.raises(ModelError, match=r"model.toml: state must be a table, got 1"):
        load_model(write(tmp_path, broken))


def test_unreadable_or_invalid_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"missing.toml: cannot read"):
        load_model(tmp_path / "missing.toml")
    with pytest.raises(ModelError, match=r"model.toml: not valid TOML"):
        load_model(write(tmp_path, "version = "))
