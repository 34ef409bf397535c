"""Every code of the scoring core has a text in every shipped locale, filled by `parameters` for real
states, and the English catalog says what today's English texts say."""

from __future__ import annotations

import re

import pytest

import ssi_stream.catalog as catalog
from ssi_stream.catalog import (
    KEEP_GOING,
    LOCALES,
    NEXT_STEP_PLACEHOLDERS,
    PLACEHOLDERS,
    label,
    next_step_parameters,
    parameters,
    render,
)
from ssi_stream.catalog._catalog import catalog as load
from ssi_stream.scoring import explain, score
from ssi_stream.scoring.model import PILLARS
from ssi_stream.scoring.pillars import COMPONENTS, PILLAR_RULES, Signals
from ssi_stream.scoring.record import day_to_date
from ssi_stream.scoring.state import Level, Signal, new_state
from tests.unit.scoring.golden_scores import (
    MODEL,
    ScoredState,
    persona_states,
    random_states,
    simulated_states,
)

#: Codes as the scoring core names them (not as the catalog does).
SIGNAL_CODES = [c.signal for pillar in PILLARS for c in PILLAR_RULES[pillar](Signals.of(new_state()), MODEL)]
ACTION_CODES = [action.name for actions in explain.ACTIONS.values() for action in actions]
NEXT_STEP_CODES = [*ACTION_CODES, KEEP_GOING]


@pytest.fixture(scope="module")
def states() -> list[ScoredState]:
    return persona_states() + random_states()


def test_the_catalog_knows_every_code_of_the_scoring_core_and_no_other() -> None:
    components = [component.name for pillar in PILLARS for component in COMPONENTS[pillar]]
    assert components == SIGNAL_CODES
    assert list(PLACEHOLDERS) == SIGNAL_CODES
    assert sorted(NEXT_STEP_PLACEHOLDERS) == sorted(NEXT_STEP_CODES)
    assert len({*SIGNAL_CODES, *NEXT_STEP_CODES, *PILLARS}) == len(SIGNAL_CODES) + len(NEXT_STEP_CODES) + 4


def test_the_shipped_locales_are_english_and_at_least_two_more() -> None:
    assert LOCALES[0] == "en"
    assert {"it", "fr", "es"} <= set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_code_has_a_text_in_every_locale(locale: str) -> None:
    messages = load(locale).messages
    assert sorted(messages) == sorted([*SIGNAL_CODES, *NEXT_STEP_CODES, *PILLARS])
    for pillar in PILLARS:
        assert render(locale, pillar).strip()
    for code in [*PILLARS, *NEXT_STEP_CODES]:
        assert 0 < len(label(locale, code)) <= (14 if code in PILLARS else 32), (locale, code)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_uses_every_number_of_its_code(locale: str) -> None:
    """A translation that drops a number (or names one the code does not give) is a bug."""
    messages = load(locale).messages
    for code, kinds in {**PLACEHOLDERS, **NEXT_STEP_PLACEHOLDERS}.items():
        assert messages[code].names == set(kinds), (locale, code)


def test_parameters_give_every_placeholder_of_every_code(states: list[ScoredState]) -> None:
    for scored in states[::7]:
        numbers = parameters(scored.state, MODEL)
        assert {code: set(n) for code, n in numbers.items()} == {c: set(k) for c, k in PLACEHOLDERS.items()}
        steps = next_step_parameters(scored.state, MODEL)
        assert {code: set(n) for code, n in steps.items()} == {
            c: set(k) for c, k in NEXT_STEP_PLACEHOLDERS.items()
        }
        assert parameters(Signals.of(scored.state), MODEL) == numbers


_LEFTOVER = re.compile(r"[{}#]|\s\s|^\s|\s$|\s[,.;:)]|\(\s")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_renders_whole_for_real_states(locale: str, states: list[ScoredState]) -> None:
    """No brace, `#`, doubled or stray space is left, whatever the numbers (every code, every state)."""
    for scored in states:
        for numbers in (parameters(scored.state, MODEL), next_step_parameters(scored.state, MODEL)):
            for code, values in numbers.items():
                text = render(locale, code, values)
                assert not _LEFTOVER.search(text.replace("\u00a0", "").replace("\u202f", "")), (
                    locale,
                    code,
                    text,
                )


#: How the English catalog differs from today's English texts, as substitutions that turn a catalog text
#: back into today's: numbers of 1,000 and more are grouped, and a count of exactly 1 takes the singular.
DOCUMENTED_DIFFERENCES = (
    (re.compile(r"(?<=\d),(?=\d{3})"), ""),
    (re.compile(r"(?<![\d.])1 InMail answered"), "1 InMails answered"),
    (re.compile(r"(?<![\d.])1 conversation you started got"), "1 conversations you started got"),
    (re.compile(r"(?<![\d.])1 invitation (?=were|was)"), "1 invitations "),
    (re.compile(r"(?<![\d.])1 people or company search\b"), "1 people and company searches"),
    (re.compile(r"(?<![\d.])1 of your connections is\b"), "1 of your connections are"),
    (re.compile(r"\bwas (accepted|personalised)\b"), r"were \1"),
)


def _as_today(text: str) -> str:
    for pattern, replacement in DOCUMENTED_DIFFERENCES:
        text = pattern.sub(replacement, text)
    return text


def test_english_texts_are_today_s_but_for_the_documented_differences(states: list[ScoredState]) -> None:
    identical = compared = 0
    for scored in states:
        numbers = parameters(scored.state, MODEL)
        for pillar in score(scored.state, MODEL).pillars:
            for contribution in pillar.contributions:
                text = render("en", contribution.signal, numbers[contribution.signal])
                assert _as_today(text) == contribution.text
                identical += text == contribution.text
                compared += 1
    assert identical / compared > 0.9  # the differences are the rare corners above


def test_english_next_steps_are_explain_s_sentences(states: list[ScoredState]) -> None:
    assert render("en", KEEP_GOING) == explain.KEEP_GOING
    for scored in states:
        sig = Signals.of(scored.state)
        numbers = next_step_parameters(sig, MODEL)
        for actions in explain.ACTIONS.values():
            for action in actions:
                text = render("en", action.name, numbers[action.name])
                assert _as_today(text) == action.sentence(sig, MODEL)


def test_the_next_step_a_card_names_renders_in_every_locale(states: list[ScoredState]) -> None:
    for scored in states[::5]:
        numbers = next_step_parameters(scored.state, MODEL)
        for pillar in score(scored.state, MODEL).pillars:
            code = pillar.next_code or KEEP_GOING
            assert _as_today(render("en", code, numbers[code])) == pillar.next_step
            for locale in LOCALES:
                assert render(locale, code, numbers[code])


def test_every_code_of_the_records_replay_writes_renders_in_every_locale() -> None:
    """Score records v2 name top signals and next steps by code: each renders, with the numbers of the
    state the record was scored from (a pillar without a next step keeps going)."""
    simulated, records = simulated_states()
    by_day = {(s.member_id, day_to_date(s.day)): s.state for s in simulated}
    for record in records[::3]:
        state = by_day[record["member_id"], record["date"]]
        numbers, steps = parameters(state, MODEL), next_step_parameters(state, MODEL)
        codes = [(code, numbers[code]) for top in record["signals"].values() for code, _, _ in top]
        codes += [
            (record["next_steps"][p][0], steps[record["next_steps"][p][0]])
            if p in record["next_steps"]
            else (KEEP_GOING, {})
            for p in PILLARS
        ]
        for locale in LOCALES:
            for code, values in codes:
                assert render(locale, code, values)


def test_numbers_are_written_as_each_locale_writes_them() -> None:
    sig = Signals.of(new_state())
    sig.levels[Level.CONNECTIONS] = 12_345
    sig.decayed[Signal.INVITES_SENT] = 3.25
    numbers = parameters(sig, MODEL)
    assert render("en", "connections", numbers["connections"]) == "12,345 connections"
    assert render("fr", "connections", numbers["connections"]) == "12\u202f345 relations"
    assert render("it", "connections", numbers["connections"]) == "12.345 collegamenti"
    assert render("es", "connections", numbers["connections"]) == "12.345 conexiones"
    assert render("es", "connections", {"connections": 1234}) == "1234 conexiones"
    assert render("fr", "acceptance_rate", numbers["acceptance_rate"]) == (
        "Taux d’acceptation (lissé)\u00a0: 23\u00a0%\u202f; 0 invitation personnalisée sur 3,2"
    )
    assert render("it", "followers", {"followers": 1}) == "1 follower"
    assert render("fr", "groups", {"groups": 0}) == "Membre de 0 groupe"  # French: 0 is singular
    assert render("en", "groups", {"groups": 0}) == "Member of 0 groups"


def test_a_missing_number_or_an_unknown_code_or_locale_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="needs the number 'connections'"):
        render("en", "connections", {})
    with pytest.raises(LookupError, match="no text for 'nope'"):
        render("en", "nope")
    with pytest.raises(LookupError, match="no catalog for locale 'de'; shipped: en, es, fr, it"):
        render("de", "connections", {"connections": 1})
    with pytest.raises(LookupError, match="no short label"):
        label("en", "connections")


def test_the_public_api_is_its_all() -> None:
    public = {name for name in vars(catalog) if not name.startswith("_")} - {"Mapping"}
    assert sorted(catalog.__all__) == sorted(public)
