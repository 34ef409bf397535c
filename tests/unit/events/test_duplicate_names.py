"""One JSON profile (I-JSON, RFC 7493): an object that repeats a member name is rejected (`duplicate_key`),
whoever wrote the text and however: compact or spaced, escaped or not, a colon in a string or written as
`\\u003a`, the repeat at the top or deep inside. The check's fast paths never miss a repeat.

Documents are drawn as trees of (name, value) pairs, so whether a name repeats is known from the tree,
and written with a writer of the test's own that varies spacing and escapes."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ssi_stream.events.decode import decode
from ssi_stream.events.duplicate_names import repeated_name
from ssi_stream.events.rejection import Rejected, RejectionCode

from .contract_world import NOW, valid_events


class Obj(list):  # type: ignore[type-arg]
    """A JSON object as its (name, value) pairs, repeats allowed."""


names = st.sampled_from(["a", "b", "a:b", ":", "é", "x\\y", 'q"', "\u003a", "ab"]) | st.text(max_size=4)
scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=6) | st.just("09:15:00")
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.lists(st.tuples(names, inner), max_size=5).map(Obj),
    max_leaves=25,
)


@st.composite
def styles(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "space": draw(st.sampled_from(["", " ", "\n  "])),
        "ascii": draw(st.booleans()),
        "escape_colons": draw(st.booleans()),
    }


def write(value: Any, style: dict[str, Any]) -> str:
    """JSON text for `value`, in `style`: spacing, \\uXXXX for non-ASCII, colons in strings as escapes."""
    gap = style["space"]
    if isinstance(value, Obj):
        members = [f"{write_string(name, style)}{gap}:{gap}{write(child, style)}" for name, child in value]
        return "{" + gap + f",{gap}".join(members) + gap + "}"
    if isinstance(value, list):
        return "[" + f",{gap}".join(write(child, style) for child in value) + "]"
    if isinstance(value, str):
        return write_string(value, style)
    return json.dumps(value)


def write_string(text: str, style: dict[str, Any]) -> str:
    written = json.dumps(text, ensure_ascii=style["ascii"])
    return written.replace(":", "\\u003a") if style["escape_colons"] else written


def repeats(value: Any) -> bool:
    """Whether an object anywhere in `value` holds a name twice (the ground truth of a drawn tree)."""
    if isinstance(value, Obj):
        seen = [name for name, _ in value]
        return len(seen) != len(set(seen)) or any(repeats(child) for _, child in value)
    if isinstance(value, list):
        return any(repeats(child) for child in value)
    return False


@settings(max_examples=800, deadline=None)
@given(document=documents, style=styles())
def test_a_repeated_name_is_found_exactly_when_the_document_has_one(document: Any, style: dict) -> None:
    raw = write(document, style).encode()
    found = repeated_name(raw, orjson.loads(raw))
    assert (found is not None) == repeats(document), raw
    if found is not None:
        assert (
            found.code is RejectionCode.DUPLICATE_KEY and found.field and found.detail.startswith(found.field)
        )


@settings(max_examples=300, deadline=None)
@given(document=documents)
def test_orjson_s_own_writing_takes_the_fast_path_and_never_repeats(document: Any) -> None:
    plain = orjson.loads(write(document, {"space": "", "ascii": False, "escape_colons": False}))
    assert repeated_name(orjson.dumps(plain), plain) is None


@settings(max_examples=200, deadline=None)
@given(event=valid_events(), style=styles(), data=st.data())
def test_a_valid_event_with_one_member_written_twice_is_rejected_naming_it(
    event: dict, style: dict, data: st.DataObject
) -> None:
    members = list(event.items())
    index = data.draw(st.integers(0, len(members) - 1))
    twice = Obj([*members[: index + 1], members[index], *members[index + 1 :]])
    once = Obj(members)
    assert not isinstance(decode(write(once, style).encode(), now=NOW), Rejected)
    rejected = decode(write(twice, style).encode(), now=NOW)
    assert isinstance(rejected, Rejected)
    assert (rejected.code, rejected.field) == (RejectionCode.DUPLICATE_KEY, members[index][0])


def test_the_repeat_reported_is_the_first_in_the_text_with_its_path() -> None:
    raw = b'{"a": {"b": [0, {"c": 1, "c": 2}]}, "a": 3, "d": {"e": 1, "e": 1}}'
    rejected = repeated_name(raw, orjson.loads(raw))
    assert rejected is not None and rejected.field == "a.b[1].c"


def test_escaped_names_are_the_names_they_spell() -> None:
    raw = b'{"a": 1, "\\u0061": 2}'
    rejected = repeated_name(raw, orjson.loads(raw))
    assert rejected is not None and rejected.field == "a"
    assert repeated_name(b'{"a": 1, "A": 2}', {"a": 1, "A": 2}) is None  # names are case-sensitive


def test_an_escaped_colon_cannot_hide_a_repeat() -> None:
    """Dropping `"a":1` removes a colon; `"\\u003a"` adds one to orjson's writing: counts alone would tie."""
    raw = b'{"a":1,"a":2,"b":"\\u003a"}'
    assert orjson.dumps(orjson.loads(raw)).count(b":") == raw.count(b":")
    rejected = repeated_name(raw, orjson.loads(raw))
    assert rejected is not None and rejected.field == "a"


def test_a_document_too_deep_for_orjson_to_write_is_still_checked() -> None:
    inner = b'{"k": 1, "k": 2}'
    raw = b"[" * 300 + inner + b"]" * 300
    rejected = repeated_name(raw, orjson.loads(raw))
    assert rejected is not None and rejected.field == "[0]" * 300 + ".k"
    clean = b"[" * 300 + b'{"k": 1}' + b"]" * 300
    assert repeated_name(clean, orjson.loads(clean)) is None


def test_lone_surrogate_escapes_are_not_json() -> None:
    """I-JSON forbids them too; orjson refuses them, and the rejection says so (docs/events.md)."""
    for text in (b'"\\ud800"', b'"\\udc00"', b'"\\ud800\\u0041"'):
        raw = b'{"event_id": "e-1", "note": ' + text + b"}"
        rejected = decode(raw, now=NOW)
        assert isinstance(rejected, Rejected) and rejected.code is RejectionCode.NOT_JSON
        assert "surrogate" in rejected.detail
