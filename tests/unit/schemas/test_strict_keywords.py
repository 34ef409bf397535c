"""Every schema under schemas/ uses only keywords of the draft 2020-12 vocabularies, so strict validators
(Ajv's default strict mode, among others) load them without being told about keywords of our own.
What Ajv in strict mode refuses, this refuses: an unknown keyword anywhere a schema stands."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema_specifications import REGISTRY

from tests.unit.events.contract_world import load_schema
from tests.unit.schemas.test_schema_files import SCHEMA_FILES, V2_SCHEMA_FILES

_DRAFT = "https://json-schema.org/draft/2020-12/"
#: The keywords of the vocabularies the 2020-12 meta-schema is made of (core, applicator, validation, ...),
#: read from the meta-schemas themselves; the deprecated `definitions` and `dependencies` are not among them.
KEYWORDS = frozenset(
    keyword
    for vocabulary in REGISTRY.contents(_DRAFT + "schema")["allOf"]
    for keyword in REGISTRY.contents(_DRAFT + vocabulary["$ref"])["properties"]
)
#: Where 2020-12 puts subschemas: one schema, a name -> schema map, a list of schemas.
_ONE = (
    "additionalProperties",
    "items",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "not",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
_MAP = ("properties", "patternProperties", "$defs", "dependentSchemas")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")


def unknown_keywords(schema: Any, at: str = "#") -> Iterator[str]:
    """The JSON pointer of every keyword in `schema` or its subschemas that 2020-12 does not define."""
    if not isinstance(schema, dict):  # true and false are schemas too
        return
    for keyword in sorted(schema):
        if keyword not in KEYWORDS:
            yield f"{at}/{keyword}"
    for keyword in _ONE:
        if keyword in schema:
            yield from unknown_keywords(schema[keyword], f"{at}/{keyword}")
    for keyword in _MAP:
        for name, child in schema.get(keyword, {}).items():
            yield from unknown_keywords(child, f"{at}/{keyword}/{name}")
    for keyword in _LIST:
        for index, child in enumerate(schema.get(keyword, [])):
            yield from unknown_keywords(child, f"{at}/{keyword}/{index}")


def test_the_keywords_are_the_2020_12_vocabularies() -> None:
    assert {"$schema", "$defs", "$comment", "properties", "pattern", "examples", "format"} <= KEYWORDS
    assert {"definitions", "dependencies", "x-kafka"}.isdisjoint(KEYWORDS)


@pytest.mark.parametrize("name", [*SCHEMA_FILES, *V2_SCHEMA_FILES])
def test_schema_uses_no_keyword_of_its_own(name: str) -> None:
    assert list(unknown_keywords(load_schema(name))) == []


def test_the_check_finds_a_keyword_of_our_own_wherever_it_stands() -> None:
    """It can fail: an `x-` keyword at the root, in a property, in a $defs entry, in an anyOf branch."""
    schema = {
        "x-kafka": {},
        "properties": {"a": {"type": "string", "x-differs-from": "member_id"}},
        "$defs": {"b": {"anyOf": [{"type": "null"}, {"enum": [1], "x-note": 1}]}},
        "examples": [{"x-not-a-keyword": "examples hold instances, not schemas"}],
    }
    assert list(unknown_keywords(schema)) == [
        "#/x-kafka",
        "#/properties/a/x-differs-from",
        "#/$defs/b/anyOf/1/x-note",
    ]
