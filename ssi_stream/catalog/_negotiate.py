"""Which shipped locale to answer in, from an `Accept-Language` header or a `?lang=` value.

RFC 9110 §12.5.4: a list of language ranges with optional q-values (0-1, three decimals; q=0 means "not
this one"). Ranges are tried by q-value, highest first (ties keep their order). Each is matched by RFC
4647 basic filtering (a range matches a tag equal to it or starting with it and "-": "pt" matches
"pt-BR"), then, when nothing matches, by lookup's truncation ("it-CH" falls back to "it", "zh-Hant-TW"
to "zh-Hant", then "zh"). "*" matches any locale the list does not exclude, the default first.
Malformed elements are ignored ("_" is read as "-": `?lang=pt_BR`); when nothing matches, the default.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
#: Elements beyond this many are ignored (a header is a handful; this bounds the work on a hostile one).
MAX_RANGES = 32


def preferences(header: str) -> list[tuple[str, float]]:
    """The well-formed language ranges of `header`, lower-cased, with their q-values, in header order."""
    ranges = []
    for element in header.split(",")[:MAX_RANGES]:
        language_range, *params = (piece.strip() for piece in element.split(";"))
        language_range = language_range.replace("_", "-")  # ?lang=pt_BR, as people type it
        if not _RANGE.match(language_range):
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else -1.0
        if weight >= 0:
            ranges.append((language_range.lower(), weight))
    return ranges


def negotiate(header: str | None, available: Sequence[str], default: str = "en") -> str:
    """The locale of `available` that `header` (an `Accept-Language` value or a `?lang=` tag) prefers
    most, spelled as in `available`; `default` when none is acceptable or `header` is empty."""
    if not header:
        return default
    tags = {tag.lower(): tag for tag in available}
    ranked = preferences(header)
    excluded = {language_range for language_range, weight in ranked if weight == 0}
    for language_range, _ in sorted((r for r in ranked if r[1] > 0), key=lambda r: -r[1]):
        if language_range == "*":
            for tag in (default.lower(), *tags):
                if tag in tags and not _is_excluded(tag, excluded):
                    return tags[tag]
            continue
        match = _filter(language_range, tags, excluded) or _lookup(language_range, tags, excluded)
        if match is not None:
            return match
    return default


def _filter(language_range: str, tags: dict[str, str], excluded: set[str]) -> str | None:
    """RFC 4647 §3.3.1 basic filtering: the first tag the range matches."""
    for tag, spelled in tags.items():
        matches = tag == language_range or tag.startswith(language_range + "-")
        if matches and not _is_excluded(tag, excluded):
            return spelled
    return None


def _lookup(language_range: str, tags: dict[str, str], excluded: set[str]) -> str | None:
    """RFC 4647 §3.4 lookup's fallback: drop subtags from the end (and a single-letter one left last)."""
    subtags = language_range.split("-")
    while len(subtags) > 1:
        subtags.pop()
        if len(subtags[-1]) == 1:
            subtags.pop()
        candidate = "-".join(subtags)
        if candidate in tags and not _is_excluded(candidate, excluded):
            return tags[candidate]
    return None


def _is_excluded(tag: str, excluded: set[str]) -> bool:
    """Whether a q=0 range matches `tag` (by basic filtering)."""
    return any(tag == r or tag.startswith(r + "-") for r in excluded if r != "*")
