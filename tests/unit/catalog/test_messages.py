"""The message syntax: what it renders, and the mistakes a catalog file is refused for (with its key)."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from importlib import resources

import pytest

from ssi_stream.catalog import CatalogError
from ssi_stream.catalog._catalog import _parse, catalog
from ssi_stream.catalog._messages import MessageError, parse
from ssi_stream.catalog._numbers import PLURAL_RULES, Kind

EN, FR, PL = PLURAL_RULES["en"], PLURAL_RULES["fr"], PLURAL_RULES["pl"]
STYLE = catalog("en").style
KINDS = {"n": Kind.COUNT, "p": Kind.PERCENT, "flag": Kind.FLAG, "missing": Kind.SECTIONS}


def text(template: str, **values: float) -> str:
    return parse(template, KINDS, EN).render(STYLE, values)


def test_placeholders_plurals_exact_values_and_selects() -> None:
    assert text("{n} and {p}", n=2.5, p=0.4) == "2.5 and 40%"
    template = "{n, plural, =0 {none} one {# item} other {# items}}"
    assert [text(template, n=v) for v in (0, 1, 0.96, 3)] == ["none", "1 item", "1.0 items", "3 items"]
    assert text("{flag, select, yes {on: {p}} other {off}}", flag=1, p=0.5) == "on: 50%"
    assert text("{flag, select, yes {on: {p}} other {off}}", flag=0, p=0.5) == "off"
    assert text("# {n, plural, other {{p} of #}}", n=1234, p=0.1) == "# 10% of 1,234"  # `#` is text outside
    assert text("missing: {missing}", missing=0b101) == "missing: photo, headline"
    assert text("{n, plural, other {{flag, select, yes {#!} other {#}}}}", n=2, flag=1) == "2!"


def test_every_cldr_category_of_the_language_can_have_its_branch() -> None:
    polish = parse("{n, plural, one {# plik} few {# pliki} many {# plików} other {# pliku}}", KINDS, PL)
    style = replace(STYLE, plural=PL)
    assert [polish.render(style, {"n": v}) for v in (1, 3, 5, 22, 1.5)] == [
        "1 plik",
        "3 pliki",
        "5 plików",
        "22 pliki",
        "1.5 pliku",
    ]


def test_a_category_without_its_branch_takes_other() -> None:
    french = parse("{n, plural, one {# abonné} other {# abonnés}}", KINDS, FR)
    style = replace(STYLE, plural=FR)
    assert [french.render(style, {"n": v}) for v in (0, 1.5, 2, 1_000_000)] == [
        "0 abonné",
        "1.5 abonné",
        "2 abonnés",
        "1,000,000 abonnés",  # 1,000,000 is `many` in French
    ]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{nope}", "unknown placeholder {nope}"),
        ("{n", "expected '{name}'"),
        ("a } b", "unmatched '}'"),
        ("{n, plural, one {x}}", "needs an 'other' branch"),
        ("{n, plural, few {x} other {y}}", "plural categories ['few'] do not exist"),
        ("{n, plural, other {x} other {y}}", "branch 'other' twice"),
        ("{n, plural, other {x}", "missing '}'"),
        ("{flag}", "is a flag: use it in a select"),
        ("{n, select, yes {x} other {y}}", "select takes a flag"),
        ("{flag, select, no {x} other {y}}", "select takes a flag"),
        ("{missing, plural, other {#}}", "is a sections, not a number"),
        ("{n, number}", "expected '{name}'"),
    ],
)
def test_malformed_templates_are_refused(template: str, problem: str) -> None:
    with pytest.raises(MessageError, match=problem.replace("{", r"\{").replace("[", r"\[")):
        parse(template, KINDS, EN)


def _english() -> dict:
    return tomllib.loads((resources.files("ssi_stream.catalog") / "locales" / "en.toml").read_text("utf-8"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["signal"].pop("groups"), r"\[signal\] has no text for groups"),
        (lambda d: d["next_step"].update(fly="Fly."), r"\[next_step\] has unknown keys fly"),
        (lambda d: d["signal"].update(groups="{group}"), r"signal.groups: unknown placeholder \{group\}"),
        (lambda d: d["short"].update(reply=""), "short.reply must be a non-empty string"),
        (lambda d: d.update(extra={}), r"unknown tables \['extra'\]"),
        (lambda d: d.pop("section"), r"\[section\] is missing"),
        (lambda d: d["format"].update(percent="%"), "format.percent must hold one '#'"),
        (lambda d: d["format"].update(minimum_grouping_digits=0), "minimum_grouping_digits must be"),
    ],
)
def test_a_catalog_file_is_refused_with_the_key_to_fix(change, problem: str) -> None:
    document = _english()
    change(document)
    with pytest.raises(CatalogError, match=problem):
        _parse("en", document)


def test_a_language_without_a_plural_rule_is_refused() -> None:
    with pytest.raises(CatalogError, match="no plural rule for the language 'xx'"):
        _parse("xx", _english())
