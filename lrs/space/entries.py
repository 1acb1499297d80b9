"""Entries of a space: what a learner records (an experience, a resource used, a meeting, a
plan) with a structured reflection, tags, links and files; each is also an xAPI statement
with the learner as actor and authority, kept only inside the entry's ciphertext."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from statements.enrich import enrich
from statements.errors import InvalidRequest, Problem
from statements.parsing import json_path, parse_statements
from statements.versions import XapiVersion

ENTRY, FILE = "entry", "file"  # the blob kinds
Kind = Literal["experience", "resource", "meeting", "plan"]
VERBS: dict[str, tuple[str, str]] = {
    "experience": ("http://adlnet.gov/expapi/verbs/experienced", "experienced"),
    "resource": ("http://id.tincanapi.com/verb/viewed", "viewed"),
    "meeting": ("http://adlnet.gov/expapi/verbs/attended", "attended"),
    "plan": ("http://activitystrea.ms/schema/1.0/author", "authored"),
}
TYPES = {
    "experience": "http://adlnet.gov/expapi/activities/performance",
    "resource": "http://adlnet.gov/expapi/activities/media",
    "meeting": "http://adlnet.gov/expapi/activities/meeting",
    "plan": "http://id.tincanapi.com/activitytype/goal",
}
# Extension IRIs of this LRS (Data §2.4.4.3 / §2.4.6.4: any IRI the LRS controls).
REFLECTION = "urn:tally-lrs:space:reflection"
TAGS = "urn:tally-lrs:space:tags"
LINKS = "urn:tally-lrs:space:links"
ATTACHED = "http://id.tincanapi.com/attachment/supporting_media"

Text = Annotated[str, StringConstraints(max_length=20_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Link = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000,
                                        pattern=r"^https?://[^\s/?#]+[^\s]*$")]


class Reflection(BaseModel):
    """What happened, what I learned, what I will do."""

    model_config = ConfigDict(extra="forbid", strict=True)

    happened: Text = ""
    learned: Text = ""
    next: Text = ""


class EntryInput(BaseModel):
    """An entry as the learner sends it (strict: unknown keys and nulls refused)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Kind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=200)]
    occurred: date | None = None  # when it happened; the day it was recorded otherwise
    reflection: Reflection = Field(default_factory=Reflection)
    tags: Annotated[list[Tag], Field(max_length=30)] = []
    links: Annotated[list[Link], Field(max_length=30)] = []


class FileInfo(BaseModel):
    """A file attached to an entry; its bytes are a blob of their own (kind `file`)."""

    id: str
    name: str
    media_type: str
    size: int
    sha256: str


class Entry(EntryInput):
    """An entry as the space keeps it (inside its ciphertext) and the API returns it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    created: datetime
    updated: datetime
    files: list[FileInfo] = []
    statement: dict[str, Any]  # the entry as xAPI: actor and authority the learner


def parse_entry(body: bytes) -> EntryInput:
    """An entry from request bytes; InvalidRequest naming the JSON path of each problem."""
    try:
        return EntryInput.model_validate_json(body)
    except ValidationError as exc:
        problems = tuple(Problem(json_path(e["loc"]), e["msg"]) for e in exc.errors())
        raise InvalidRequest("the entry is not valid", problems) from None


def file_name(name: str | None) -> str:
    """A file's name as sent (`?name=`), checked: no path, no control characters."""
    cleaned = (name or "").strip()
    if not cleaned or len(cleaned) > 200 or any(c in cleaned for c in "/\\") \
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned):
        raise InvalidRequest("a file needs a name: 1-200 characters, no / or \\",
                             (Problem("?name", "missing or not a plain file name"),))
    return cleaned


def media_type(value: str | None) -> str:
    """The file's media type from its Content-Type (`application/octet-stream` if none)."""
    kind = (value or "application/octet-stream").split(";", 1)[0].strip().lower()
    main, _, sub = kind.partition("/")
    if not main or not sub or len(kind) > 127 or any(c.isspace() for c in kind):
        raise InvalidRequest("a file's Content-Type must be a media type such as image/png",
                             (Problem("Content-Type", "not a media type"),))
    return kind


def build_entry(data: EntryInput, agent: dict[str, Any], *, entry_id: str,
                created: datetime, now: datetime, files: list[FileInfo]) -> Entry:
    """The entry with its xAPI statement made afresh (a new statement id at each change:
    an edited entry is another statement), validated through the one statement door
    (statements.parsing) and enriched as any stored statement is."""
    statement_id = str(uuid.uuid4())
    sent = _statement(data, agent, entry_id, statement_id, created, files)
    (valid,) = parse_statements(orjson.dumps(sent), XapiVersion.V2).statements
    stored = enrich(valid, statement_id=statement_id, stored=now, authority=agent,
                    version=XapiVersion.V2)
    return Entry(**data.model_dump(), id=entry_id, created=created, updated=now, files=files,
                 statement=stored.statement)


def new_file(name: str, kind: str, data: bytes) -> FileInfo:
    """The description of a file about to be attached."""
    return FileInfo(id=str(uuid.uuid4()), name=name, media_type=kind, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest())


def entry_bytes(entry: Entry) -> bytes:
    """What an entry's blob holds."""
    return entry.model_dump_json().encode()


def entry_of(plaintext: bytes) -> Entry:
    """The inverse of `entry_bytes`."""
    return Entry.model_validate_json(plaintext)


def input_of(entry: Entry) -> EntryInput:
    """The learner's part of an entry (to change a file and keep the rest)."""
    return EntryInput(**entry.model_dump(include=set(EntryInput.model_fields)))


def utc_now() -> datetime:
    """The clock entries are stamped with."""
    return datetime.now(UTC)


def _statement(data: EntryInput, agent: dict[str, Any], entry_id: str, statement_id: str,
               created: datetime, files: list[FileInfo]) -> dict[str, Any]:
    verb, display = VERBS[data.kind]
    definition: dict[str, Any] = {"name": {"und": data.title}, "type": TYPES[data.kind]}
    if data.links:
        definition["moreInfo"] = data.links[0]
    when = (datetime.combine(data.occurred, datetime.min.time(), UTC) if data.occurred
            else created)
    statement: dict[str, Any] = {
        "id": statement_id,
        "actor": agent,
        "verb": {"id": verb, "display": {"en": display}},
        "object": {"objectType": "Activity", "id": f"urn:uuid:{entry_id}",
                   "definition": definition},
        "result": {"extensions": {REFLECTION: data.reflection.model_dump()}},
        "context": {"extensions": {TAGS: data.tags, LINKS: data.links}},
        "timestamp": when.isoformat().replace("+00:00", "Z"),
    }
    if data.reflection.learned:
        statement["result"]["response"] = data.reflection.learned
    if files:  # described, not carried: the bytes are the space's file blobs (Data §2.4.11)
        statement["attachments"] = [
            {"usageType": ATTACHED, "display": {"und": f.name}, "contentType": f.media_type,
             "length": f.size, "sha2": f.sha256} for f in files]
    return statement
