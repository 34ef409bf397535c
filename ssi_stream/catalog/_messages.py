"""The catalog's message syntax, a subset of ICU MessageFormat, parsed once and rendered many times.

    {name}                                      the placeholder's number, written for the locale
    {name, plural, =0 {…} one {…} other {…}}    a branch by the number's CLDR plural category (or an
                                                exact written value, "=0"); `#` in it is the number
    {name, select, yes {…} other {…}}           a branch by a flag: `yes` when it is 1

Every plural and select has an `other` branch. Apostrophes are plain text (no ICU quoting) and braces
cannot be text. A placeholder's kind (`Kind`) comes from the code, not the template: the same number is
written the same way in every language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ssi_stream.catalog._numbers import NUMERIC, Kind, NumberFormat, PluralRule, plural_category


class MessageError(ValueError):
    """A template that does not parse, or uses a placeholder the wrong way."""


@dataclass(frozen=True, slots=True)
class Style:
    """What a locale brings to rendering: its numbers, its plural rule, its profile section names."""

    numbers: NumberFormat
    plural: PluralRule
    section_names: tuple[str, ...]
    list_separator: str


@dataclass(frozen=True, slots=True)
class Text:
    text: str

    def render(self, style: Style, values: Mapping[str, float], number: str) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    kind: Kind

    def render(self, style: Style, values: Mapping[str, float], number: str) -> str:
        value = values[self.name]
        if self.kind is Kind.SECTIONS:
            mask, names = int(value), style.section_names
            return style.list_separator.join(name for i, name in enumerate(names) if mask >> i & 1)
        return style.numbers.format(value, self.kind)[0]


@dataclass(frozen=True, slots=True)
class Number:
    """`#` in a plural branch: the plural's number."""

    def render(self, style: Style, values: Mapping[str, float], number: str) -> str:
        return number


@dataclass(frozen=True, slots=True)
class Plural:
    name: str
    kind: Kind
    exact: dict[str, Parts]
    categories: dict[str, Parts]

    def render(self, style: Style, values: Mapping[str, float], number: str) -> str:
        text, written = style.numbers.format(values[self.name], self.kind)
        branch = self.exact.get(written)
        if branch is None:
            category = plural_category(style.plural, written)
            branch = self.categories.get(category) or self.categories["other"]
        return "".join([part.render(style, values, text) for part in branch])


@dataclass(frozen=True, slots=True)
class Select:
    name: str
    yes: Parts | None
    other: Parts

    def render(self, style: Style, values: Mapping[str, float], number: str) -> str:
        branch = self.yes if values[self.name] == 1 and self.yes is not None else self.other
        return "".join([part.render(style, values, number) for part in branch])


Part = Text | Placeholder | Number | Plural | Select
Parts = tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """A parsed template."""

    parts: Parts
    names: frozenset[str]
    #: The text of a template without placeholders (every title, most next steps).
    constant: str | None

    def render(self, style: Style, values: Mapping[str, float]) -> str:
        if self.constant is not None:
            return self.constant
        return "".join([part.render(style, values, "") for part in self.parts])


def parse(template: str, kinds: Mapping[str, Kind], plural: PluralRule) -> Message:
    """Parse `template`, whose placeholders must be among `kinds`; plural keys must be `plural`'s."""
    parser = _Parser(template, kinds, plural)
    parts = parser.parts(depth=0, in_plural=False)
    if parser.at < len(template):
        raise parser.error("unmatched '}'")
    constant = "".join(part.text for part in parts if isinstance(part, Text)) if not parser.names else None
    return Message(parts, frozenset(parser.names), constant)


_NAME = re.compile(r"\s*([a-z_][a-z0-9_]*)\s*(?:(,)\s*(plural|select)\s*,|(\}))")
_KEY = re.compile(r"\s*(=\d+|[a-z]+)\s*\{")
_CLOSE = re.compile(r"\s*\}")


class _Parser:
    def __init__(self, template: str, kinds: Mapping[str, Kind], plural: PluralRule) -> None:
        self.text, self.kinds, self.plural = template, kinds, plural
        self.at = 0
        self.names: set[str] = set()

    def error(self, problem: str) -> MessageError:
        return MessageError(f"{problem} at character {self.at + 1}")

    def parts(self, depth: int, in_plural: bool) -> Parts:
        parts: list[Part] = []
        text = self.text
        special = "{}#" if in_plural else "{}"
        start = self.at
        while self.at < len(text):
            char = text[self.at]
            if char not in special:
                self.at += 1
                continue
            if self.at > start:
                parts.append(Text(text[start : self.at]))
            if char == "}":
                if depth == 0:
                    raise self.error("unmatched '}'")
                return tuple(parts)
            if char == "#":
                parts.append(Number())
                self.at += 1
            else:
                parts.append(self.argument(depth, in_plural))
            start = self.at
        if depth > 0:
            raise self.error("missing '}'")
        if self.at > start:
            parts.append(Text(text[start:]))
        return tuple(parts)

    def argument(self, depth: int, in_plural: bool) -> Part:
        match = _NAME.match(self.text, self.at + 1)
        if match is None:
            raise self.error("expected '{name}', '{name, plural, …}' or '{name, select, …}'")
        name, style = match.group(1), match.group(3)
        kind = self.kinds.get(name)
        if kind is None:
            raise self.error(
                f"unknown placeholder {{{name}}} (this code has: {', '.join(self.kinds) or 'none'})"
            )
        self.names.add(name)
        self.at = match.end()
        if style is None:
            if kind is Kind.FLAG:
                raise self.error(f"{{{name}}} is a flag: use it in a select")
            return Placeholder(name, kind)
        branches = self.branches(depth, in_plural=in_plural or style == "plural")
        if "other" not in branches:
            raise self.error(f"{{{name}, {style}}} needs an 'other' branch")
        if style == "select":
            if kind is not Kind.FLAG or set(branches) - {"yes", "other"}:
                raise self.error(f"select takes a flag and the branches 'yes' and 'other' ({{{name}}})")
            return Select(name, branches.get("yes"), branches["other"])
        if kind not in NUMERIC:
            raise self.error(f"{{{name}}} is a {kind.value}, not a number: it cannot be a plural")
        unknown = {key for key in branches if not key.startswith("=")} - self.plural.categories
        if unknown:
            raise self.error(
                f"plural categories {sorted(unknown)} do not exist in this language "
                f"(it has {sorted(self.plural.categories)})"
            )
        exact = {key[1:]: parts for key, parts in branches.items() if key.startswith("=")}
        categories = {key: parts for key, parts in branches.items() if not key.startswith("=")}
        return Plural(name, kind, exact, categories)

    def branches(self, depth: int, in_plural: bool) -> dict[str, Parts]:
        branches: dict[str, Parts] = {}
        while True:
            close = _CLOSE.match(self.text, self.at)
            if close is not None and branches:
                self.at = close.end()
                return branches
            key = _KEY.match(self.text, self.at)
            if key is None and not self.text[self.at :].strip():
                raise self.error("missing '}'")
            if key is None:
                raise self.error("expected a branch: 'one {…}', 'other {…}', '=0 {…}'")
            if key.group(1) in branches:
                raise self.error(f"branch {key.group(1)!r} twice")
            self.at = key.end()
            branches[key.group(1)] = self.parts(depth + 1, in_plural)
            self.at += 1  # the branch's closing brace
