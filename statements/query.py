"""GET /statements parameters (Communication §2.1.3, LRS book 4.1.6.1) as typed queries."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

import orjson
from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

from statements.datatypes import is_iri, is_uuid, parse_timestamp, timestamp_ms
from statements.errors import InvalidRequest, Problem
from statements.indexing import agent_key
from statements.models import Actor
from statements.parsing import json_path


class Format(StrEnum):
    """How Agents, Verbs and Activities are rendered (Communication §2.1.3 `format`)."""

    EXACT = "exact"
    IDS = "ids"
    CANONICAL = "canonical"


@dataclass(frozen=True)
class SingleLookup:
    """GET by `statementId`, or by `voidedStatementId` when `voided` is true."""

    statement_id: str
    voided: bool
    format: Format = Format.EXACT
    attachments: bool = False


@with_config(ConfigDict(extra="forbid"))  # for decode_more: a token with other keys is not ours
@dataclass(frozen=True)
class StatementQuery:
    """A filtered, paged query. Filters are ANDed (Communication §2.1.3.s2)."""

    agent: str | None = None  # an agent key (statements.indexing.agent_key)
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since_ms: int | None = None  # exclusive
    until_ms: int | None = None  # inclusive
    limit: int = 0
    ascending: bool = False
    format: Format = Format.EXACT
    attachments: bool = False
    # Keyset paging: the (stored_ms, tiebreak) of the last statement already returned.
    after: tuple[int, int | str] | None = None
    # Only statements whose authority has this agent key.
    authority: str | None = None
    # statements/read/mine: only statements whose authority or actor (or the object, when
    # an Agent: the engines index both alike; statements.portfolio.belongs_to tells them
    # apart) has this agent key.
    mine: str | None = None

    @property
    def has_filter(self) -> bool:
        """Whether any filter StatementRef targeting applies to (Comm. §2.1.3.s3) is set."""
        return any(v is not None for v in (self.agent, self.verb, self.activity,
                                           self.registration))


PARAMETERS = frozenset({
    "statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
    "related_activities", "related_agents", "since", "until", "limit", "format",
    "attachments", "ascending",
})
_SINGLE_COMPANIONS = frozenset({"format", "attachments"})
_ACTOR: TypeAdapter[Any] = TypeAdapter(Actor)
_MORE = TypeAdapter(StatementQuery)


def parse_query(
    params: Sequence[tuple[str, str]], *, max_limit: int
) -> SingleLookup | StatementQuery:
    """Turn query parameters into a lookup or a query; InvalidRequest names the parameter."""
    values: dict[str, str] = {}
    for name, value in params:
        if name not in PARAMETERS:
            # Communication §3.2.s3.b7-b8: unknown, or differing only in case → 400.
            raise InvalidRequest(f"unknown query parameter '{name}'",
                                 (Problem(f"?{name}", "not a parameter of this resource"),))
        if name in values:
            raise InvalidRequest(f"the query parameter '{name}' is given twice",
                                 (Problem(f"?{name}", "may appear only once"),))
        values[name] = value
    format_ = _enum(values, "format")
    attachments = _bool(values, "attachments")
    single = [name for name in ("statementId", "voidedStatementId") if name in values]
    if single:
        # Communication §2.1.3.s2.b1-b2: alone, or with format/attachments only.
        others = sorted(set(values) - _SINGLE_COMPANIONS - {single[0]})
        if others:
            raise InvalidRequest(
                f"{single[0]} may only be combined with format and attachments",
                (Problem(f"?{others[0]}", f"not allowed with {single[0]}"),),
            )
        statement_id = values[single[0]]
        if not is_uuid(statement_id):
            raise _bad(single[0], "must be a UUID")
        return SingleLookup(statement_id.lower(), single[0] == "voidedStatementId", format_,
                            attachments)
    limit = _int(values, "limit")
    return StatementQuery(
        agent=_agent(values["agent"]) if "agent" in values else None,
        verb=_iri(values, "verb"),
        activity=_iri(values, "activity"),
        registration=_uuid(values, "registration"),
        related_activities=_bool(values, "related_activities"),
        related_agents=_bool(values, "related_agents"),
        since_ms=_time(values, "since"),
        until_ms=_time(values, "until"),
        limit=max_limit if limit == 0 else min(limit, max_limit),
        ascending=_bool(values, "ascending"),
        format=format_,
        attachments=attachments,
    )


def encode_more(query: StatementQuery, after: tuple[int, int | str]) -> str:
    """An opaque token that continues `query` after the given position (Data §2.5.s3.b3)."""
    state = asdict(replace(query, after=after))
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def decode_more(token: str, *, max_limit: int) -> StatementQuery:
    """The query a `more` token stands for; InvalidRequest when it is not one of ours.

    The token is the client's to keep, so it is validated like any input, and its limit is
    capped again.
    """
    try:
        padded = token + "=" * (-len(token) % 4)
        query = _MORE.validate_json(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        raise _bad("more", "is not a continuation token issued by this LRS") from None
    return replace(query, limit=min(max(query.limit, 1), max_limit))


def _bad(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"invalid query parameter '{name}': {message}",
                          (Problem(f"?{name}", message),))


def _agent(raw: str) -> str:
    # Communication §2.1.3: an Agent or an identified Group, validated like one in a statement.
    try:
        actor = _ACTOR.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = json_path(first["loc"], root="?agent")
        raise InvalidRequest("invalid query parameter 'agent'", (
            Problem(path, first["msg"].removeprefix("Value error, ")),)) from None
    key = agent_key(actor)
    if key is None:
        raise _bad("agent", "must identify an Agent or Group by mbox, mbox_sha1sum, openid "
                            "or account")
    return key


def _iri(values: dict[str, str], name: str) -> str | None:
    value = values.get(name)
    if value is not None and not is_iri(value):
        raise _bad(name, "must be an absolute IRI")
    return value


def _uuid(values: dict[str, str], name: str) -> str | None:
    value = values.get(name)
    if value is not None and not is_uuid(value):
        raise _bad(name, "must be a UUID")
    return value.lower() if value is not None else None


def _bool(values: dict[str, str], name: str) -> bool:
    value = values.get(name, "false")
    if value not in ("true", "false"):
        raise _bad(name, "must be true or false")
    return value == "true"


def _int(values: dict[str, str], name: str) -> int:
    value = values.get(name, "0")
    if not value.isascii() or not value.isdigit():
        raise _bad(name, "must be a non-negative integer")
    return int(value)


def _time(values: dict[str, str], name: str) -> int | None:
    value = values.get(name)
    if value is None:
        return None
    try:
        return timestamp_ms(parse_timestamp(value))
    except ValueError as exc:
        raise _bad(name, f"must be an ISO 8601 timestamp ({exc})") from None


def _enum(values: dict[str, str], name: str) -> Format:
    try:
        return Format(values.get(name, "exact"))
    except ValueError:
        raise _bad(name, "must be exact, ids or canonical") from None
