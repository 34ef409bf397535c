"""The catalog's number symbols and plural rules are CLDR's: checked against Babel's CLDR data, and the
minimum grouping digits (which Babel does not carry) against ICU through Node when it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from babel import Locale
from babel.numbers import format_decimal

from ssi_stream.catalog import LOCALES
from ssi_stream.catalog._catalog import catalog
from ssi_stream.catalog._numbers import PLURAL_RULES, Kind, Operands, digits

WRITTEN = [
    *(str(n) for n in (*range(0, 30), 100, 101, 102, 111, 112, 122, 1000, 1001, 1_000_000, 2_000_000)),
    *("0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.7", "9.9", "10.0", "11.0", "21.5", "1000000.0"),
]


@pytest.mark.parametrize("language", sorted(PLURAL_RULES))
def test_plural_rules_are_cldr_s(language: str) -> None:
    rule, cldr = PLURAL_RULES[language], Locale.parse(language).plural_form
    assert rule.categories == {*cldr.tags, "other"}
    for written in WRITTEN:
        assert rule.category(Operands.of(written)) == cldr(Decimal(written)), (language, written)


@pytest.mark.parametrize("locale", LOCALES)
def test_number_symbols_and_percent_pattern_are_cldr_s(locale: str) -> None:
    numbers, cldr = catalog(locale).style.numbers, Locale.parse(locale)
    symbols = cldr.number_symbols["latn"]
    assert (numbers.decimal, numbers.group) == (symbols["decimal"], symbols["group"])
    assert numbers.percent == cldr.percent_formats[None].pattern.replace("#,##0", "#")
    for value in (12_345.6, 1_234_567.0, 98_765_432.1):
        assert numbers.number(digits(value, Kind.DECIMAL)) == format_decimal(
            value, format="#,##0.0", locale=locale
        )


EXPECTED_GROUPING = {  # CLDR 48 minimumGroupingDigits: 2 in es and it (1234 but 12.345)
    "en": ("1,234", "12,345"),
    "es": ("1234", "12.345"),
    "fr": ("1\u202f234", "12\u202f345"),
    "it": ("1234", "12.345"),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_minimum_grouping_digits(locale: str) -> None:
    numbers = catalog(locale).style.numbers
    assert (numbers.number("1234"), numbers.number("12345")) == EXPECTED_GROUPING[locale]
    assert numbers.number("123") == "123"
    assert numbers.number("-1234567.5").replace(numbers.group, "_") == "-1_234_567" + numbers.decimal + "5"


def test_minimum_grouping_digits_are_icu_s() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the expectations above stand in for ICU")
    script = (
        "const out = {}; for (const l of JSON.parse(process.argv[1])) "
        "out[l] = [1234, 12345].map(n => new Intl.NumberFormat(l).format(n)); "
        "console.log(JSON.stringify(out))"
    )
    result = subprocess.run(
        [node, "-e", script, json.dumps(LOCALES)], capture_output=True, text=True, check=True
    )
    assert {locale: tuple(pair) for locale, pair in json.loads(result.stdout).items()} == EXPECTED_GROUPING


def test_digits_round_as_the_english_texts_do() -> None:
    assert [digits(v, Kind.COUNT) for v in (0.0, 1.0, 0.96, 3.25, 9.94, 9.95, 12.5)] == [
        "0",
        "1",
        "1.0",
        "3.2",
        "9.9",
        "10",
        "12",
    ]
    assert digits(0.125, Kind.PERCENT) == "12"
    assert digits(8.0, Kind.NUMBER) == "8"
    assert digits(7.5, Kind.NUMBER) == "7.5"
    with pytest.raises(ValueError):
        digits(3, Kind.SECTIONS)
