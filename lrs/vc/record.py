"""A learner's assessed objectives, read from the kept assessment statements (lrs.objectives)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson

from lrs.objectives.assessments import ASSESSMENT_CATEGORY, EVIDENCE_EXTENSION
from lrs.space.entries import Entry
from lrs.vc.credentials import AssessedObjective, Evidence
from statements.indexing import actor_keys, agent_key
from statements.store import StatementStore

MAX_EVIDENCE_TEXT = 4000


def learner_uri(agent: Mapping[str, Any]) -> str:
    """The learner's URI for credentialSubject.id (the VC-JWT `sub`), from their xAPI agent:
    the mbox (a mailto: IRI), the openid, the account as homePage/name, or the SHA-1."""
    if isinstance(agent.get("mbox"), str):
        return str(agent["mbox"])
    if isinstance(agent.get("openid"), str):
        return str(agent["openid"])
    account = agent.get("account")
    if isinstance(account, Mapping):
        home = str(account.get("homePage", "")).rstrip("/")
        return f"{home}/{quote(str(account.get('name', '')), safe='')}"
    if isinstance(agent.get("mbox_sha1sum"), str):
        return f"urn:sha1:{agent['mbox_sha1sum']}"
    raise ValueError("the learner's agent has no identifier")


def _text(value: Any) -> str:
    """The en (or else the first) text of a language map, or ''."""
    if isinstance(value, Mapping) and value:
        for tag in ("en-US", "en", "en-GB", "und"):
            if isinstance(value.get(tag), str):
                return str(value[tag])
        first = next(iter(value.values()))
        return first if isinstance(first, str) else ""
    return ""


def entry_evidence(entry: Entry) -> Evidence:
    """A space entry as evidence: its title, its reflection as the narrative."""
    parts = [(label, text) for label, text in (
        ("What happened", entry.reflection.happened), ("What I learned", entry.reflection.learned),
        ("What I will do", entry.reflection.next)) if text]
    narrative = "\n\n".join(f"{label}: {text}" for label, text in parts)
    described = [f"A {entry.kind} recorded on {entry.created.date().isoformat()}"]
    if entry.tags:
        described.append("tags: " + ", ".join(entry.tags))
    if entry.files:
        described.append("files: " + ", ".join(f.name for f in entry.files))
    if entry.links:
        described.append("links: " + " ".join(entry.links))
    return Evidence(name=entry.title, narrative=narrative[:MAX_EVIDENCE_TEXT],
                    description="; ".join(described), genre=entry.kind,
                    url=f"urn:uuid:{entry.statement['id']}")


def is_assessment(statement: Mapping[str, Any], learner: str) -> bool:
    """A manager's assessment of `learner` (an agent key) as lrs.objectives records it: the
    assessment category, the learner as actor, and as authority the instructor (the manager
    who signed in), not the learner themself."""
    context = statement.get("context")
    if not isinstance(context, Mapping):
        return False
    categories = (context.get("contextActivities") or {}).get("category") or []
    if not any(isinstance(c, Mapping) and c.get("id") == ASSESSMENT_CATEGORY
               for c in categories):
        return False
    actor, authority = statement.get("actor"), statement.get("authority")
    instructor = context.get("instructor")
    if not (isinstance(actor, Mapping) and isinstance(authority, Mapping)
            and isinstance(instructor, Mapping)):
        return False
    manager = agent_key(dict(instructor))
    return (learner in actor_keys(dict(actor)) and manager is not None
            and manager in actor_keys(dict(authority))
            and learner not in actor_keys(dict(authority)))


def _moment(statement: Mapping[str, Any]) -> datetime:
    raw = str(statement.get("timestamp") or statement.get("stored") or "")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _evidence(store: StatementStore, ids: Iterable[Any], learner: str,
                    entries: Mapping[str, Evidence]) -> list[Evidence]:
    out: list[Evidence] = []
    for raw in ids:
        try:
            statement_id = str(uuid.UUID(str(raw)))
        except ValueError:
            continue
        if statement_id in entries:  # an entry of the space: its statement is inside it
            out.append(entries[statement_id])
            continue
        body = await store.get(statement_id, voided=False)
        statement: dict[str, Any] = orjson.loads(body) if body else {}
        actor = statement.get("actor")
        if not (isinstance(actor, Mapping) and learner in actor_keys(dict(actor))):
            # Not kept here, or not the learner's: named, not described.
            out.append(Evidence(name=f"Statement {statement_id}", url=f"urn:uuid:{statement_id}"))
            continue
        target = statement.get("object") or {}
        name = _text((target.get("definition") or {}).get("name")) or str(target.get("id", ""))
        verb = _text((statement.get("verb") or {}).get("display"))
        result = statement.get("result") or {}
        response = result.get("response")
        narrative = response if isinstance(response, str) else ""
        out.append(Evidence(
            name=name or f"Statement {statement_id}",
            narrative=narrative[:MAX_EVIDENCE_TEXT],
            description=f"xAPI statement {statement_id}: {verb} {name}".strip(),
            genre="xAPI statement",
            url=f"urn:uuid:{statement_id}",
        ))
    return out


async def assessed_objectives(
    store: StatementStore, statements: Iterable[Mapping[str, Any]], learner: str,
    entries: Mapping[str, Evidence] | None = None,
) -> list[AssessedObjective]:
    """The latest assessment of each objective among the learner's `statements`, as
    AssessedObjectives (met or not yet), by objective title. Each piece of evidence is
    `entries[statement id]` (the space's entries, by their statements' ids) or else read
    from `store`."""
    latest: dict[str, Mapping[str, Any]] = {}
    for statement in statements:
        if not is_assessment(statement, learner):
            continue
        iri = str((statement.get("object") or {}).get("id", ""))
        if iri and (iri not in latest or _moment(statement) >= _moment(latest[iri])):
            latest[iri] = statement
    out = []
    for iri, statement in latest.items():
        definition = (statement.get("object") or {}).get("definition") or {}
        context = statement["context"]
        parents = (context.get("contextActivities") or {}).get("parent") or [{}]
        framework = _text((parents[0].get("definition") or {}).get("name")) or str(
            parents[0].get("id", ""))
        result = statement.get("result") or {}
        instructor = context["instructor"]
        extensions = context.get("extensions") or {}
        out.append(AssessedObjective(
            iri=iri,
            title=_text(definition.get("name")) or iri,
            description=_text(definition.get("description")),
            framework=framework,
            outcome="met" if result.get("success") is True else "not-yet",
            assessed_at=_moment(statement),
            assessor=str(instructor.get("name") or agent_key(dict(instructor))),
            comment=str(result.get("response") or ""),
            evidence=tuple(await _evidence(store, extensions.get(EVIDENCE_EXTENSION) or [],
                                           learner, entries or {})),
        ))
    return sorted(out, key=lambda o: (o.title, o.iri))
