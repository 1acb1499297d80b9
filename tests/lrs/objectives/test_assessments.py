"""A manager's assessment: a kept xAPI statement written through the one ingest, whatever
the retention chain says, on every engine (xAPI 1.0.3 and 2.0 shapes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from lrs.config import Settings
from lrs.erasure import forget
from lrs.ingest import Ingest, build_ingest
from lrs.objectives import Framework, Outcome
from lrs.objectives.assessments import (
    ASSESSMENT_CATEGORY,
    CREDENTIAL_NAME,
    EVIDENCE_EXTENSION,
    FAILED,
    INSTRUCTOR_TYPE,
    PASSED,
    assessment_statement,
    record_assessment,
)
from lrs.objectives.case import load_case
from lrs.objectives.loading import load_csv
from lrs.people import Person, Role, principal_of
from lrs.storage import Storage
from plugins.hookspecs import Decision, hookimpl
from plugins.manager import make_plugin_manager
from statements.errors import InvalidRequest
from statements.versions import XapiVersion

DATA = Path(__file__).parents[2] / "data" / "case"
NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
LEARNER = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
MANAGER = Person(issuer="https://idp.example.com", subject="grace-1", name="Grace",
                 roles=frozenset({Role.MANAGER}),
                 agent={"objectType": "Agent", "name": "Grace",
                        "mbox": "mailto:grace@example.com"})
EVIDENCE = [str(uuid.uuid4()), str(uuid.uuid4())]


class DropEverything:
    """A third-party retention rule that would keep nothing (it runs before the credential
    default, so only `keep=True` can keep an assessment)."""

    @hookimpl
    def lrs_retention_decide(self, statement: dict[str, Any], context: Any) -> Decision:
        return Decision.DROP


def framework() -> Framework:
    return load_case((DATA / "opensalt-what-standards-could-be.json").read_bytes(), now=NOW)


@pytest.fixture
async def ingest(storage: Storage, settings: Settings) -> Ingest:
    # The server default is `tally`, and a manager's principal sends `tally`: without
    # keep=True nothing of this would be kept.
    assert settings.default_retention == "tally"
    return await build_ingest(storage, settings, plugins=make_plugin_manager(
        load_entry_points=False, extra=(DropEverything(),)))


async def stored(storage: Storage, statement_id: str) -> dict[str, Any]:
    body = await storage.statements.get(statement_id, voided=False)
    assert body is not None, "the assessment was not kept"
    found: dict[str, Any] = orjson.loads(body)
    return found


@pytest.mark.parametrize("version", [XapiVersion.V1, XapiVersion.V2])
async def test_assessment_met_is_a_kept_passed_statement(storage: Storage, ingest: Ingest,
                                                         version: XapiVersion) -> None:
    fw = framework()
    objective = fw.objectives[2]
    statement_id = await record_assessment(
        ingest, learner=LEARNER, framework=fw, objective=objective, outcome=Outcome.MET,
        comment="Explained unit rates to the team, clearly.", evidence=EVIDENCE,
        manager=MANAGER, version=version, now=NOW)
    statement = await stored(storage, statement_id)
    assert statement["actor"] == LEARNER
    assert statement["verb"]["id"] == PASSED
    assert statement["object"]["id"] == objective.iri  # the CASE CFItem uri
    definition = statement["object"]["definition"]
    assert definition["name"] == {"und": objective.title}
    assert definition["type"] == "http://adlnet.gov/expapi/activities/objective"
    assert statement["result"] == {"success": True,
                                   "response": "Explained unit rates to the team, clearly."}
    context = statement["context"]
    assert context["instructor"] == MANAGER.agent
    assert context["statement"] == {"objectType": "StatementRef", "id": EVIDENCE[0]}
    assert context["extensions"] == {EVIDENCE_EXTENSION: EVIDENCE}
    assert context["contextActivities"]["parent"][0]["id"] == fw.iri
    assert context["contextActivities"]["category"][0]["id"] == ASSESSMENT_CATEGORY
    if version is XapiVersion.V2:
        assert context["contextAgents"] == [{"objectType": "contextAgent",
                                             "agent": MANAGER.agent,
                                             "relevantTypes": [INSTRUCTOR_TYPE]}]
    else:
        assert "contextAgents" not in context
    # Data §2.4.9: the authority is the manager as they signed in, set by the LRS.
    assert statement["authority"] == MANAGER.agent
    assert statement["timestamp"].startswith("2026-12-04T15:00:00")
    # Kept in full, not tallied (nor dropped, as the chain's first rule says).
    assert await storage.tally.where([statement_id]) == {statement_id: "full"}


async def test_assessment_not_yet_is_failed_without_evidence_or_comment(
        storage: Storage, ingest: Ingest) -> None:
    fw = framework()
    statement_id = await record_assessment(
        ingest, learner=LEARNER, framework=fw, objective=fw.objectives[0],
        outcome=Outcome.NOT_YET, comment="", evidence=[], manager=MANAGER, now=NOW)
    statement = await stored(storage, statement_id)
    assert statement["verb"]["id"] == FAILED and statement["result"] == {"success": False}
    assert "statement" not in statement["context"]
    assert "extensions" not in statement["context"]


async def test_assessment_by_a_manager_without_an_agent_names_their_sign_in(
        storage: Storage, ingest: Ingest) -> None:
    fw = framework()
    manager = Person(issuer="https://idp.example.com", subject="m-7", name="Mo",
                     roles=frozenset({Role.MANAGER}))
    statement = await stored(storage, await record_assessment(
        ingest, learner=LEARNER, framework=fw, objective=fw.objectives[0],
        outcome=Outcome.MET, comment=None, evidence=[], manager=manager, now=NOW))
    account = {"homePage": "https://idp.example.com", "name": "m-7"}
    assert statement["authority"]["account"] == account
    assert statement["context"]["instructor"]["account"] == account


@pytest.mark.parametrize(("change", "where"), [
    ({"evidence": [str(uuid.uuid4()), "not-a-uuid"]}, "$.evidence[1]"),
    ({"evidence": [7]}, "$.evidence[0]"),
    ({"evidence": [str(uuid.uuid4())] * 101}, "$.evidence"),
    ({"comment": "x" * 10_001}, "$.comment"),
])
async def test_assessment_bad_arguments_name_their_path(storage: Storage, ingest: Ingest,
                                                        change: dict[str, Any],
                                                        where: str) -> None:
    fw = framework()
    arguments: dict[str, Any] = {"comment": None, "evidence": [], **change}
    with pytest.raises(InvalidRequest) as excinfo:
        await record_assessment(ingest, learner=LEARNER, framework=fw,
                                objective=fw.objectives[0], outcome=Outcome.MET,
                                manager=MANAGER, now=NOW, **arguments)
    assert excinfo.value.problems[0].path == where


async def test_assessment_refuses_a_learner_without_an_identifier_and_a_stray_objective(
        storage: Storage, ingest: Ingest) -> None:
    fw = framework()
    with pytest.raises(InvalidRequest) as excinfo:
        await record_assessment(ingest, learner={"name": "nobody"}, framework=fw,
                                objective=fw.objectives[0], outcome=Outcome.MET,
                                comment=None, evidence=[], manager=MANAGER, now=NOW)
    assert excinfo.value.problems[0].path.startswith("$.actor")
    other = load_case((DATA / "opensalt-sequence-number.json").read_bytes(), now=NOW)
    with pytest.raises(InvalidRequest) as excinfo:
        await record_assessment(ingest, learner=LEARNER, framework=fw,
                                objective=other.objectives[0], outcome=Outcome.MET,
                                comment=None, evidence=[], manager=MANAGER, now=NOW)
    assert excinfo.value.problems[0].path == "$.objective"


async def test_without_keep_the_same_statement_would_be_dropped(storage: Storage,
                                                               ingest: Ingest) -> None:
    """The control: the chain of this test's ingest keeps nothing; only keep=True does."""
    fw = framework()
    statement = assessment_statement(
        learner=LEARNER, framework=fw, objective=fw.objectives[0], outcome=Outcome.MET,
        comment=None, evidence=[], manager=MANAGER.agent or {}, version=XapiVersion.V1,
        timestamp=NOW)
    principal = principal_of(MANAGER, created=NOW)
    (dropped,) = await ingest(orjson.dumps(statement), content_type="application/json",
                              version=XapiVersion.V1, credential=principal)
    assert await storage.statements.get(dropped, voided=False) is None
    (kept,) = await ingest(orjson.dumps(statement), content_type="application/json",
                           version=XapiVersion.V1, credential=principal, keep=True)
    assert await storage.statements.get(kept, voided=False) is not None


async def test_erasing_the_manager_leaves_the_assessment_without_them(
        storage: Storage, ingest: Ingest) -> None:
    """The learner's record keeps the assessment; the erased manager is gone from its
    instructor, contextAgents and authority. Erasing the learner deletes it."""
    fw = framework()
    statement_id = await record_assessment(
        ingest, learner=LEARNER, framework=fw, objective=fw.objectives[0],
        outcome=Outcome.MET, comment="Good.", evidence=EVIDENCE, manager=MANAGER,
        version=XapiVersion.V2, now=NOW)
    await forget(storage, "mbox:mailto:grace@example.com", now_ms=1, operator="dpo")
    body = await storage.statements.get(statement_id, voided=False)
    assert body is not None and b"grace@example.com" not in body
    statement = orjson.loads(body)
    assert "instructor" not in statement["context"]
    assert "contextAgents" not in statement["context"]
    assert statement["verb"]["id"] == PASSED and statement["actor"] == LEARNER
    await forget(storage, "mbox:mailto:ada@example.com", now_ms=2, operator="dpo")
    assert await storage.statements.get(statement_id, voided=False) is None


async def test_assessments_count_under_one_name_never_a_managers_subject(
        storage: Storage, settings: Settings) -> None:
    counted: list[str] = []
    ingest = await build_ingest(storage, settings, count_decisions=lambda name, _: counted.append(
        name))
    fw = framework()
    await record_assessment(ingest, learner=LEARNER, framework=fw, objective=fw.objectives[0],
                            outcome=Outcome.MET, comment=None, evidence=[], manager=MANAGER,
                            now=NOW)
    assert counted == [CREDENTIAL_NAME] and MANAGER.subject not in CREDENTIAL_NAME


async def test_assessment_against_a_csv_framework_with_its_default_iri(
        storage: Storage, ingest: Ingest) -> None:
    fw = load_csv(b"id,title\nhttps://example.com/skills/listen,Listens\n", title="Sales",
                  now=NOW, given_id="sales")
    statement = await stored(storage, await record_assessment(
        ingest, learner=LEARNER, framework=fw, objective=fw.objectives[0],
        outcome=Outcome.MET, comment=None, evidence=[], manager=MANAGER, now=NOW))
    assert statement["context"]["contextActivities"]["parent"][0]["id"] == \
        "urn:tally-lrs:framework:sales"
    assert "description" not in statement["object"]["definition"]
