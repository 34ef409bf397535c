"""Numbers as a locale writes them, and the CLDR plural category they take.

A number is first written the way the English texts write it (`Kind` decides: a decayed count, a whole
number, a percentage…), as ASCII digits with a "." — so every locale rounds exactly as today's English
texts do — and then localised: the decimal separator, digit grouping (with CLDR's minimum grouping digits,
so Spanish writes 1234 but 12.345) and the percent pattern. The plural category is computed from that
written form (CLDR's operands i, v, f, t), so "1.0" and "1" may differ, as CLDR says they do.

A small table instead of Babel: the shipped locales need four symbols each and a rule per language, and
rendering one member's explanations formats some forty numbers (Babel's `format_decimal` is about 10 µs
each, its plural rules about 5 µs). The tests check every table here against Babel's CLDR data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from ssi_stream.scoring.pillars import decayed_count_text


class Kind(Enum):
    """What a placeholder's number is, which decides how it is written."""

    #: A decayed count: whole from 9.95 or when whole, else one decimal (`pillars.decayed_count_text`).
    COUNT = "count"
    #: A whole number: a level (connections, followers…) or a rounded figure.
    WHOLE = "whole"
    #: One decimal.
    DECIMAL = "decimal"
    #: A 0-1 ratio as a whole percentage.
    PERCENT = "percent"
    #: A model constant in its shortest form (Python's `g`).
    NUMBER = "number"
    #: A bitmask of profile sections (bit i = `PROFILE_SECTIONS[i]`): written as a list of their names.
    SECTIONS = "sections"
    #: 0 or 1: only chooses a branch of a `select` (`yes` when 1).
    FLAG = "flag"


#: The kinds written as numbers (the others cannot be a plural's argument or be written with `#`).
NUMERIC = frozenset({Kind.COUNT, Kind.WHOLE, Kind.DECIMAL, Kind.PERCENT, Kind.NUMBER})


def digits(value: float, kind: Kind) -> str:
    """`value` as the English texts write it, without grouping: "12", "3.5", "40" (for 40 %)."""
    if kind is Kind.COUNT:
        return decayed_count_text(value)
    if kind is Kind.WHOLE:
        return f"{value:.0f}"
    if kind is Kind.DECIMAL:
        return f"{value:.1f}"
    if kind is Kind.PERCENT:
        return f"{value:.0%}"[:-1]
    if kind is Kind.NUMBER:
        return f"{value:g}"
    raise ValueError(f"a {kind.value} placeholder is not written as a number")


# --- plural rules ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Operands:
    """CLDR plural operands of a written number: n absolute value, i integer digits, v visible fraction
    digits, f those digits as a number, t the same without trailing zeros (e, the exponent, is always 0)."""

    n: float
    i: int
    v: int
    f: int
    t: int

    @classmethod
    def of(cls, written: str) -> Operands:
        unsigned = written.lstrip("-")
        whole, _, fraction = unsigned.partition(".")
        return cls(
            float(unsigned), int(whole), len(fraction), int(fraction or 0), int(fraction.rstrip("0") or 0)
        )


def _en(o: Operands) -> str:
    return "one" if o.i == 1 and o.v == 0 else "other"


def _millions(o: Operands) -> bool:
    """`many` in it, es, fr, pt: a whole number of millions (CLDR: e = 0 and i != 0 and i % 1000000 = 0
    and v = 0, or an exponent: never, here)."""
    return o.i != 0 and o.i % 1_000_000 == 0 and o.v == 0


def _it(o: Operands) -> str:
    return "one" if o.i == 1 and o.v == 0 else "many" if _millions(o) else "other"


def _es(o: Operands) -> str:
    return "one" if o.n == 1 else "many" if _millions(o) else "other"


def _fr(o: Operands) -> str:
    return "one" if o.i in (0, 1) else "many" if _millions(o) else "other"


def _pt(o: Operands) -> str:
    return "one" if o.i in (0, 1) else "many" if _millions(o) else "other"


def _pl(o: Operands) -> str:
    if o.i == 1 and o.v == 0:
        return "one"
    if o.v == 0 and 2 <= o.i % 10 <= 4 and not 12 <= o.i % 100 <= 14:
        return "few"
    if o.v == 0:  # i != 1 with a last digit 0-1 or 5-9, or ending in 12-14
        return "many"
    return "other"


@dataclass(frozen=True, slots=True)
class PluralRule:
    """A language's CLDR cardinal plural rule and the categories it can give."""

    categories: frozenset[str]
    category: Callable[[Operands], str]


@lru_cache(maxsize=8192)
def plural_category(rule: PluralRule, written: str) -> str:
    """`rule`'s category for a written number ("1", "2.5"), cached: the same few numbers recur."""
    return rule.category(Operands.of(written))


#: By language subtag (CLDR 47). A locale whose language is not here needs its rule added (and tested).
PLURAL_RULES: dict[str, PluralRule] = {
    "de": PluralRule(frozenset({"one", "other"}), _en),
    "en": PluralRule(frozenset({"one", "other"}), _en),
    "es": PluralRule(frozenset({"one", "many", "other"}), _es),
    "fr": PluralRule(frozenset({"one", "many", "other"}), _fr),
    "it": PluralRule(frozenset({"one", "many", "other"}), _it),
    "nl": PluralRule(frozenset({"one", "other"}), _en),
    "pl": PluralRule(frozenset({"one", "few", "many", "other"}), _pl),
    "pt": PluralRule(frozenset({"one", "many", "other"}), _pt),
}


# --- number symbols ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """How a locale writes numbers: CLDR's decimal and group symbols, minimum grouping digits (1: 1,234;
    2: 1234 but 12,345) and percent pattern ("#%", "# %" with a no-break space…), groups of three."""

    decimal: str
    group: str
    minimum_grouping_digits: int
    percent: str

    def number(self, written: str) -> str:
        """`written` ("12345.6", from `digits`) in this locale: "12,345.6", "12.345,6", "12 345,6"."""
        whole, dot, fraction = written.partition(".")
        sign = ""
        if whole.startswith("-"):
            sign, whole = "-", whole[1:]
        if len(whole) >= 3 + self.minimum_grouping_digits:
            head = len(whole) % 3 or 3
            whole = self.group.join([whole[:head], *(whole[i : i + 3] for i in range(head, len(whole), 3))])
        elif not sign and not dot:
            return whole
        return sign + whole + (self.decimal + fraction if dot else "")

    def format(self, value: float, kind: Kind) -> tuple[str, str]:
        """`value` written for the locale, and its unlocalised form (for its plural category)."""
        written = digits(value, kind)
        text = self.number(written)
        return (self.percent.replace("#", text) if kind is Kind.PERCENT else text), written
