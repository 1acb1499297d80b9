"""Duplicate JSON keys in statements are rejected, wherever they are (Data §2.2)."""

from __future__ import annotations

import json

import orjson
import pytest

from statements.duplicates import duplicate_keys
from statements.errors import InvalidRequest
from statements.parsing import parse_statements
from statements.versions import XapiVersion
from tests.factories import make_statement


def _with_tail(statement_json: str, tail: str) -> bytes:
    """The statement's JSON with `tail` added before the closing brace."""
    return (statement_json[:-1] + tail + "}").encode()


def _problems(body: bytes) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequest) as raised:
        parse_statements(body, XapiVersion.V2)
    return [(p.path, p.message) for p in raised.value.problems]


@pytest.mark.parametrize("dumps", [
    lambda s: orjson.dumps(s).decode(),  # compact
    json.dumps,  # spaced, \u-escaped non-ASCII
    lambda s: json.dumps(s, indent=2, separators=(",", " : ")),  # whitespace before colons
])
def test_duplicate_top_level_key_is_rejected_in_any_layout(dumps: object) -> None:
    text = dumps(make_statement(timestamp=None))  # type: ignore[operator]
    body = _with_tail(text.rstrip(), ', "verb" : {"id": "http://example.com/verbs/other"}')
    assert _problems(body) == [("$", "the property 'verb' appears more than once in this "
                                     "object")]


def test_duplicate_nested_key_names_its_path_in_a_batch() -> None:
    text = orjson.dumps(make_statement()).decode()
    nested = text.replace('"name":"Alice"', '"name":"Alice","name":"Eve"', 1)
    body = f"[{text},{nested}]".encode()
    assert _problems(body) == [("$[1].actor", "the property 'name' appears more than once in "
                                              "this object")]


def test_duplicate_inside_an_extension_is_found() -> None:
    statement = make_statement()
    statement["result"]["extensions"] = {"http://example.com/x": {"a": 1}}
    text = orjson.dumps(statement).decode().replace('{"a":1}', '{"a":1,"a":2}')
    path, _ = _problems(text.encode())[0]
    assert path == "$.result.extensions['http://example.com/x']"


def test_escaped_colon_cannot_hide_a_duplicate() -> None:
    # The dropped duplicate's colon is made up for by a colon sent as \u003a in a kept
    # string: the colon count alone would balance, so such bodies take the exact path.
    statement = make_statement()
    statement["result"]["response"] = "PLACEHOLDER"
    text = orjson.dumps(statement).decode().replace('"PLACEHOLDER"', '"a\\u003ab"')
    text = text.replace('"completion":true', '"completion":true,"completion":true')
    assert _problems(text.encode())[0][0] == "$.result"


def test_big_integer_in_an_extension_still_checked() -> None:
    statement = make_statement()
    statement["result"]["extensions"] = {"http://example.com/n": 0}
    text = orjson.dumps(statement).decode().replace(":0}", ":123456789012345678901234567890}")
    assert parse_statements(text.encode(), XapiVersion.V2).statements  # accepted: no duplicate
    doubled = text.replace('"success":true', '"success":true,"success":false')
    assert _problems(doubled.encode())[0][0] == "$.result"


@pytest.mark.parametrize("value", [
    "a:b", "\\u003a", "\\\":", "x\\\":y", "é:\\u00e9", "::::",
])
def test_strings_with_colons_and_escapes_are_no_false_alarm(value: str) -> None:
    statement = make_statement()
    statement["result"]["response"] = "PLACEHOLDER"
    body = orjson.dumps(statement).replace(b'"PLACEHOLDER"', f'"{value}"'.encode())
    parsed = parse_statements(body, XapiVersion.V2)
    assert duplicate_keys(body, parsed.statements[0]) == []


def test_equal_keys_written_differently_are_duplicates() -> None:
    text = orjson.dumps(make_statement()).decode()
    body = _with_tail(text, ',"\\u0074imestamp":"2026-01-01T00:00:00Z"')  # \u0074 is "t"
    assert _problems(body)[0] == ("$", "the property 'timestamp' appears more than once in "
                                       "this object")
