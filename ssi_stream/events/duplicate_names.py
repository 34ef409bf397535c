"""Member names must be unique in every object (I-JSON, RFC 7493 §2.3); orjson keeps the last silently.

Parsers disagree on a repeated name (the first wins, the last wins, or the document is refused, as
json-sKema, Schema Registry's validator, does), so an event that repeats one means different things to
different readers: it is rejected. orjson cannot report a repeat, so the check compares the text with
what orjson parsed, cheaply:

1. `orjson.dumps(parsed) == raw`: the text is orjson's own writing of a document without repeats (a
   compact producer's usual output, and the common case): no repeat.
2. The same once the text's whitespace bytes are taken out (a producer that spaces or indents, as
   Python's `json.dumps` does): taking whitespace out keeps every token, and every name that can
   repeat, so the text has the repeats of orjson's writing, that is none. (Where a string holds a
   space the two differ, and the next step decides.)
3. Otherwise count colons. Every member of the text has one colon outside strings; every other colon is
   inside a string. The rewriting has one per member orjson kept, and the strings' colons as they are,
   since orjson never escapes a colon. Without a `\\u003a` escape (a colon written as an escape) in the
   text, the counts are equal exactly when no member was dropped, i.e. no name repeats.
4. Otherwise (an escape, counts that differ, a document too deep for orjson to write), the slow path:
   the standard library's parser, with every object's members kept in order, names the first repeat.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import orjson

from ssi_stream.events.rejection import Rejected, RejectionCode, show

__all__ = ["repeated_name", "repeated_name_in_rewrite"]

_dumps = orjson.dumps
#: Any escape `\u003X`: `\u003a` and `\u003A` are colons (the others are digits and `;<=>?`).
_COLON_ESCAPE = b"\\u003"
_WHITESPACE = b" \t\n\r"
_PATH_SYNTAX = re.compile(r"[.\[\]]")


def repeated_name(raw: bytes, parsed: object) -> Rejected | None:
    """The rejection of `raw` if one of its objects repeats a member name (None when none does).

    `raw` is valid JSON and `parsed` what orjson made of it."""
    try:
        rewritten = _dumps(parsed)
    except TypeError:  # nests deeper than orjson writes (255)
        rewritten = None
    return repeated_name_in_rewrite(raw, rewritten)


def repeated_name_in_rewrite(raw: bytes, rewritten: bytes | None) -> Rejected | None:
    """`repeated_name`, given orjson's writing of what it parsed (None: too deep for it to write);
    `decode` makes the rewrite itself, since it ends the check at once when it equals `raw`."""
    if rewritten is not None:
        if rewritten == raw or raw.translate(None, _WHITESPACE) == rewritten:
            return None
        if raw.count(b":") == rewritten.count(b":") and _COLON_ESCAPE not in raw:
            return None
    return _first_repeat(raw)


class _Members(list):  # type: ignore[type-arg]
    """An object's (name, value) pairs in document order (a list is a JSON array)."""


def _first_repeat(raw: bytes) -> Rejected | None:
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_Members)
    except RecursionError:  # deeper than the standard parser goes; no valid event comes near it
        return Rejected(
            RejectionCode.TOO_DEEP, None, "payload nests too deep to check that its member names are unique"
        )
    for path, name in _repeats(document):
        return Rejected(
            RejectionCode.DUPLICATE_KEY,
            path,
            f"{path}: the member name {show(name)} appears twice in one object; each name may appear "
            "once (I-JSON, RFC 7493)",
        )
    return None


def _member_path(path: str, name: str) -> str:
    """`path.name`, or `path["name"]` (JSON-quoted) for a name that is empty or holds `.`, `[` or `]`."""
    if not name or _PATH_SYNTAX.search(name):
        return f"{path}[{json.dumps(name, ensure_ascii=False)}]"
    return f"{path}.{name}" if path else name


def _repeats(document: object) -> Iterator[tuple[str, str]]:
    """(path, name) of every repeated member name, in document order, without recursion."""
    frames: list[tuple[Iterator[tuple[object, object]], set[str] | None, str]] = []

    def enter(value: object, path: str) -> None:
        if type(value) is _Members:
            frames.append((iter(value), set(), path))
        elif type(value) is list:
            frames.append((iter(enumerate(value)), None, path))

    enter(document, "")
    while frames:
        items, seen, path = frames[-1]
        item = next(items, None)
        if item is None:
            frames.pop()
            continue
        key, child = item
        if seen is None:
            enter(child, f"{path}[{key}]")
            continue
        name = str(key)
        child_path = _member_path(path, name)
        if name in seen:
            yield child_path, name
        seen.add(name)
        enter(child, child_path)
