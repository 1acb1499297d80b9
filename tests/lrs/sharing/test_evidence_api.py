"""The learner's side over HTTP, on each engine's real stores: evidence linked to assigned
objectives and self-ratings kept in the space (with history, sealed spaces included), a grant
made from it, and the manager's assessment landing in the learner's record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lrs.credentials import Scope
from lrs.objectives import Format, Framework, Objective
from lrs.storage import Storage
from tests.conftest import add_credential
from tests.lrs.sharing.conftest import SignIn, problems

INCIDENTS = "https://case.example/items/incidents"
ON_CALL = "https://case.example/items/on-call"
REFLECTION = "I rerouted the pager rota at three in the morning"
NOTE = "confident on nights, less on weekends"
PASSPHRASE = "correct horse battery staple"


async def _framework(storage: Storage, *groups: str) -> None:
    framework = Framework(
        id="ops", iri="https://case.example/docs/ops", title="Operations", format=Format.JSON,
        objectives=(Objective(INCIDENTS, "Handles incidents"),
                    Objective(ON_CALL, "Runs an on-call week")),
        loaded=datetime.now(UTC))
    await storage.frameworks.put(framework)
    assert await storage.frameworks.assign("ops", groups)


async def _kept_statement(app: Starlette, storage: Storage, email: str) -> str:
    """A statement a platform sent about the learner, kept in full."""
    auth = await add_credential(storage, Scope.STATEMENTS_WRITE)
    statement_id = str(uuid.uuid4())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://lrs.test") as platform:
        sent = await platform.post("/xapi/statements", headers={
            **auth, "X-Experience-API-Version": "1.0.3"}, json={
            "id": statement_id, "actor": {"mbox": f"mailto:{email}"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                     "display": {"en": "completed"}},
            "object": {"id": "https://lms.example/courses/incident-drill",
                       "definition": {"name": {"en": "Incident drill"}}}})
        assert sent.status_code == 200, sent.text
    return statement_id


def _objective(evidence: list[dict[str, Any]], iri: str) -> dict[str, Any]:
    return next(o for o in evidence if o["objective"] == iri)


async def test_learner_links_rates_grants_and_the_assessment_reaches_their_record(
        app: Starlette, storage: Storage, sign_in: SignIn, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    await _framework(storage, "ops")
    statement_id = await _kept_statement(app, storage, "ada@example.com")
    other_statement = await _kept_statement(app, storage, "bob@example.com")
    ada = await sign_in("learner", name="Ada Lovelace", email="ada@example.com", groups="ops")
    entry = (await ada.post("/api/v1/space/entries", json={
        "kind": "experience", "title": "Night shift",
        "reflection": {"happened": REFLECTION, "learned": "keep calm"}})).json()
    with_file = await ada.post(f"/api/v1/space/entries/{entry['id']}/files",
                               params={"name": "rota.txt"}, content=b"the new rota",
                               headers={"Content-Type": "text/plain"})
    assert with_file.status_code == 201, with_file.text
    file_id = with_file.json()["files"][0]["id"]

    before = (await ada.get("/api/v1/evidence")).json()
    assert [(o["objective"], o["title"], o["links"]) for o in before] == [
        (INCIDENTS, "Handles incidents", []), (ON_CALL, "Runs an on-call week", [])]
    for kind, ref in (("entry", entry["id"]), ("statement", statement_id), ("file", file_id)):
        linked = await ada.post("/api/v1/evidence/links", json={
            "objective": INCIDENTS, "kind": kind, "ref": ref})
        assert linked.status_code == 201, linked.text
    for kind, ref in (("statement", other_statement), ("statement", "not-a-uuid"),
                      ("entry", "no-such-entry"), ("file", "no-such-file")):
        refused = await ada.post("/api/v1/evidence/links", json={
            "objective": INCIDENTS, "kind": kind, "ref": ref})
        assert refused.status_code == 400 and problems(refused) == ["$.ref"], refused.text
    for level, note in ((2, "not yet"), (3, NOTE)):
        rated = await ada.post("/api/v1/evidence/ratings", json={
            "objective": INCIDENTS, "level": level, "note": note})
        assert rated.status_code == 201, rated.text
    incidents = _objective((await ada.get("/api/v1/evidence")).json(), INCIDENTS)
    file_link = next(link for link in incidents["links"] if link["kind"] == "file")
    assert (await ada.delete(f"/api/v1/evidence/links/{file_link['id']}")).status_code == 204
    assert (await ada.delete(f"/api/v1/evidence/links/{file_link['id']}")).status_code == 404
    incidents = _objective((await ada.get("/api/v1/evidence")).json(), INCIDENTS)
    assert [link["kind"] for link in incidents["links"]] == ["entry", "statement"]
    assert incidents["rating"]["level"] == 3 and incidents["rating"]["note"] == NOTE
    assert [r["level"] for r in incidents["ratings"]] == [2, 3]
    assert [h["change"] for h in incidents["history"]] == [
        "linked", "linked", "linked", "rated", "rated", "unlinked"]

    granted = await ada.post("/api/v1/grants", json={
        "objective": INCIDENTS, "grantee": "mal@example.com",
        "expires": (datetime.now(UTC) + timedelta(days=7)).isoformat()})
    assert granted.status_code == 201, granted.text
    mal = await sign_in("manager", name="Mal Manager", email="mal@example.com")
    read = (await mal.get(f"/api/v1/shared/{granted.json()['id']}")).json()["evidence"]
    assert read["rating"]["note"] == NOTE
    texts = [part["value"] for item in read["evidence"] for part in item["text"]]
    assert REFLECTION in texts and "completed Incident drill" in texts
    assert "Files" in [part["label"] for item in read["evidence"] for part in item["text"]]

    assessed = await mal.post(f"/api/v1/shared/{granted.json()['id']}/assessment",
                              json={"outcome": "met", "comment": "Calm and thorough."})
    assert assessed.status_code == 201, assessed.text
    record = (await ada.get("/api/v1/portfolio", params={"format": "json"})).json()
    [assessment] = [s for s in record if s["id"] == assessed.json()["statement"]]
    assert assessment["object"]["id"] == INCIDENTS
    assert assessment["actor"]["mbox"] == "mailto:ada@example.com"
    assert assessment["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert assessment["context"]["statement"]["id"] == statement_id
    assert assessment["authority"]["mbox"] == "mailto:mal@example.com"
    assert assessment["result"]["response"] == "Calm and thorough."
    reads = (await ada.get("/api/v1/grants")).json()["reads"]
    assert [(r["reader"], r["what"]) for r in reads] == [
        ("Mal Manager (mal@example.com)", "evidence of 'Handles incidents' (2 items), to "
                                          "assess it"),
        ("Mal Manager (mal@example.com)", "evidence of 'Handles incidents' (2 items)")]

    # What the learner keeps privately never reaches a file in plain text.
    await storage.close()
    where = [tmp_path] if storage.engine == "sqlite" else \
        list(tmp_path_factory.getbasetemp().glob("secantus*"))
    written = b"".join(p.read_bytes() for d in where for p in d.rglob("*") if p.is_file())
    assert b"Incident drill" in written  # the kept statement is plain, and the scan sees it
    for private in (REFLECTION, NOTE, "keep calm", "the new rota"):
        assert private.encode() not in written, private


async def test_sealed_space_takes_changes_while_locked_and_shows_them_once_unlocked(
        storage: Storage, sign_in: SignIn) -> None:
    await _framework(storage, "ops")
    ada = await sign_in("learner", name="Ada Lovelace", email="ada@example.com", groups="ops")
    assert (await ada.post("/api/v1/space")).status_code == 201
    sealed = await ada.post("/api/v1/space/seal", json={"passphrase": PASSPHRASE})
    assert sealed.status_code == 200, sealed.text
    assert (await ada.post("/api/v1/space/lock")).status_code in (200, 204)
    locked = await ada.get("/api/v1/evidence")
    assert locked.status_code == 409 and "unlock" in locked.json()["error"]["message"]
    rated = await ada.post("/api/v1/evidence/ratings", json={
        "objective": ON_CALL, "level": 1, "note": "first week next month"})
    assert rated.status_code == 201  # appended to the public key, unread
    refused = await ada.post("/api/v1/grants", json={
        "objective": ON_CALL, "grantee": "mal@example.com",
        "expires": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert refused.status_code == 409  # a snapshot needs the space open
    assert (await ada.post("/api/v1/space/unlock",
                           json={"passphrase": PASSPHRASE})).status_code == 200
    on_call = _objective((await ada.get("/api/v1/evidence")).json(), ON_CALL)
    assert on_call["rating"]["note"] == "first week next month"
    # Granted while unlocked: the grant's snapshot is readable with the space locked again.
    granted = await ada.post("/api/v1/grants", json={
        "objective": ON_CALL, "grantee": "mal@example.com",
        "expires": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert granted.status_code == 201, granted.text
    assert (await ada.post("/api/v1/space/lock")).status_code in (200, 204)
    mal = await sign_in("manager", name="Mal Manager", email="mal@example.com")
    read = await mal.get(f"/api/v1/shared/{granted.json()['id']}")
    assert read.status_code == 200
    assert read.json()["evidence"]["rating"]["note"] == "first week next month"


async def test_objectives_not_assigned_to_the_learner_are_refused(
        storage: Storage, sign_in: SignIn) -> None:
    await _framework(storage, "ops")
    bob = await sign_in("learner", name="Bob", email="bob@example.com", groups="sales")
    assert (await bob.get("/api/v1/evidence")).json() == []
    for path, body in (("/api/v1/evidence/ratings", {"objective": INCIDENTS, "level": 2}),
                       ("/api/v1/grants", {"objective": INCIDENTS, "grantee": "m@example.com",
                                           "expires": "2099-01-01T00:00:00Z"})):
        refused = await bob.post(path, json=body)
        assert refused.status_code == 400 and problems(refused) == ["$.objective"]
