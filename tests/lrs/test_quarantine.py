"""Quarantine of rejected statements, on every engine: what real emitters send wrong (Open
edX's event routing backends) kept with its error and JSON path, replayed once corrected,
erased with its person and purged when its days are up."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from lrs.admin import credentials as admin
from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.erasure import forget, purge, retention_policy
from lrs.storage import Storage
from plugins.catalogue import Catalogue
from plugins.retention import DAY_MS
from statements.indexing import agent_key
from statements.quarantine import WITH_BATCH
from statements.query import StatementQuery
from tests.conftest import Client, app_client
from tests.factories import make_agent, make_statement

V = {"X-Experience-API-Version": "1.0.3"}
# (name, what to change, the kind it lands under, the problem's message)
OPEN_EDX = [
    ("score min == max == 0", {"result": {"score": {"min": 0, "max": 0, "raw": 0}}},
     "$.result.score", "score.min must be less than score.max"),
    ("bare UUID as activity id",
     {"object": {"objectType": "Activity", "id": "0f6c1e8a-3d4b-4c2a-9a59-2a4f5f9e2b11"}},
     "$.object.id", "must be an absolute IRI"),
    ("objectType GroupActivity",
     {"object": {"objectType": "GroupActivity", "id": "http://edx.example/block/1"}},
     "$.object", "objectType must be Activity"),
]


def _basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            **V}


async def _credential(storage: Storage, name: str, days: int) -> dict[str, str]:
    made, secret = await admin.create(
        storage, name=name, scopes=[Scope.STATEMENTS_WRITE, Scope.STATEMENTS_READ],
        retention=Retention.FULL, agent=None, public_url="http://lrs.test", operator="test",
        now=datetime.now(UTC), quarantine_days=days)
    return _basic(made.key, secret)


@pytest.fixture
async def lrs(settings: Any, storage: Storage) -> AsyncIterator[dict[str, Any]]:
    async with app_client(settings, storage) as client:
        yield {"client": client, "storage": storage,
               "edx": await _credential(storage, "openedx", 7),
               "plain": await _credential(storage, "plain", 0),
               "admin": await _credential_admin(storage)}


async def _credential_admin(storage: Storage) -> dict[str, str]:
    made, secret = await admin.create(
        storage, name="dpo", scopes=[Scope.ADMIN, Scope.STATEMENTS_READ],
        retention=Retention.FULL, agent=None, public_url="http://lrs.test", operator="test",
        now=datetime.now(UTC))
    return _basic(made.key, secret)


def _wrong(change: dict[str, Any], **more: Any) -> dict[str, Any]:
    statement = make_statement(**more)
    statement.update(change)
    return statement


async def _listed(client: Client, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/api/v1/admin/quarantine", params=params, headers=headers)
    assert response.status_code == 200, response.text
    listed: dict[str, Any] = response.json()
    return listed


@pytest.mark.parametrize(("name", "change", "kind", "message"), OPEN_EDX,
                         ids=[c[0] for c in OPEN_EDX])
async def test_quarantine_keeps_each_invalid_kind_with_its_error_and_path(
        lrs: dict[str, Any], name: str, change: dict[str, Any], kind: str,
        message: str) -> None:
    client: Client = lrs["client"]
    statement = _wrong(change)
    kept = await client.post("/xapi/statements", json=statement, headers=lrs["edx"])
    plain = await client.post("/xapi/statements", json=statement, headers=lrs["plain"])

    # The platform's answer does not change with the quarantine.
    assert kept.status_code == plain.status_code == 400
    assert kept.json() == plain.json()
    listed = await _listed(client, lrs["admin"])
    assert listed["kinds"] == {kind: 1}  # the plain credential's was not kept
    [entry] = listed["entries"]
    assert entry["kind"] == kind and entry["statement"] == statement
    assert entry["problems"][0]["path"] == kind
    assert message in entry["problems"][0]["message"]
    assert (await _listed(client, lrs["admin"], kind="$.other"))["entries"] == []


async def test_quarantine_splits_a_batch_and_keeps_its_valid_statements_too(
        lrs: dict[str, Any]) -> None:
    client: Client = lrs["client"]
    good, bad = make_statement(), _wrong(OPEN_EDX[1][1])
    response = await client.post("/xapi/statements", json=[good, bad], headers=lrs["edx"])
    assert response.status_code == 400
    listed = await _listed(client, lrs["admin"])
    assert listed["kinds"] == {"$.object.id": 1, WITH_BATCH: 1}
    by_kind = {e["kind"]: e for e in listed["entries"]}
    assert by_kind["$.object.id"]["problems"][0]["path"] == "$.object.id"  # not $[1]...
    assert by_kind[WITH_BATCH]["statement"] == good
    download = await client.get("/api/v1/admin/quarantine/download",
                                params={"kind": "$.object.id"}, headers=lrs["admin"])
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in download.content.splitlines()]
    assert [line["statement"] for line in lines] == [bad]


async def test_quarantine_replay_of_a_corrected_statement_stores_it_once(
        lrs: dict[str, Any]) -> None:
    client, storage = lrs["client"], lrs["storage"]
    bad = _wrong(OPEN_EDX[0][1])
    del bad["id"]  # Open edX sends ids, but a replay must not store twice without one
    assert (await client.post("/xapi/statements", json=bad, headers=lrs["edx"])).status_code == 400
    [entry] = (await _listed(client, lrs["admin"]))["entries"]
    replay = f"/api/v1/admin/quarantine/{entry['id']}/replay"

    again = await client.post(replay, headers=lrs["admin"])  # as it was: rejected again
    assert again.status_code == 400 and "$.result.score" in again.text
    assert len((await _listed(client, lrs["admin"]))["entries"]) == 1
    corrected = {**bad, "result": {"score": {"min": 0, "max": 1, "raw": 0}}}
    done = await client.post(replay, content=orjson.dumps(corrected), headers=lrs["admin"])
    assert done.status_code == 200, done.text
    statement_id = done.json()["statement"]
    assert statement_id == entry["id"]
    assert (await _listed(client, lrs["admin"]))["entries"] == []
    assert (await client.post(replay, content=orjson.dumps(corrected),
                              headers=lrs["admin"])).status_code == 404
    # The platform (or an admin) sending the correction again stores nothing new.
    resend = await client.post("/xapi/statements", json={**corrected, "id": statement_id},
                               headers=lrs["edx"])
    assert resend.status_code == 200
    page = await storage.statements.query(StatementQuery(limit=100))
    ids = [orjson.loads(s)["id"] for s in page.statements]
    assert ids == [statement_id]
    stored = orjson.loads(page.statements[0])
    assert stored["authority"]["name"] == "openedx"  # as the credential that sent it
    actions = [r.action for r in await storage.erasure.audit_log()]
    assert "quarantine_replay" in actions


async def test_quarantine_erasure_removes_the_persons_entries_only(
        lrs: dict[str, Any]) -> None:
    client, storage = lrs["client"], lrs["storage"]
    bob, carol = make_agent("bob"), make_agent("carol")
    for actor in (bob, carol):
        response = await client.post("/xapi/statements", json=_wrong(OPEN_EDX[2][1], actor=actor),
                                     headers=lrs["edx"])
        assert response.status_code == 400
    # Not JSON at all, but it names Bob: found by his identifier in the text.
    broken = b'{"actor": {"mbox": "mailto:bob@example.com"}, '
    assert (await client.post("/xapi/statements", content=broken,
                              headers={**lrs["edx"], "Content-Type": "application/json"})
            ).status_code == 400
    assert len(await storage.quarantine.list()) == 3

    report = await forget(storage, agent_key(bob) or "", now_ms=0, operator="dpo")

    assert report.done["quarantine_deleted"] == 2
    [left] = await storage.quarantine.list()
    assert orjson.loads(left.body)["actor"] == carol


async def test_quarantine_retention_purges_entries_on_time(lrs: dict[str, Any]) -> None:
    client, storage = lrs["client"], lrs["storage"]
    assert (await client.post("/xapi/statements", json=_wrong(OPEN_EDX[1][1]),
                              headers=lrs["edx"])).status_code == 400
    [entry] = await storage.quarantine.list()
    assert entry.expires_ms == entry.at_ms + 7 * DAY_MS
    policy = retention_policy(Settings(), Catalogue([]))

    early = await purge(storage, policy, now_ms=entry.expires_ms - 1, operator="t")
    dry = await purge(storage, policy, now_ms=entry.expires_ms, operator="t", dry_run=True)
    assert early.quarantine == 0 and dry.quarantine == 1
    assert len(await storage.quarantine.list()) == 1
    due = await purge(storage, policy, now_ms=entry.expires_ms, operator="t")
    assert due.quarantine == 1 and await storage.quarantine.list() == []


async def test_quarantine_days_of_credentials_written_before_read_as_off(
        storage: Storage) -> None:
    made, _ = await admin.create(storage, name="old", scopes=[Scope.STATEMENTS_WRITE],
                                 retention=Retention.TALLY, agent=None,
                                 public_url="http://lrs.test", operator="t",
                                 now=datetime.now(UTC), quarantine_days=3)
    assert (await storage.credentials.get(made.key)).quarantine_days == 3  # type: ignore[union-attr]
    resource = storage._resource
    if storage.engine == "sqlite":
        await resource.write(lambda conn: conn.execute(
            "UPDATE credentials SET quarantine_days=NULL WHERE key=?", (made.key,)))
    else:
        database = resource.get_default_database(default=_database(storage))
        await database["credentials"].update_one({"_id": made.key},
                                                 {"$unset": {"quarantine_days": ""}})
    assert (await storage.credentials.get(made.key)).quarantine_days == 0  # type: ignore[union-attr]


def _database(storage: Storage) -> str:
    return str(storage.statements._db.name)  # type: ignore[attr-defined]


async def test_quarantine_admin_api_refuses_bad_parameters(lrs: dict[str, Any]) -> None:
    client: Client = lrs["client"]
    bad = await client.get("/api/v1/admin/quarantine", params={"limit": "0"},
                           headers=lrs["admin"])
    assert bad.status_code == 400 and "?limit" in bad.text
    unknown = await client.get("/api/v1/admin/quarantine", params={"agent": "x"},
                               headers=lrs["admin"])
    assert unknown.status_code == 400 and "?agent" in unknown.text
    assert (await client.get("/api/v1/admin/quarantine", headers=lrs["edx"])).status_code == 403
    missing = await client.post(f"/api/v1/admin/quarantine/{uuid.uuid4()}/replay",
                                headers=lrs["admin"])
    assert missing.status_code == 404
