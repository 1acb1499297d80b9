"""Where sharing's inputs come from and its outputs go: the learner's space (evidence changes
appended as blobs, the entries and files a snapshot copies), their kept statements, the
objectives assigned to them, and the assessment a manager records (lrs.objectives)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from lrs.config import Settings
from lrs.objectives import Outcome
from lrs.objectives.assessments import record_assessment
from lrs.people import Person
from lrs.people.web import session_of
from lrs.sharing import Grant
from lrs.sharing.evidence import ObjectiveEvidence
from lrs.sharing.sealing import EnvelopeKeyWrap, KeyWrap
from lrs.space import Mode, SpaceLocked
from lrs.space.keys import key_encryption_key, owner_key
from lrs.space.service import SpaceKey, Spaces
from lrs.space.unlocked import Unlocked
from lrs.storage import Storage
from statements.errors import InvalidRequest, Problem
from statements.indexing import agent_key
from statements.portfolio import belongs_to

EVIDENCE = "evidence"  # the kind of the blobs evidence changes are appended as
ENTRY, FILE = "entry", "file"  # the space's own blob kinds (lrs.space.entries)
REFLECTION = (("happened", "What happened"), ("learned", "What I learned"),
              ("next", "What I will do"))


def envelope(settings: Settings, engine: str) -> KeyWrap:
    """The server's envelope key for grant keys: the spaces' key-encryption key."""
    kek, _ = key_encryption_key(settings, engine)
    return EnvelopeKeyWrap(kek)


def _spaces(request: Request) -> Spaces:
    spaces: Spaces = request.app.state.spaces
    return spaces


async def _key(request: Request, person: Person) -> SpaceKey | None:
    """The key that opens the person's space in this request: an envelope space's from the
    keyring, a sealed one's only if unlocked in this session (SpaceLocked otherwise); None
    when they have no space yet."""
    spaces, owner = _spaces(request), owner_key(person.agent)
    record = await spaces.record_of(owner)
    if record is None:
        return None
    if record.mode is Mode.ENVELOPE:
        return await spaces.unlock(owner)
    unlocked: Unlocked = request.app.state.space_unlocked
    session = await session_of(request)
    key = unlocked.get(session.key, owner) if session is not None else None
    if key is None or key.space != record.space:
        raise SpaceLocked()
    return key


async def changes(request: Request, person: Person) -> list[dict[str, Any]]:
    """Every evidence change the person appended to their space (none without a space)."""
    key = await _key(request, person)
    if key is None:
        return []
    opened = await _spaces(request).read(key, EVIDENCE)
    return [orjson.loads(one.plaintext) for one in opened]


async def append(request: Request, person: Person, change: dict[str, Any]) -> None:
    """Append one change to the person's space (made first, in envelope mode, if they have
    none: evidence lives nowhere else). A sealed space takes it while locked."""
    spaces, owner = _spaces(request), owner_key(person.agent)
    if await spaces.record_of(owner) is None:
        await spaces.create(owner)
    await spaces.append(owner, EVIDENCE, orjson.dumps(change))


async def _entries(request: Request, person: Person) -> dict[str, dict[str, Any]]:
    key = await _key(request, person)
    if key is None:
        return {}
    entries = {}
    for one in await _spaces(request).read(key, ENTRY):
        entry = orjson.loads(one.plaintext)
        entries[str(entry.get("id", one.id))] = entry
    return entries


async def _statement(request: Request, person: Person, ref: str) -> dict[str, Any] | None:
    learner = agent_key(person.agent) if person.agent else None
    body = await request.app.state.storage.statements.get(ref, voided=False)
    if body is None or learner is None:
        return None
    statement: dict[str, Any] = orjson.loads(body)
    return statement if belongs_to(statement, learner) else None


def _file(entries: dict[str, dict[str, Any]], ref: str) -> tuple[dict[str, Any],
                                                                 dict[str, Any]] | None:
    for entry in entries.values():
        for info in entry.get("files", []):
            if info.get("id") == ref:
                return entry, info
    return None


async def title_of_ref(request: Request, person: Person, kind: str, ref: str) -> str:
    """The name of the thing linked (an entry's title, a file's name, what a statement
    says); InvalidRequest (at `$.ref`) unless it is the person's own: an entry or a file of
    their space, or a statement kept about them."""
    if kind == "statement":
        statement = await _statement(request, person, ref)
        if statement is not None:
            return _said(statement) or ref
    elif kind == "entry":
        entry = (await _entries(request, person)).get(ref)
        if entry is not None:
            return str(entry.get("title") or ref)
    else:
        found = _file(await _entries(request, person), ref)
        if found is not None:
            return str(found[1].get("name") or ref)
    raise InvalidRequest(f"no such {kind} of yours", (Problem(
        "$.ref", f"{ref!r} is not " + ("a statement kept about you" if kind == "statement"
                                        else f"a {kind} of your space")),))


def _said(statement: dict[str, Any]) -> str:
    """A statement in a few words: its verb's display and its object's name."""
    verb = statement.get("verb", {})
    target = statement.get("object", {})
    name = (target.get("definition") or {}).get("name") or {}
    return " ".join(filter(None, [next(iter((verb.get("display") or {}).values()),
                                       verb.get("id")),
                                  next(iter(name.values()), target.get("id"))]))


def _entry_item(link: dict[str, Any], entry: dict[str, Any] | None) -> dict[str, Any]:
    if entry is None:
        return {**link, "when": None, "text": [{"label": "", "value": "(no longer in the "
                                                               "space)"}]}
    reflection = entry.get("reflection") or {}
    text = [{"label": label, "value": reflection[field]} for field, label in REFLECTION
            if reflection.get(field)]
    text += [{"label": "Files", "value": ", ".join(f["name"] for f in entry["files"])}
             ] if entry.get("files") else []
    statement = entry.get("statement") or {}
    return {**link, "entry_title": entry.get("title"), "when": entry.get("occurred") or
            entry.get("created"), "text": text, "statement_id": statement.get("id")}


def _statement_item(link: dict[str, Any], statement: dict[str, Any] | None) -> dict[str, Any]:
    if statement is None:
        return {**link, "when": None, "text": [{"label": "", "value": "(no longer kept)"}]}
    said = _said(statement)
    return {**link, "when": statement.get("timestamp"), "statement": statement,
            "text": [{"label": "Statement", "value": said}]}


async def snapshot(request: Request, person: Person, iri: str, title: str,
                   held: ObjectiveEvidence | None) -> dict[str, Any]:
    """One objective's evidence as it stands now, for a grant to carry: the ratings, and each
    linked thing with its text (an entry's reflection, a statement, a file's name)."""
    held = held or ObjectiveEvidence(iri)
    entries = await _entries(request, person) if any(
        link["kind"] != "statement" for link in held.links) else {}
    items = []
    for link in held.links:
        base = {k: link[k] for k in ("kind", "ref", "title")}
        if link["kind"] == "entry":
            items.append(_entry_item(base, entries.get(link["ref"])))
        elif link["kind"] == "statement":
            items.append(_statement_item(base, await _statement(request, person, link["ref"])))
        else:
            found = _file(entries, link["ref"])
            items.append({**base, "when": found[0].get("created") if found else None,
                          "text": [{"label": "File", "value":
                                    f"{found[1]['name']} ({found[1]['media_type']}, "
                                    f"{found[1]['size']} bytes), attached to "
                                    f"'{found[0].get('title')}'" if found else
                                    "(no longer in the space)"}]})
    return {"objective": {"iri": iri, "title": title}, "learner": person.name,
            "rating": held.rating, "ratings": held.ratings, "evidence": items}


async def assigned(storage: Storage, person: Person) -> dict[str, str]:
    """The objectives assigned to the person through their groups: IRI → title."""
    out: dict[str, str] = {}
    for framework in await storage.frameworks.assigned_to(person.groups):
        for objective in framework.objectives:
            out.setdefault(objective.iri, objective.title)
    return out


async def assess(request: Request, grant: Grant, manager: Person, outcome: str,
                 comment: str | None, evidence: list[str]) -> str:
    """Record the manager's assessment of the grant's learner against its objective
    (lrs.objectives.assessments); the id of the kept statement."""
    storage: Storage = request.app.state.storage
    found = await storage.frameworks.find_objective(grant.objective)
    if not found:
        raise InvalidRequest("the objective is no longer in any framework", (
            Problem("$.objective", f"{grant.objective} was removed"),))
    framework, objective = found[0]
    statement_id: str = await record_assessment(
        request.app.state.ingest, learner=grant.learner_agent, framework=framework,
        objective=objective, outcome=Outcome(outcome), comment=comment, evidence=evidence,
        manager=manager)
    return statement_id
