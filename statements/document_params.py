"""Query parameters of the document resources (Communication §2.3, §2.6, §2.7) as types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from statements.datatypes import is_iri, is_uuid, parse_timestamp, timestamp_ms
from statements.documents import DocumentKind, DocumentScope
from statements.errors import InvalidRequest, Problem
from statements.indexing import agent_key
from statements.models import Agent
from statements.parsing import json_path

_AGENT: TypeAdapter[Any] = TypeAdapter(Agent)
_ID_PARAM = {DocumentKind.STATE: "stateId", DocumentKind.ACTIVITY_PROFILE: "profileId",
             DocumentKind.AGENT_PROFILE: "profileId"}
_ALLOWED = {
    DocumentKind.STATE: {"activityId", "agent", "registration", "stateId", "since"},
    DocumentKind.ACTIVITY_PROFILE: {"activityId", "profileId", "since"},
    DocumentKind.AGENT_PROFILE: {"agent", "profileId", "since"},
}


@dataclass(frozen=True)
class DocumentRequest:
    """Which document (or, with no id, which set of documents) a request is about."""

    scope: DocumentScope
    document_id: str | None
    since_ms: int | None


def parse_document_params(kind: DocumentKind, params: Sequence[tuple[str, str]]) -> DocumentRequest:
    """Validate the parameters of a document request; InvalidRequest names the parameter."""
    values: dict[str, str] = {}
    for name, value in params:
        if name not in _ALLOWED[kind]:  # Communication §3.2.s3.b7-b8
            raise _bad(name, "not a parameter of this resource")
        if name in values:
            raise _bad(name, "may appear only once")
        values[name] = value
    activity = agent = registration = ""
    if kind in (DocumentKind.STATE, DocumentKind.ACTIVITY_PROFILE):
        activity = _required(values, "activityId")
        if not is_iri(activity):
            raise _bad("activityId", "must be an absolute IRI")
    if kind in (DocumentKind.STATE, DocumentKind.AGENT_PROFILE):
        agent = parse_agent_param(_required(values, "agent"))
    if "registration" in values:
        if not is_uuid(values["registration"]):
            raise _bad("registration", "must be a UUID")
        registration = values["registration"].lower()
    document_id = values.get(_ID_PARAM[kind])
    if document_id is not None and not document_id:
        raise _bad(_ID_PARAM[kind], "may not be empty")
    since_ms = None
    if "since" in values:
        if document_id is not None:  # LRS book 4.1.6.2: since only lists ids
            raise _bad("since", f"not allowed with {_ID_PARAM[kind]}")
        try:
            since_ms = timestamp_ms(parse_timestamp(values["since"]))
        except ValueError as exc:
            raise _bad("since", f"must be an ISO 8601 timestamp ({exc})") from None
    return DocumentRequest(DocumentScope(kind, activity, agent, registration), document_id,
                           since_ms)


def id_param(kind: DocumentKind) -> str:
    """The name of the document-id parameter of a resource."""
    return _ID_PARAM[kind]


def parse_agent_param(raw: str) -> str:
    """An `agent` parameter: an Agent (not a Group) with one IFI, as its agent key."""
    try:
        agent = _AGENT.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidRequest("invalid query parameter 'agent'", (Problem(
            json_path(first["loc"], root="?agent"),
            first["msg"].removeprefix("Value error, ")),)) from None
    key = agent_key(agent)
    assert key is not None  # an Agent has exactly one IFI
    return key


def _required(values: dict[str, str], name: str) -> str:
    if name not in values:
        raise _bad(name, "this parameter is required")
    return values[name]


def _bad(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"invalid query parameter '{name}': {message}",
                          (Problem(f"?{name}", message),))
