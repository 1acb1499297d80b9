"""Duplicate JSON object keys: a statement holding one is rejected (Data §2.2).

The JSON parser behind validation keeps the last of two equal keys, so a duplicate would be
silently dropped. Finding duplicates exactly takes a second parse with a Python hook per
object; a cheap, exact test keeps that off the common path. Count the colons of the body
and of the validated statements re-serialised: each key brings one colon, and every string
comes back as it was sent (validation does not change strings, and a re-serialised string
holds its colons literally). So the counts are equal when no key was dropped, and a dropped
key makes the body's count larger, unless the body wrote a colon inside a kept string as an
escape (\\u003a), which would make up for it: such a body takes the exact path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from statements.errors import Problem


class _Duplicated(dict[str, Any]):
    """An object in which the keys `keys_twice` appeared more than once."""

    keys_twice: list[str]


def duplicate_keys(body: bytes, parsed: Any, root: str = "$") -> list[Problem]:
    """Problems naming each object of `body` that repeats a key, by JSON path; `parsed` is
    the body as validated, in which each key is held once."""
    if _clearly_unique(body, parsed):
        return []
    try:
        document = json.loads(body, object_pairs_hook=_pairs)
    except ValueError:  # not JSON to the stdlib (e.g. a lone surrogate): the parser decided
        return []
    return [Problem(path, f"the property '{key}' appears more than once in this object")
            for path, key in _found(document, root)]


def _clearly_unique(body: bytes, parsed: Any) -> bool:
    if b"\\" in body and b"\\u003" in body:  # maybe an escaped colon: count exactly
        return False
    try:
        again = orjson.dumps(parsed)
    except orjson.JSONEncodeError:  # e.g. an integer past 64 bits in an extension
        return False
    return _colons(body) == _colons(again)


def _colons(data: bytes) -> int:
    # Deleting the colons runs faster than bytes.count, which tests one byte at a time.
    return len(data) - len(data.translate(None, b":"))


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    marked = _Duplicated(out)
    seen: set[str] = set()
    marked.keys_twice = []
    for key, _ in pairs:
        if key in seen:
            marked.keys_twice.append(key)
        seen.add(key)
    return marked


def _found(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, _Duplicated):
        for key in dict.fromkeys(value.keys_twice):
            yield path, key
    if isinstance(value, dict):
        for key, inner in value.items():
            step = f".{key}" if key.isidentifier() else f"[{key!r}]"
            yield from _found(inner, path + step)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _found(inner, f"{path}[{index}]")
