"""A manager's assessment of a learner against an objective, recorded as a kept xAPI statement.

The statement (xAPI 1.0.3 Data §2.4 / xAPI 2.0 IEEE 9274.1.1 §2.4):

- `actor` (§2.4.2): the learner; `object` (§2.4.4): the objective as an Activity whose
  `id` is the objective's IRI (for CASE, the CFItem `uri`), `definition.name` its title,
  `definition.description` its description, `definition.type` ADL's `objective`;
- `verb` (§2.4.3): ADL `passed` for met, ADL `failed` for not yet; `result` (§2.4.5):
  `success` true or false, the manager's comment in `response`;
- `context` (§2.4.6): `instructor` the manager (and in 2.0 also `contextAgents`, one entry
  with the manager and the relevant type `INSTRUCTOR_TYPE`); `statement` a StatementRef
  (§2.4.4.3) to the first piece of evidence: xAPI gives `context.statement` room for one,
  so every evidence statement id, the first included, is also listed in the context
  extension `EVIDENCE_EXTENSION`; `contextActivities` (§2.4.6.2) `parent` the framework and
  `category` `ASSESSMENT_CATEGORY`, which marks the LRS's assessments;
- `authority` (§2.4.9): the manager as they signed in, set by the LRS from the principal
  the statement is written as (never from what a client sends).

It goes through the one write path (`lrs.ingest.Ingest`) with `keep=True`: kept in full
whatever the retention chain would do, so the compliance report sees it (a `passed` with
`result.success` true completes an activity under the default completion rule).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from lrs.ingest import Ingest
from lrs.objectives import Framework, Objective, Outcome
from lrs.people import Person, principal_of
from statements.errors import InvalidRequest, Problem
from statements.indexing import agent_key
from statements.query import StatementQuery
from statements.store import StatementStore
from statements.versions import XapiVersion

PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
OBJECTIVE_TYPE = "http://adlnet.gov/expapi/activities/objective"
# The LRS's own IRIs: what marks an assessment, where all its evidence is listed, and the
# manager's part in it (xAPI 2.0 contextAgents relevantTypes are IRIs; none is standard).
ASSESSMENT_CATEGORY = "https://tally-lrs.org/xapi/activities/assessment"
EVIDENCE_EXTENSION = "https://tally-lrs.org/xapi/extensions/evidence"
INSTRUCTOR_TYPE = "https://tally-lrs.org/xapi/context-agent-types/instructor"
# Comments past this are refused (a statement's result.response is free text, but an
# assessment's comment is a few paragraphs, not a document).
MAX_COMMENT = 10_000
MAX_EVIDENCE = 100
# The credential name assessments are written under (lrs_statements_total's label, a
# forwarding rule's `credentials`): one for every manager, so no subject becomes a metric
# label; under the `person:` prefix, which no platform's credential may take.
CREDENTIAL_NAME = "person:assessments"
_PAGE = 200


def _language(framework: Framework) -> str:
    # A language map's keys are RFC 5646 tags (Data §4.2); "und": not known.
    return framework.language or "und"


def assessment_statement(*, learner: dict[str, Any], framework: Framework,
                         objective: Objective, outcome: Outcome, comment: str | None,
                         evidence: Sequence[str], manager: dict[str, Any],
                         version: XapiVersion, timestamp: datetime) -> dict[str, Any]:
    """The statement `record_assessment` sends (see the module docstring), without id,
    stored or authority (the ingest sets those). InvalidRequest names a bad argument by
    the JSON path of the assessment request (`$.comment`, `$.evidence[2]`)."""
    evidence = _evidence(evidence)
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidRequest("the comment is too long", (
            Problem("$.comment", f"at most {MAX_COMMENT} characters"),))
    language = _language(framework)
    definition: dict[str, Any] = {"name": {language: objective.title}, "type": OBJECTIVE_TYPE}
    if objective.description:
        definition["description"] = {language: objective.description}
    met = outcome is Outcome.MET
    result: dict[str, Any] = {"success": met}
    if comment:
        result["response"] = comment
    context: dict[str, Any] = {
        "instructor": manager,
        "contextActivities": {
            "parent": [{"objectType": "Activity", "id": framework.iri,
                        "definition": {"name": {language: framework.title}}}],
            "category": [{"objectType": "Activity", "id": ASSESSMENT_CATEGORY}]},
    }
    if version is XapiVersion.V2:
        context["contextAgents"] = [{"objectType": "contextAgent", "agent": manager,
                                     "relevantTypes": [INSTRUCTOR_TYPE]}]
    if evidence:
        context["statement"] = {"objectType": "StatementRef", "id": evidence[0]}
        context["extensions"] = {EVIDENCE_EXTENSION: list(evidence)}
    return {
        "actor": learner,
        "verb": {"id": PASSED if met else FAILED,
                 "display": {"en": "passed" if met else "failed"}},
        "object": {"objectType": "Activity", "id": objective.iri, "definition": definition},
        "result": result,
        "context": context,
        "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
    }


def _evidence(ids: Sequence[str]) -> list[str]:
    if len(ids) > MAX_EVIDENCE:
        raise InvalidRequest("too many evidence statements", (
            Problem("$.evidence", f"at most {MAX_EVIDENCE}"),))
    out: list[str] = []
    for position, raw in enumerate(ids):
        try:  # Data §2.4.4.3: a StatementRef's id is a UUID
            one = str(uuid.UUID(raw)) if isinstance(raw, str) else None
        except ValueError:
            one = None
        if one is None:
            raise InvalidRequest("an evidence id is not a statement id", (
                Problem(f"$.evidence[{position}]", "must be a UUID"),))
        if one not in out:
            out.append(one)
    return out


async def record_assessment(ingest: Ingest, *, learner: dict[str, Any],
                            framework: Framework, objective: Objective, outcome: Outcome,
                            comment: str | None, evidence: Sequence[str], manager: Person,
                            version: XapiVersion = XapiVersion.V1,
                            now: datetime | None = None) -> str:
    """Record `manager`'s assessment of `learner` (an xAPI Agent with an identifier)
    against `objective` of `framework` and return the id of the kept statement.

    `outcome` met or not yet; `comment` free text (None or "": none); `evidence` the ids
    of the statements the learner showed (their entries', their kept statements'), in
    order, the first being `context.statement`. The statement is validated as any other
    (a learner that is not a valid Agent is a 400 naming `$.actor`), written through
    `ingest` with `keep=True` and the manager's sign-in as its authority. Whether the
    manager may assess this learner (a grant) is the caller's to check (lrs.sharing).
    `version`: the statement's shape, 1.0.3 or 2.0 (2.0 adds contextAgents).
    """
    if objective not in framework.objectives:
        raise InvalidRequest("the objective is not in the framework", (
            Problem("$.objective", f"{objective.iri} is not in framework {framework.id}"),))
    moment = now or datetime.now(UTC)
    # Written as the manager (their sign-in is the authority), under one credential name
    # for every manager: what metrics labels and forwarding rules see (never a subject).
    principal = dataclasses.replace(principal_of(manager, created=moment),
                                    name=CREDENTIAL_NAME)
    statement = assessment_statement(
        learner=learner, framework=framework, objective=objective, outcome=outcome,
        comment=comment, evidence=evidence, manager=principal.authority, version=version,
        timestamp=moment)
    ids = await ingest(orjson.dumps(statement), content_type="application/json",
                       version=version, credential=principal, keep=True)
    return ids[0]


def assessment_of(statement: dict[str, Any]) -> dict[str, Any] | None:
    """What a learner is shown of a kept assessment statement (None: not one): the
    objective, the outcome, the comment, the evidence, who assessed and when."""
    context = statement.get("context") or {}
    categories = (context.get("contextActivities") or {}).get("category") or []
    if not any(c.get("id") == ASSESSMENT_CATEGORY for c in categories):
        return None
    verb = statement["verb"]["id"]
    outcome = Outcome.MET if verb == PASSED else Outcome.NOT_YET if verb == FAILED else None
    if outcome is None:
        return None
    obj = statement["object"]
    names = (obj.get("definition") or {}).get("name") or {}
    parents = (context.get("contextActivities") or {}).get("parent") or []
    evidence = (context.get("extensions") or {}).get(EVIDENCE_EXTENSION)
    if not isinstance(evidence, list):
        ref = context.get("statement")
        evidence = [ref["id"]] if isinstance(ref, dict) and "id" in ref else []
    assessor = statement.get("authority") or context.get("instructor") or {}
    return {"statement": statement["id"], "objective": obj.get("id"),
            "title": next(iter(names.values()), None),
            "framework": parents[0].get("id") if parents else None,
            "outcome": outcome.value, "comment": (statement.get("result") or {}).get("response"),
            "evidence": [e for e in evidence if isinstance(e, str)],
            "assessor": assessor.get("name") if isinstance(assessor.get("name"), str)
            else None,
            "timestamp": statement.get("timestamp"), "stored": statement.get("stored")}


async def assessments_of(store: StatementStore, learner: str, *, most: int = 1000
                         ) -> list[dict[str, Any]]:
    """The learner's (an agent key) kept, live assessments, newest first, at most `most`."""
    found: list[dict[str, Any]] = []
    query = StatementQuery(agent=learner, activity=ASSESSMENT_CATEGORY,
                           related_activities=True, limit=_PAGE)
    while len(found) < most:
        page = await store.query(query)
        for body in page.statements:
            statement = orjson.loads(body)
            # The actor is the learner (the agent filter also matches an Agent object).
            if agent_key(statement["actor"]) == learner and \
                    (summary := assessment_of(statement)) is not None:
                found.append(summary)
        if page.after is None:
            break
        query = dataclasses.replace(query, after=page.after)
    return found[:most]
