"""Documents: State, Activity Profile and Agent Profile (Communication §2.2-2.7, L4.1.6).

The rules (preconditions, JSON merge, ETags) live here as pure functions over the current
document; a store only has to run one of them atomically against what it holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import orjson

from statements.attachments import media_type
from statements.errors import Conflict, InvalidRequest, NotFound, Problem, XapiError


class DocumentKind(StrEnum):
    """The three document resources."""

    STATE = "state"
    ACTIVITY_PROFILE = "activity_profile"
    AGENT_PROFILE = "agent_profile"


@dataclass(frozen=True)
class DocumentScope:
    """Where a document lives: its kind and what it belongs to.

    State: activity id, agent key and registration ("" for none: documents stored without a
    registration are addressed only by requests without one). Activity Profile: activity id.
    Agent Profile: agent key.
    """

    kind: DocumentKind
    activity: str = ""
    agent: str = ""
    registration: str = ""


@dataclass(frozen=True)
class Document:
    """A stored document: opaque bytes with their Content-Type, ETag and update time."""

    content: bytes
    content_type: str
    etag: str  # lower-case hex SHA-1 of the bytes (Communication §3.1.s4.b2)
    updated_ms: int


class PreconditionFailed(XapiError):
    """If-Match / If-None-Match not satisfied (Communication §3.1): 412."""


class DocumentConflict(Conflict):
    """A PUT without a precondition onto an existing document (Communication §3.1.s4.b13): 409."""


class DocumentNotFound(NotFound):
    """No such document: 404."""


@dataclass(frozen=True)
class Preconditions:
    """The request's If-Match / If-None-Match values (quotes removed), if any."""

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None

    @classmethod
    def from_headers(cls, if_match: str | None, if_none_match: str | None) -> Preconditions:
        """Parse the two headers' comma-separated entity-tag lists."""
        return cls(_tags(if_match), _tags(if_none_match))

    @property
    def given(self) -> bool:
        """Whether the request carried either header."""
        return self.if_match is not None or self.if_none_match is not None

    def check(self, current: Document | None) -> None:
        """Raise PreconditionFailed unless the headers allow acting on `current`."""
        if self.if_match is not None and (
            current is None or ("*" not in self.if_match and current.etag not in self.if_match)
        ):
            raise PreconditionFailed("If-Match does not match the document's current ETag")
        if self.if_none_match is not None and current is not None and (
            "*" in self.if_none_match or current.etag in self.if_none_match
        ):
            raise PreconditionFailed("If-None-Match: the document already exists")


def _tags(header: str | None) -> tuple[str, ...] | None:
    if header is None:
        return None
    tags = []
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/")
        tags.append(tag.strip('"').lower() if tag != "*" else "*")
    return tuple(tags)


def make_document(content: bytes, content_type: str | None, now_ms: int) -> Document:
    """A document for these bytes (Content-Type defaults to application/octet-stream)."""
    return Document(content, content_type or "application/octet-stream",
                    hashlib.sha1(content, usedforsecurity=False).hexdigest(), now_ms)


# A mutation: the current document (or None) in, the new one (None deletes) out.
Mutation = Callable[[Document | None], Document | None]


def put_mutation(new: Document, preconditions: Preconditions, *,
                 conflict_without_precondition: bool, precondition_required: bool) -> Mutation:
    """PUT: replace the document, subject to the preconditions.

    Without a precondition, a PUT onto an existing document is a 409 when
    `conflict_without_precondition` (Communication §3.1.s4.b13-b15), and any PUT is a 400
    when `precondition_required`.
    """

    def mutate(current: Document | None) -> Document | None:
        preconditions.check(current)
        if not preconditions.given:
            if current is not None and conflict_without_precondition:
                raise DocumentConflict("the document exists: read it and send If-Match with "
                                       "its ETag to overwrite it")
            if precondition_required:
                raise InvalidRequest("a PUT to a profile needs If-Match or If-None-Match",
                                     (Problem("header", "If-Match or If-None-Match"),))
        return new

    return mutate


def post_mutation(new: Document, preconditions: Preconditions) -> Mutation:
    """POST: store, or merge JSON objects one level deep (Communication §2.2.s7-s8)."""

    def mutate(current: Document | None) -> Document | None:
        preconditions.check(current)
        posted = _json_object(new, "the posted document")
        if current is None:
            return new
        existing = _json_object(current, "the stored document")
        if posted is None or existing is None:
            raise MergeRejected("a POST can only merge a JSON object into a JSON object; "
                                "use PUT to replace the document")
        merged = orjson.dumps({**existing, **posted})
        return make_document(merged, "application/json", new.updated_ms)

    return mutate


def delete_mutation(preconditions: Preconditions) -> Mutation:
    """DELETE: remove the document, subject to the preconditions (404-free: idempotent)."""

    def mutate(current: Document | None) -> Document | None:
        if current is not None:
            preconditions.check(current)
        return None

    return mutate


class MergeRejected(InvalidRequest):
    """A POST whose bytes or stored document are not JSON objects: 400 (§2.2.s8.b1)."""


def _json_object(document: Document, what: str) -> dict[str, object] | None:
    if media_type(document.content_type) != "application/json":
        return None
    try:
        value = orjson.loads(document.content)
    except orjson.JSONDecodeError:
        raise MergeRejected(f"{what} is not valid JSON") from None
    return value if isinstance(value, dict) else None


class DocumentStore(Protocol):
    """Keeps documents; every write is one atomic read-modify-write."""

    async def get(self, scope: DocumentScope, document_id: str) -> Document | None:
        """One document, or None."""
        ...

    async def ids(self, scope: DocumentScope, since_ms: int | None) -> tuple[list[str], int | None]:
        """The ids in a scope updated after `since_ms` (exclusive), and the latest update."""
        ...

    async def mutate(self, scope: DocumentScope, document_id: str, mutation: Mutation) -> None:
        """Apply `mutation` to the current document atomically (None deletes)."""
        ...

    async def delete_all(self, scope: DocumentScope) -> None:
        """Delete every document in the scope (State only)."""
        ...


def ids_body(ids: Sequence[str]) -> bytes:
    """The JSON array an id-list GET answers with."""
    return orjson.dumps(list(ids))
