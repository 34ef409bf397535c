"""`negotiate`: RFC 9110 q-values, RFC 4647 basic filtering, then truncation ("it-CH" -> "it"), else en."""

from __future__ import annotations

import pytest

from ssi_stream.catalog import LOCALES, negotiate
from ssi_stream.catalog._negotiate import MAX_RANGES, preferences


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("it", "it"),
        ("IT", "it"),
        ("it-CH", "it"),  # region fallback
        ("fr-CA, en;q=0.5", "fr"),
        ("de-CH, de;q=0.9, it;q=0.8, en;q=0.7", "it"),  # the first acceptable one we ship
        ("fr;q=0.5, it;q=0.8", "it"),  # q-values outrank header order
        ("it;q=0.8, fr;q=0.8", "it"),  # ties keep header order
        ("es;q=1.000, fr;q=0.999", "es"),
        ("de", "en"),  # nothing we ship: the default
        ("*", "en"),
        ("de, *;q=0.1", "en"),
        ("en;q=0, *", "es"),  # any but English: the first other shipped locale
        ("*;q=0, fr;q=0.2", "fr"),
        ("fr;q=0, fr-CA", "en"),  # fr-CA would fall back to fr, which is excluded
        ("it;q=0", "en"),  # nothing acceptable: the default all the same
        ("it;q=2, fr", "fr"),  # a malformed q-value drops its element
        ("it;q=0.0001, fr", "fr"),
        ("it;q=abc, es", "es"),
        ("%%%, 12, it", "it"),  # malformed ranges are ignored
        ("it ; q=0.9 , fr ; Q=1", "fr"),  # whitespace, a capital Q
        ("it_IT", "it"),  # ?lang=it_IT, as people type it
        ("en-US,en;q=0.9,it;q=0.8", "en"),
        ("zh-Hant-TW, es-419", "es"),
    ],
)
def test_negotiate(header: str | None, locale: str) -> None:
    assert negotiate(header) == locale


def test_basic_filtering_and_truncation_with_other_locales() -> None:
    available = ("en", "pt-BR", "zh-Hant")
    assert negotiate("pt", available) == "pt-BR"  # a range matches the tags it prefixes
    assert negotiate("PT-br", available) == "pt-BR"  # spelled as available
    assert negotiate("zh-Hant-TW", available) == "zh-Hant"
    assert negotiate("zh-Hant-x-private", available) == "zh-Hant"  # a singleton is dropped with its subtag
    assert negotiate("zh", available) == "zh-Hant"
    assert negotiate("pt-PT", available) == "en"  # truncation gives "pt", which is not a tag we have
    assert negotiate("de", ("fr", "it"), default="it") == "it"
    assert negotiate("*", ("fr", "it"), default="en") == "fr"  # the default is not available


def test_preferences_parse_the_header_and_ignore_what_is_malformed() -> None:
    assert preferences("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == [
        ("fr-ch", 1.0),
        ("fr", 0.9),
        ("en", 0.8),
        ("de", 0.7),
        ("*", 0.5),
    ]
    assert preferences("a-b-c-d;q=0, toolongtag1, x;q=1.5, y;q=") == [("a-b-c-d", 0.0)]


def test_a_header_is_read_only_up_to_its_first_ranges() -> None:
    assert negotiate(", ".join(["de"] * MAX_RANGES + ["it"])) == "en"
    assert negotiate(", ".join(["de"] * (MAX_RANGES - 1) + ["it"])) == "it"


def test_the_default_available_locales_are_the_shipped_ones() -> None:
    assert all(negotiate(locale) == locale for locale in LOCALES)
