"""One TOML file per locale (`locales/<tag>.toml`), read and checked whole the first time it is used."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ssi_stream.catalog._messages import Message, MessageError, Style, parse
from ssi_stream.catalog._numbers import PLURAL_RULES, NumberFormat
from ssi_stream.catalog._parameters import NEXT_STEP_PLACEHOLDERS, PLACEHOLDERS
from ssi_stream.scoring.effects import PROFILE_SECTIONS
from ssi_stream.scoring.model import PILLARS

DEFAULT_LOCALE = "en"
_LOCALES = resources.files("ssi_stream.catalog") / "locales"
#: The shipped locales: one per file in `locales/`, the default first.
LOCALES: tuple[str, ...] = tuple(
    sorted(
        (entry.name.removesuffix(".toml") for entry in _LOCALES.iterdir() if entry.name.endswith(".toml")),
        key=lambda tag: (tag != DEFAULT_LOCALE, tag),
    )
)
_FORMAT_KEYS = {"decimal", "group", "minimum_grouping_digits", "percent", "list_separator"}
#: Each table of a catalog, and the codes it must have a text for (and no others).
TABLES: dict[str, tuple[str, ...]] = {
    "pillar": PILLARS,
    "signal": tuple(PLACEHOLDERS),
    "next_step": tuple(NEXT_STEP_PLACEHOLDERS),
    "short": (*PILLARS, *NEXT_STEP_PLACEHOLDERS),
    "section": tuple(section.value for section in PROFILE_SECTIONS),
}


class CatalogError(ValueError):
    """A catalog file that is missing, malformed, incomplete or names what the code does not know."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """A locale's parsed texts: pillar titles, signal and next-step texts (one namespace), short labels."""

    locale: str
    style: Style
    messages: dict[str, Message]
    short: dict[str, str]


@cache
def catalog(locale: str) -> Catalog:
    """The catalog of a shipped locale (`LOCALES`), parsed and checked once."""
    if locale not in LOCALES:
        raise LookupError(f"no catalog for locale {locale!r}; shipped: {', '.join(LOCALES)}")
    name = f"{locale}.toml"
    try:
        return _parse(locale, tomllib.loads((_LOCALES / name).read_text(encoding="utf-8")))
    except (CatalogError, tomllib.TOMLDecodeError) as error:
        raise CatalogError(f"ssi_stream/catalog/locales/{name}: {error}") from None


def _parse(locale: str, document: Mapping[str, object]) -> Catalog:
    unknown = set(document) - {"format", *TABLES}
    if unknown:
        raise CatalogError(f"unknown tables {sorted(unknown)} (a catalog has [format], {_tables()})")
    tables = {name: _table(document, name, codes) for name, codes in TABLES.items()}
    style = _style(locale, _table(document, "format", tuple(_FORMAT_KEYS), strings=False), tables["section"])
    messages: dict[str, Message] = {}
    for table, kinds_of in (
        ("pillar", None),
        ("signal", PLACEHOLDERS),
        ("next_step", NEXT_STEP_PLACEHOLDERS),
    ):
        for code, template in tables[table].items():
            if code in messages:
                raise CatalogError(f"{table}.{code}: the code is already a {_table_of(code)} code")
            try:
                messages[code] = parse(template, kinds_of[code] if kinds_of else {}, style.plural)
            except MessageError as error:
                raise CatalogError(f"{table}.{code}: {error}") from None
    return Catalog(locale, style, messages, tables["short"])


def _table(
    document: Mapping[str, object], name: str, codes: tuple[str, ...], strings: bool = True
) -> dict[str, Any]:
    table = document.get(name)
    if not isinstance(table, dict):
        raise CatalogError(f"[{name}] is missing")
    missing, unknown = [c for c in codes if c not in table], sorted(set(table) - set(codes))
    if missing or unknown:
        raise CatalogError(
            f"[{name}]"
            + (f" has no text for {', '.join(missing)}" if missing else "")
            + (" and" if missing and unknown else "")
            + (f" has unknown keys {', '.join(unknown)}" if unknown else "")
        )
    for key, value in table.items():
        if strings and (not isinstance(value, str) or not value.strip()):
            raise CatalogError(f"{name}.{key} must be a non-empty string, got {value!r}")
    return table


def _style(locale: str, numbers: dict[str, Any], section_names: dict[str, str]) -> Style:
    language = locale.split("-")[0].lower()
    rule = PLURAL_RULES.get(language)
    if rule is None:
        raise CatalogError(f"no plural rule for the language {language!r}: add it to catalog/_numbers.py")
    for key in ("decimal", "group", "percent", "list_separator"):
        if not isinstance(numbers[key], str):
            raise CatalogError(f"format.{key} must be a string, got {numbers[key]!r}")
    if numbers["percent"].count("#") != 1:
        raise CatalogError(f"format.percent must hold one '#' for the number, got {numbers['percent']!r}")
    grouping = numbers["minimum_grouping_digits"]
    if not isinstance(grouping, int) or isinstance(grouping, bool) or grouping < 1:
        raise CatalogError(f"format.minimum_grouping_digits must be an integer ≥ 1, got {grouping!r}")
    return Style(
        NumberFormat(numbers["decimal"], numbers["group"], grouping, numbers["percent"]),
        rule,
        tuple(section_names[section.value] for section in PROFILE_SECTIONS),
        numbers["list_separator"],
    )


def _tables() -> str:
    return ", ".join(f"[{name}]" for name in TABLES)


def _table_of(code: str) -> str:
    return next(name for name in ("pillar", "signal", "next_step") if code in TABLES[name])
