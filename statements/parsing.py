"""The one door for statement validation: request bytes in, validated statements out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from statements.datatypes import PATTERN_MESSAGES
from statements.duplicates import duplicate_keys
from statements.errors import InvalidRequest, Problem
from statements.fastpath import fast_validator, validate
from statements.models import Statement
from statements.versions import XapiVersion

# Typed as Any: validation yields plain dicts (the TypedDicts describe, they do not wrap).
_ONE: TypeAdapter[Any] = TypeAdapter(Statement)
_MANY: TypeAdapter[Any] = TypeAdapter(list[Statement])
# The same rules with native checks only (statements/fastpath.py): what they accept is
# accepted; what they refuse goes to the full models, which word the errors.
_FAST_ONE = fast_validator(_ONE.core_schema)
_FAST_MANY = fast_validator(_MANY.core_schema)
# Discriminator tags pydantic puts into error locations; they are not JSON keys.
_TAGS = frozenset({"Agent", "Group", "Activity", "StatementRef", "SubStatement", "one", "many"})
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class ParsedStatements:
    """Validated statements as sent, and whether the body was one object or an array."""

    statements: list[dict[str, Any]]
    single: bool


def parse_statements(body: bytes, version: XapiVersion) -> ParsedStatements:
    """Validate a request body holding one Statement or an array of them (Data §2.1).

    Raises InvalidRequest naming the JSON path of every rule broken; a batch with one bad
    statement is rejected whole (Communication §3.2.s3.b9).
    """
    start = body.lstrip(_WHITESPACE)[:1]
    if start not in (b"{", b"["):
        raise InvalidRequest(
            "the body must be a JSON object (one statement) or array (several statements)",
            (Problem("$", "expected a JSON object or array"),),
        )
    single = start == b"{"
    try:
        parsed = validate(_FAST_ONE if single else _FAST_MANY, body)
    except ValueError:
        parsed = _validate_fully(body, single)
    repeated = duplicate_keys(body, parsed)
    if repeated:  # Data §2.2: a property may appear at most once in an object
        raise InvalidRequest("a JSON object in the body repeats a property", tuple(repeated))
    statements: list[dict[str, Any]] = [parsed] if single else parsed
    if version is XapiVersion.V1:
        problems = [
            problem
            for index, statement in enumerate(statements)
            for problem in _v1_only(statement, "$" if single else f"$[{index}]")
        ]
        if problems:
            raise InvalidRequest("invalid statement for xAPI 1.0.3", tuple(problems))
    return ParsedStatements(statements, single)


def _validate_fully(body: bytes, single: bool) -> Any:
    try:
        return _ONE.validate_json(body) if single else _MANY.validate_json(body)
    except ValidationError as exc:
        raise InvalidRequest(
            "invalid statement" if single else "invalid statement batch",
            tuple(_problems(exc, single)),
        ) from None


def json_path(loc: Iterable[int | str], root: str = "$") -> str:
    """Render a pydantic error location as a JSON path, skipping union tags."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _TAGS:
            continue
        elif part.isidentifier():
            path += f".{part}"
        else:
            path += f"[{part!r}]"
    return path


def _problems(exc: ValidationError, single: bool) -> Iterable[Problem]:
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "this property is not allowed here"
        elif error["type"] == "missing":
            message = "this required property is missing"
        elif error["type"] == "string_pattern_mismatch":
            message = PATTERN_MESSAGES.get(error["ctx"]["pattern"], message)
        elif error["type"] == "json_invalid":
            message = f"the body is not valid JSON: {error['ctx'].get('error', '')}"
        yield Problem(json_path(error["loc"]), message)


def _v1_only(statement: dict[str, Any], path: str) -> Iterable[Problem]:
    # contextAgents/contextGroups are 2.0 properties: unknown, so rejected, in 1.0.3.
    for where, part in (("", statement), (".object", statement["object"])):
        context = part.get("context", {}) if isinstance(part, dict) else {}
        for key in ("contextAgents", "contextGroups"):
            if key in context:
                yield Problem(f"{path}{where}.context.{key}", "not allowed in xAPI 1.0.3")
    version = statement.get("version")
    if version is not None and not version.startswith("1.0"):
        yield Problem(f"{path}.version", "must be 1.0.x for an xAPI 1.0.3 request")
