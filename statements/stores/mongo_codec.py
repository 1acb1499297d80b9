"""Statements as MongoDB documents: the escaping JSON needs and BSON cannot hold."""

from __future__ import annotations

import re
from typing import Any

import orjson
from bson.decimal128 import Decimal128

from statements.enrich import StoredStatement

Document = dict[str, Any]

_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
_UNESCAPE = re.compile("%(25|00)")


def encode_statement(statement: Document) -> tuple[Document, bool]:
    """The statement as MongoDB can hold it, and whether anything had to be escaped.

    Nothing changes for an ordinary statement. Escaped, because JSON allows them and
    MongoDB/BSON does not keep them faithfully:
    - keys starting with `$` (MongoDB reserves them, and PyMongo turns a subdocument with
      `$ref` and `$id` into a DBRef when reading) or with `~` (our escape character), and
      keys holding a NUL character: written as `~` + the key with `%`→`%25`, NUL→`%00`;
    - integers from 2**63 to 2**64-1 (the JSON encoder writes them, BSON has no type for
      them): written as Decimal128, the only numbers of that type in an escaped statement.
    An integer the JSON encoder cannot write either raises TypeError, as in SQLite.
    Keys containing `.` need nothing: MongoDB 5.0+ stores them, and we never query them.
    """
    if not _needs_escape(statement):
        return statement, False
    escaped: Document = _escape(statement)
    return escaped, True


def decode_statement(statement: Document, *, escaped: bool) -> Document:
    """The inverse of `encode_statement`."""
    if not escaped:
        return statement
    decoded: Document = _unescape(statement)
    return decoded


def _key_needs_escape(key: str) -> bool:
    return key.startswith(("$", "~")) or "\x00" in key


def _needs_escape(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_key_needs_escape(k) or _needs_escape(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_needs_escape(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return not _INT64_MIN <= value <= _INT64_MAX
    return False


def _escape(value: Any) -> Any:
    if isinstance(value, dict):
        return {_escape_key(k): _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not (
            _INT64_MIN <= value <= _INT64_MAX):
        if _INT64_MAX < value <= _UINT64_MAX:
            return Decimal128(str(value))
        raise TypeError("Integer exceeds 64-bit range")  # what orjson raises in SQLite
    return value


def _escape_key(key: str) -> str:
    if not _key_needs_escape(key):
        return key
    return "~" + key.replace("%", "%25").replace("\x00", "%00")


def _unescape(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unescape_key(k): _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    if isinstance(value, Decimal128):
        return int(value.to_decimal())
    return value


def _unescape_key(key: str) -> str:
    if not key.startswith("~"):
        return key
    return _UNESCAPE.sub(lambda m: "%" if m[1] == "25" else "\x00", key[1:])


def statement_document(statement: StoredStatement, *, voided: bool) -> Document:
    """The document stored for one statement."""
    index = statement.index
    body, escaped = encode_statement(statement.statement)
    document: Document = {
        "_id": statement.id,
        "stored": statement.stored_ms,
        "verb": index.verb,
        "voiding": index.voiding,
        "voided": voided,
        "hash": statement.content_hash,
        "agents": sorted(index.agents),
        "rel_agents": sorted(index.related_agents),
        "rel_activities": sorted(index.related_activities),
    }
    for name, value in (("activity", index.activity), ("registration", index.registration),
                        ("ref_target", index.ref_target), ("authority", index.authority)):
        if value is not None:
            document[name] = value
    document["statement"] = body
    if escaped:
        document["escaped"] = True
    return document


def statement_json(document: Document) -> bytes:
    """The statement of a stored document as JSON bytes: the same bytes SQLite returns."""
    return orjson.dumps(decode_statement(document["statement"],
                                         escaped=bool(document.get("escaped"))))
