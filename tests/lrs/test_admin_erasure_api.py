"""The erasure admin API on every engine: scope, validation, forget, purge, audit log."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from lrs.config import Settings
from lrs.credentials import Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client, statements_of
from tests.factories import make_agent, make_statement

pytestmark = pytest.mark.usefixtures("engine")


async def test_forget_needs_the_admin_scope(client: Client, storage: Storage) -> None:
    writer = await add_credential(storage, Scope.STATEMENTS_WRITE, name="lms")
    response = await client.post("/api/v1/admin/forget", json={"agent": make_agent()},
                                 headers=writer)
    assert response.status_code == 403


@pytest.mark.parametrize(("body", "path"), [
    ({"agent": {"mbox": "alice@example.com"}}, "$.agent.mbox"),
    ({"person": {}}, "$"),
    ([1], "$"),
])
async def test_forget_rejects_a_bad_agent_naming_where(client: Client, body: object,
                                                       path: str) -> None:
    response = await client.post("/api/v1/admin/forget", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["problems"][0]["path"] == path


async def test_forget_over_http_and_the_audit_log_names_nobody(client: Client) -> None:
    alice = make_agent("alice")
    mine, theirs = make_statement(actor=alice), make_statement(actor=make_agent("bob"))
    assert (await client.post("/xapi/statements", json=[mine, theirs])).status_code == 200

    first = await client.post("/api/v1/admin/forget", json={"agent": alice})
    second = await client.post("/api/v1/admin/forget", json={"agent": alice})

    assert first.status_code == 200 and first.json()["statements_deleted"] == 1
    assert first.json()["already_erased"] == []
    assert len(second.json()["already_erased"]) == 1
    left = statements_of(await client.get("/xapi/statements"))
    assert [s["id"] for s in left] == [theirs["id"]]
    audit = await client.get("/api/v1/admin/audit")
    assert [r["action"] for r in audit.json()] == ["forget", "forget"]
    assert "alice" not in audit.text.lower()
    assert audit.json()[0]["subject"] == audit.json()[1]["subject"]


async def test_purge_over_http_counts_and_validates(client: Client) -> None:
    assert (await client.post("/xapi/statements", json=make_statement())).status_code == 200
    dry = await client.post("/api/v1/admin/purge", params={"dry_run": "true"})
    assert dry.status_code == 200 and dry.json() == {
        "dry_run": True, "statements": 0, "by_class": {}, "quarantine": 0, "done": {}}
    bad = await client.post("/api/v1/admin/purge", params={"dry_run": "yes"})
    assert bad.status_code == 400 and "?dry_run" in json.dumps(bad.json())


async def test_scheduled_purge_runs_while_the_app_runs(
        settings: Settings, storage: Storage, caplog: pytest.LogCaptureFixture) -> None:
    scheduled = settings.model_copy(update={"purge_interval_minutes": 0.001,
                                            "retention_default_days": 1})
    caplog.set_level(logging.INFO, logger="lrs.erasure")
    async with app_client(scheduled, storage):
        for _ in range(500):
            if any("scheduled purge removed" in r.message for r in caplog.records):
                break
            await asyncio.sleep(0.01)
    assert any("scheduled purge removed 0 statements" in r.message for r in caplog.records)


async def test_forget_over_http_takes_several_agents_and_a_dry_run(client: Client,
                                                                   storage: Storage) -> None:
    bob_mail, bob_account = make_agent("bob"), {
        "objectType": "Agent", "account": {"homePage": "https://sso.example", "name": "b0b"}}
    for actor in (bob_mail, bob_account, make_agent("carol")):
        assert (await client.post("/xapi/statements",
                                  json=make_statement(actor=actor))).status_code == 200
    body = {"agents": [bob_mail, bob_account]}

    dry = await client.post("/api/v1/admin/forget", json={**body, "dry_run": True})
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert dry.json()["statements_deleted"] == 2
    assert len(statements_of(await client.get("/xapi/statements"))) == 3
    assert [r for r in await storage.erasure.audit_log() if r.action == "forget"] == []

    done = await client.post("/api/v1/admin/forget", json=body)
    assert done.status_code == 200 and done.json()["statements_deleted"] == 2
    assert len(statements_of(await client.get("/xapi/statements"))) == 1
    assert len([r for r in await storage.erasure.audit_log() if r.action == "forget"]) == 2
    bad = await client.post("/api/v1/admin/forget",
                            json={"agents": [bob_mail, {"mbox": "b0b@example.com"}]})
    assert bad.status_code == 400 and "$.agents[1].mbox" in bad.text
    assert (await client.post("/api/v1/admin/forget",
                              json={**body, "dry_run": "yes"})).status_code == 400
