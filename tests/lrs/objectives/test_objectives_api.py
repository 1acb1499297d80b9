"""The objectives API: an admin loads, lists, reads, assigns and deletes frameworks; a
signed-in learner sees the frameworks of their groups and their assessments; a met
assessment completes a mandatory objective in the compliance report. Real stores, the app
in the test's event loop."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lrs.app import create_app
from lrs.config import Settings
from lrs.credentials import Scope
from lrs.objectives import Outcome
from lrs.objectives.assessments import record_assessment
from lrs.people import Person, Role
from lrs.storage import Storage
from plugins.catalogue import CatalogueEntry
from tests.conftest import add_credential

DATA = Path(__file__).parents[2] / "data" / "case"
CASE = (DATA / "opensalt-what-standards-could-be.json").read_bytes()
CASE_ID = "20c5134f-423d-4097-a971-3dd5152bf507"
BASE = "/api/v1/objectives/frameworks"
ITEM = "http://opensalt-staging.opened.com/uri/b6f61076-aa12-450b-8f9d-b86bc071f85e"
ADA = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
GRACE = Person(issuer="https://idp.example.com", subject="grace", name="Grace",
               roles=frozenset({Role.MANAGER}),
               agent={"objectType": "Agent", "name": "Grace",
                      "mbox": "mailto:grace@example.com"})


@asynccontextmanager
async def running(settings: Settings, storage: Storage
                  ) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(settings.model_copy(update={"dev_sign_in": True}), storage=storage)
    async with (app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                  base_url="http://lrs.test") as client):
        yield app, client


async def sign_in(client: httpx.AsyncClient, *, roles: list[str], groups: str = "",
                  email: str = "ada@example.com") -> str:
    """Dev sign-in; the CSRF token for the session's state-changing requests."""
    form = await client.get("/sign-in")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
    assert token is not None
    signed = await client.post("/sign-in/dev", data={
        "csrftoken": token.group(1), "name": "Ada", "email": email, "role": roles,
        "groups": groups})
    assert signed.status_code == 303, signed.text
    csrf: str = (await client.get("/api/v1/me")).json()["csrf_token"]
    return csrf


def problem(response: httpx.Response) -> str:
    path: str = response.json()["error"]["problems"][0]["path"]
    return path


async def test_admin_loads_lists_reads_assigns_and_deletes(settings: Settings,
                                                           storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN, name="ops")
    async with running(settings, storage) as (_, client):
        loaded = await client.post(BASE, content=CASE, headers={
            **admin, "Content-Type": "application/json"}, params={"source": "wscb.json"})
        assert loaded.status_code == 201, loaded.text
        assert loaded.json()["id"] == CASE_ID and loaded.json()["format"] == "case"
        assert loaded.json()["objective_count"] == 16 and loaded.json()["groups"] == []
        again = await client.post(BASE, content=CASE, headers=admin)
        assert again.status_code == 409 and "replace=true" in again.text
        assigned = await client.put(f"{BASE}/{CASE_ID}/groups", headers=admin,
                                    json={"groups": ["maths-dept", " year-7 ", "maths-dept"]})
        assert assigned.json() == {"framework": CASE_ID, "groups": ["maths-dept", "year-7"]}
        replaced = await client.post(BASE, content=CASE, headers=admin,
                                     params={"replace": "true"})
        assert replaced.status_code == 200 and replaced.json()["groups"] == [
            "maths-dept", "year-7"]
        csv = b"id,title,parent\nhttps://example.com/s,Selling,\n" \
              b"https://example.com/s/1,Listening,https://example.com/s\n"
        made = await client.post(BASE, content=csv, headers={**admin,
                                                             "Content-Type": "text/csv"},
                                 params={"title": "Sales", "id": "sales"})
        assert made.status_code == 201, made.text
        listed = (await client.get(BASE, headers=admin)).json()
        assert [(f["id"], f["title"], f["objective_count"]) for f in listed] == [
            ("sales", "Sales", 2), (CASE_ID, "What Standards Could Be", 16)]
        whole = (await client.get(f"{BASE}/{CASE_ID}", headers=admin)).json()
        assert whole["source"] is None and len(whole["objectives"]) == 16
        assert whole["objectives"][2]["parent"] == whole["objectives"][0]["iri"]
        assert (await client.delete(f"{BASE}/sales", headers=admin)).status_code == 204
        assert (await client.delete(f"{BASE}/sales", headers=admin)).status_code == 404
        assert (await client.get(f"{BASE}/sales", headers=admin)).status_code == 404
        assert (await client.put(f"{BASE}/sales/groups", headers=admin,
                                 json={"groups": []})).status_code == 404
    audit = [r.action for r in await storage.erasure.audit_log()]
    assert audit.count("framework_load") == 3 and "framework_assign" in audit
    assert "framework_delete" in audit


@pytest.mark.parametrize(("params", "body", "content_type", "status", "where"), [
    ({}, CASE.replace(b'"uri": "http:\\/\\/opensalt-staging.opened.com\\/uri\\/b6f61076',
                      b'"uri": "nope\\/b6f61076', 1),
     "application/json", 400, "$.CFItems[2].uri"),
    ({}, b"{not json", "application/json", 400, "$"),
    ({"format": "xml"}, CASE, "application/json", 400, "?format"),
    ({"title": "T"}, CASE, "application/json", 400, "?title"),
    ({"replace": "yes"}, CASE, "application/json", 400, "?replace"),
    ({"colour": "red"}, CASE, "application/json", 400, "?colour"),
    ({"title": "T"}, b"id,title\nhttps://example.com/a,A\nbad iri,B\n", "text/csv", 400,
     "line 3, column id"),
    ({"format": "csv"}, b"id,title\nhttps://example.com/a,A\n", "text/plain", 400, "?title"),
])
async def test_upload_mistakes_are_4xx_naming_where(settings: Settings, storage: Storage,
                                                    params: dict[str, str], body: bytes,
                                                    content_type: str, status: int,
                                                    where: str) -> None:
    admin = await add_credential(storage, Scope.ADMIN)
    async with running(settings, storage) as (_, client):
        answer = await client.post(BASE, content=body, params=params,
                                   headers={**admin, "Content-Type": content_type})
        assert answer.status_code == status, answer.text
        assert problem(answer) == where
        assert (await client.get(BASE, headers=admin)).json() == []  # nothing written


async def test_groups_body_mistakes_and_scopes(settings: Settings, storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN)
    other = await add_credential(storage, Scope.ALL_READ, Scope.STATEMENTS_WRITE, name="lms")
    async with running(settings, storage) as (_, client):
        await client.post(BASE, content=CASE, headers=admin)
        for body, where in (({"groups": "x"}, "$.groups"), ({"groups": ["a", ""]},
                                                           "$.groups[1]"),
                            ({"groups": [7]}, "$.groups[0]"), ({"x": []}, "$.groups")):
            answer = await client.put(f"{BASE}/{CASE_ID}/groups", headers=admin, json=body)
            assert answer.status_code == 400 and problem(answer) == where
        for method, path in (("GET", BASE), ("POST", BASE), ("GET", f"{BASE}/{CASE_ID}"),
                             ("DELETE", f"{BASE}/{CASE_ID}"),
                             ("PUT", f"{BASE}/{CASE_ID}/groups")):
            refused = await client.request(method, path, headers=other, content=b"{}")
            assert refused.status_code == 403, (method, path)
        assert (await client.get(BASE)).status_code == 401


async def test_learner_sees_the_frameworks_of_their_groups(settings: Settings,
                                                           storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN)
    learner = await add_credential(storage, Scope.STATEMENTS_READ_MINE, name="ada-app")
    async with running(settings, storage) as (_, client):
        await client.post(BASE, content=CASE, headers=admin)
        await client.post(BASE, content=b"id,title\nhttps://example.com/s,Selling\n",
                          headers={**admin, "Content-Type": "text/csv"},
                          params={"title": "Sales", "id": "sales"})
        await client.put(f"{BASE}/{CASE_ID}/groups", headers=admin,
                         json={"groups": ["year-7", "maths-dept"]})
        # A Basic credential carries no groups: only a sign-in does.
        assert (await client.get("/api/v1/objectives/mine",
                                 headers=learner)).status_code == 403
        await sign_in(client, roles=["learner"], groups="year-7, choir")
        mine = (await client.get("/api/v1/objectives/mine")).json()
        assert mine["groups"] == ["choir", "learner", "year-7"]
        assert [f["id"] for f in mine["frameworks"]] == [CASE_ID]
        # Only the person's own groups of the assignment are shown to them.
        assert mine["frameworks"][0]["groups"] == ["year-7"]
        assert len(mine["frameworks"][0]["objectives"]) == 16
        # An admin's list is not for a learner.
        assert (await client.get(BASE)).status_code == 403
    async with running(settings, storage) as (_, client):
        await sign_in(client, roles=["learner"], groups="choir")
        assert (await client.get("/api/v1/objectives/mine")).json()["frameworks"] == []
    async with running(settings, storage) as (_, client):
        await sign_in(client, roles=["manager"], groups="year-7")
        assert (await client.get("/api/v1/objectives/mine")).status_code == 403


async def test_met_assessment_shows_to_the_learner_and_completes_a_mandatory_objective(
        settings: Settings, storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN)
    officer = await add_credential(storage, Scope.COMPLIANCE_READ, name="officer")
    await storage.catalogue.add([CatalogueEntry("activity", ITEM, "Ratio language")])
    other = "http://opensalt-staging.opened.com/uri/eceec0fb-e4de-4ef3-a48f-0987b366c9ae"
    await storage.catalogue.add([CatalogueEntry("activity", other, "Unit rates")])
    async with running(settings, storage) as (app, client):
        await client.post(BASE, content=CASE, headers=admin)
        framework = await storage.frameworks.get(CASE_ID)
        assert framework is not None
        evidence = "8f0c0e8e-1d2b-4c55-9a43-0b8a1a6b2d11"
        when = datetime(2026, 12, 4, 9, tzinfo=UTC)
        met = await record_assessment(
            app.state.ingest, learner=ADA, framework=framework,
            objective=framework.objective(ITEM) or framework.objectives[0],
            outcome=Outcome.MET, comment="Solid.", evidence=[evidence], manager=GRACE,
            now=when)
        await record_assessment(
            app.state.ingest, learner=ADA, framework=framework,
            objective=framework.objective(other) or framework.objectives[0],
            outcome=Outcome.NOT_YET, comment="Not yet: show a worked example.", evidence=[],
            manager=GRACE, now=when)
        report = (await client.get("/api/v1/compliance/report", headers=officer,
                                   params={"activity": ITEM})).json()
        (row,) = report["rows"]
        assert (row["agent"], row["status"], row["completed_statement"]) == (
            "mbox:mailto:ada@example.com", "completed", met)
        report = (await client.get("/api/v1/compliance/report", headers=officer,
                                   params={"activity": other})).json()
        assert [r["status"] for r in report["rows"]] == ["not completed"]
        await sign_in(client, roles=["learner"])
        mine = (await client.get("/api/v1/assessments/mine")).json()["assessments"]
        outcomes: dict[str, Any] = {a["objective"]: a for a in mine}
        assert outcomes[ITEM]["outcome"] == "met" and outcomes[ITEM]["evidence"] == [evidence]
        assert outcomes[ITEM]["assessor"] == "Grace" and outcomes[ITEM]["statement"] == met
        assert outcomes[ITEM]["framework"] == framework.iri
        assert outcomes[other]["outcome"] == "not_yet"
        assert outcomes[other]["comment"] == "Not yet: show a worked example."
    async with running(settings, storage) as (_, client):
        await sign_in(client, roles=["learner"], email="bob@example.com")
        assert (await client.get("/api/v1/assessments/mine")).json() == {"assessments": []}
