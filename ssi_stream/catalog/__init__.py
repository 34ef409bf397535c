"""ssi_stream.catalog: explanation codes and their numbers -> texts in the member's language (pure).

A score's explanations are codes: each top signal is a `Contribution.signal` ("invitation_acceptance"),
each next step an `Action.name` ("personalised_invitations") or `KEEP_GOING`, each pillar its name. This
package holds one catalog per locale (`locales/<tag>.toml`) with a template per code, computes the
numbers the templates need from a member's signals, and renders them with the locale's numbers::

    lang = negotiate(request.headers.get("Accept-Language"), LOCALES)      # or the ?lang= value
    numbers = parameters(state, model)                                      # {signal code: {name: number}}
    render(lang, "acceptance_rate", numbers["acceptance_rate"])
    render(lang, "personalised_invitations", next_step_parameters(state, model)["personalised_invitations"])
    render(lang, "build_relationships")                                     # the pillar's title
    label(lang, "personalised_invitations")                                 # a short label, for a board

docs/scoring.md ("Texts in the member's language") describes the syntax and how to add a locale.
"""

from collections.abc import Mapping
from typing import Any as _Any

from ssi_stream.catalog._catalog import DEFAULT_LOCALE, LOCALES, CatalogError
from ssi_stream.catalog._catalog import catalog as _catalog
from ssi_stream.catalog._negotiate import negotiate as _negotiate
from ssi_stream.catalog._numbers import Kind
from ssi_stream.catalog._parameters import (
    KEEP_GOING,
    NEXT_STEP_PLACEHOLDERS,
    PLACEHOLDERS,
    next_step_parameters,
    parameters,
)

__all__ = [
    "DEFAULT_LOCALE",
    "KEEP_GOING",
    "LOCALES",
    "NEXT_STEP_PLACEHOLDERS",
    "PLACEHOLDERS",
    "CatalogError",
    "Kind",
    "label",
    "negotiate",
    "next_step_parameters",
    "parameters",
    "record_texts",
    "render",
]


def render(locale: str, code: str, numbers: Mapping[str, float] | None = None) -> str:
    """The text of `code` — a signal code, a next-step code or a pillar name (its title) — in `locale`
    (one of `LOCALES`), with `numbers` (that code's entry of `parameters` or `next_step_parameters`)
    written as the locale writes them. LookupError for an unknown locale, code or missing number."""
    messages = _catalog(locale)
    message = messages.messages.get(code)
    if message is None:
        raise LookupError(f"no text for {code!r} in the {locale!r} catalog")
    try:
        return message.render(messages.style, numbers or {})
    except KeyError as missing:
        given = sorted(numbers or {})
        raise LookupError(f"{code!r} needs the number {missing.args[0]!r}; it was given {given}") from None


def label(locale: str, code: str) -> str:
    """A short label (a few words) for a pillar name or a next-step code, for narrow columns."""
    short = _catalog(locale).short.get(code)
    if short is None:
        raise LookupError(f"no short label for {code!r} in the {locale!r} catalog")
    return short


def negotiate(
    preferences: str | None, available: tuple[str, ...] = LOCALES, default: str = DEFAULT_LOCALE
) -> str:
    """The locale to answer in: the one of `available` that an `Accept-Language` header or a `?lang=` value
    prefers most (RFC 9110 q-values; RFC 4647 basic filtering, then "it-CH" -> "it"), else `default`."""
    return _negotiate(preferences, available, default)


def record_texts(record: Mapping[str, _Any], member: _Any, model: _Any, locale: str) -> dict[str, _Any]:
    """A v2 score record's explanations as texts in `locale`: per pillar its title, its signals' texts
    (in the record's order) and its next step's, with the numbers of `member` (the `MemberState` or
    `Signals` the record was scored from) — what the query API and `replay --explain` add as `texts`."""
    numbers = parameters(member, model)
    steps = next_step_parameters(member, model)
    texts: dict[str, _Any] = {"locale": locale}
    for pillar in record["pillars"]:
        signals = [render(locale, code, numbers[code]) for code, _, _ in record["signals"].get(pillar, ())]
        step = record["next_steps"].get(pillar)
        code = KEEP_GOING if step is None else step[0]
        texts[pillar] = {
            "title": render(locale, pillar),
            "signals": signals,
            "next_step": render(locale, code, steps[code]),
        }
    return texts
