"""Forget and purge on every engine: what goes, what is rewritten, what must not change."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from aggregation.store import Filters
from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.erasure import forget, purge, retention_policy, subject_hash
from lrs.storage import Storage
from plugins.catalogue import Catalogue, CatalogueEntry
from statements.enrich import StoredStatement
from statements.erasure import ERASED_AGENT, AuditRecord, Change
from statements.indexing import agent_key, index_statement
from tests.conftest import Client, add_credential, statements_of
from tests.factories import COURSE, make_agent, make_statement
from tests.statements.test_attachments import CONTENT_TYPE, attachment_for, multipart, part

pytestmark = pytest.mark.usefixtures("engine")

ALICE, BOB, CAROL, DAVE = (make_agent(n) for n in ("alice", "bob", "carol", "dave"))
ALICE_KEY = agent_key(ALICE) or ""
VIEWED = "http://id.tincanapi.com/verb/viewed"
NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def now_ms() -> int:
    return int(time.time() * 1000)


async def post(client: Client, body: Any, **kwargs: Any) -> list[str]:
    response = await client.post("/xapi/statements", json=body, **kwargs)
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()
    return ids


async def get_one(client: Client, statement_id: str) -> dict[str, Any] | None:
    response = await client.get("/xapi/statements", params={"statementId": statement_id})
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def tally_figures(storage: Storage) -> Any:
    """Every counter, summary and estimate the tally answers, over a wide window."""
    today = now_ms() // 86_400_000
    popular = await storage.tally.popular(today - 400, today + 1, Filters(), by="hits",
                                          limit=100)
    learners = await storage.tally.popular(today - 400, today + 1, Filters(), by="learners",
                                           limit=100)
    series = [await storage.tally.series(a.activity, (today - 400) * 24, (today + 1) * 24,
                                         daily=d) for a in popular for d in (True, False)]
    return popular, learners, series, await storage.tally.summary(today - 400, today + 1)


def assert_no_orphan_index_rows(settings: Settings) -> None:
    """SQLite's side tables hold no row of a deleted statement, and every row of a kept
    one matches its current body (MongoDB keeps its keys in the statement's document)."""
    url = settings.store_url()
    if not url.startswith("sqlite:///"):
        return
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
        rows = {(agent, seq) for agent, seq in conn.execute(
            "SELECT agent, seq FROM statement_agents")}
        expected = {(key, seq) for seq, body in conn.execute("SELECT seq, body FROM statements")
                    for key in index_statement(orjson.loads(body)).related_agents}
        activities = {row for row in conn.execute(
            "SELECT activity, seq FROM statement_activities")}
        expected_activities = {
            (key, seq) for seq, body in conn.execute("SELECT seq, body FROM statements")
            for key in index_statement(orjson.loads(body)).related_activities}
    assert rows == expected and activities == expected_activities


async def test_forget_deletes_their_statements_rewrites_others_and_keeps_the_tally(
        client: Client, storage: Storage, settings: Settings) -> None:
    tally = await add_credential(storage, Scope.STATEMENTS_WRITE, name="intranet",
                                 retention=Retention.TALLY)
    await post(client, [make_statement(actor=a, verb={"id": VIEWED}, timestamp=NOW,
                                       object={"id": "http://intranet/page"}, result=None)
                        for a in (ALICE, ALICE, BOB, CAROL, DAVE)], headers=tally)
    sha1 = hashlib.sha1(b"mailto:alice@example.com").hexdigest()
    own = [make_statement(actor=ALICE), make_statement(actor={"mbox_sha1sum": sha1}),
           make_statement(actor=CAROL, object={"objectType": "SubStatement", "actor": ALICE,
                                               "verb": {"id": VIEWED},
                                               "object": {"id": COURSE}}, context=None),
           make_statement(actor={"objectType": "Group", "member": [ALICE]})]
    team = make_statement(actor=BOB, context={
        "team": {"objectType": "Group", "member": [ALICE, CAROL]}, "instructor": ALICE})
    group_actor = make_statement(actor={"objectType": "Group", "member": [DAVE, ALICE]})
    object_agent = make_statement(actor=BOB, object=ALICE, context=None)
    unrelated = make_statement(actor=BOB)
    await post(client, [*own, team, group_actor, object_agent, unrelated])
    for agent in (ALICE, BOB):
        state = await client.put("/xapi/activities/state", content=b"{}", params={
            "activityId": COURSE, "agent": json.dumps(agent), "stateId": "s"},
            headers={"Content-Type": "application/json"})
        assert state.status_code == 204
        profile = await client.put("/xapi/agents/profile", content=b"{}", params={
            "agent": json.dumps(agent), "profileId": "p"},
            headers={"Content-Type": "application/json", "If-None-Match": "*"})
        assert profile.status_code == 204
    unrelated_before = await get_one(client, unrelated["id"])
    figures_before = await tally_figures(storage)

    report = await forget(storage, ALICE_KEY, now_ms=now_ms(), operator="dpo")

    assert report.done == {"statements_deleted": 4, "statements_rewritten": 3,
                           "documents_deleted": 2, "attachments_deleted": 0,
                           "credentials_revoked": 0, "quarantine_deleted": 0,
                           "audit_entries_scrubbed": 0, "files_changed": 0,
                           "sessions_ended": 0, "spaces_destroyed": 0,
                           "grants_deleted": 0}
    assert report.earlier == []
    for gone in own:
        assert await get_one(client, gone["id"]) is None
    rewritten_team = await get_one(client, team["id"])
    assert rewritten_team is not None and rewritten_team["actor"] == BOB
    assert rewritten_team["context"]["team"]["member"] == [CAROL]
    assert "instructor" not in rewritten_team["context"]
    rewritten_group = await get_one(client, group_actor["id"])
    assert rewritten_group is not None and rewritten_group["actor"]["member"] == [DAVE]
    rewritten_object = await get_one(client, object_agent["id"])
    assert rewritten_object is not None and rewritten_object["object"] == ERASED_AGENT
    assert await get_one(client, unrelated["id"]) == unrelated_before
    for related in ("true", "false"):
        found = await client.get("/xapi/statements", params={
            "agent": json.dumps(ALICE), "related_agents": related})
        assert statements_of(found) == []
    by_dave = statements_of(await client.get("/xapi/statements",
                                             params={"agent": json.dumps(DAVE)}))
    assert [s["id"] for s in by_dave] == [group_actor["id"]]
    for agent, expected in ((ALICE, 404), (BOB, 200)):
        state = await client.get("/xapi/activities/state", params={
            "activityId": COURSE, "agent": json.dumps(agent), "stateId": "s"})
        profile = await client.get("/xapi/agents/profile", params={
            "agent": json.dumps(agent), "profileId": "p"})
        assert (state.status_code, profile.status_code) == (expected, expected)
    assert await tally_figures(storage) == figures_before
    assert figures_before[0] and figures_before[3].hits == 5  # the tally was not empty

    log = await storage.erasure.audit_log()
    assert [(r.action, r.operator) for r in log] == [("forget", "dpo")]
    assert log[0].subject == await subject_hash(storage, ALICE_KEY)
    assert "alice" not in repr(log).lower() and sha1 not in repr(log)

    again = await forget(storage, ALICE_KEY, now_ms=now_ms(), operator="dpo")
    assert again.earlier == [log[0].at_ms]
    assert again.done["statements_deleted"] == 0
    # A platform retrying the original is answered as before and brings nobody back.
    assert await post(client, team) == [team["id"]]
    assert await get_one(client, team["id"]) == rewritten_team
    assert_no_orphan_index_rows(settings)


async def test_forget_deletes_attachments_only_no_other_statement_uses(
        client: Client, storage: Storage) -> None:
    shared, own = b"certificate shared", b"alice's own scan"
    for actor, datas in ((ALICE, [shared, own]), (BOB, [shared])):
        statement = make_statement(actor=actor, attachments=[attachment_for(d) for d in datas])
        response = await client.post("/xapi/statements", content=multipart(
            orjson.dumps(statement), *(part(d) for d in datas)),
            headers={"Content-Type": CONTENT_TYPE})
        assert response.status_code == 200, response.text
    hashes = [hashlib.sha256(d).hexdigest() for d in (shared, own)]

    report = await forget(storage, ALICE_KEY, now_ms=now_ms(), operator="dpo")

    assert report.done["attachments_deleted"] == 1
    kept = await storage.statements.get_attachments(hashes)
    assert [a.data for a in kept] == [shared]


async def test_a_failing_change_leaves_everything_as_it_was(
        client: Client, storage: Storage) -> None:
    first, second = make_statement(actor=BOB), make_statement(actor=CAROL)
    await post(client, [first, second])
    second_before = await get_one(client, second["id"])
    [one, two] = await storage.erasure.involving({agent_key(BOB) or "", agent_key(CAROL) or ""})
    broken = dict(two.statement, result={"extensions": {"http://e.com/x": 2**70}})
    with pytest.raises(TypeError):  # neither engine can store an integer beyond 64 bits
        await storage.erasure.apply(
            Change(delete=[one], rewrite=[(two, StoredStatement(two.id, two.stored_ms, broken,
                                                                ""))]),
            AuditRecord("run", "purge", now_ms(), "test"))
    assert await get_one(client, first["id"]) is not None
    assert await get_one(client, second["id"]) == second_before
    assert await storage.erasure.audit_log() == []


async def test_purge_dry_run_changes_nothing_then_purge_removes_what_is_due(
        client: Client, storage: Storage, settings: Settings) -> None:
    course = CatalogueEntry("activity", COURSE, "Fire safety", retention_days=365)
    await storage.catalogue.replace([course])
    stamped = {"timestamp": NOW}
    mandatory = [make_statement(actor=a, **stamped) for a in (ALICE, BOB)]
    viewed = make_statement(actor=CAROL, verb={"id": VIEWED}, **stamped,
                            object={"id": "http://intranet/page"})
    other = make_statement(actor=DAVE, object={"id": "http://lms/other"}, **stamped)
    shared = b"shared certificate"
    with_attachment = make_statement(actor=DAVE, object={"id": "http://lms/other"},
                                     attachments=[attachment_for(shared)], **stamped)
    response = await client.post("/xapi/statements", content=multipart(
        orjson.dumps(with_attachment), part(shared)), headers={"Content-Type": CONTENT_TYPE})
    assert response.status_code == 200
    await post(client, [*mandatory, viewed, other])
    settings = settings.model_copy(update={"retention_verb_days": {VIEWED: 30},
                                           "retention_default_days": 3650})
    policy = retention_policy(settings, Catalogue(await storage.catalogue.entries()))
    day = 86_400_000
    listing_before = statements_of(await client.get("/xapi/statements"))

    in_40_days = await purge(storage, policy, now_ms=now_ms() + 40 * day, operator="cli",
                             dry_run=True)
    assert dict(in_40_days.by_class) == {f"verb:{VIEWED}": 1}
    in_2_years = await purge(storage, policy, now_ms=now_ms() + 730 * day, operator="cli",
                             dry_run=True, batch=2)
    assert dict(in_2_years.by_class) == {f"verb:{VIEWED}": 1, f"catalogue:activity:{COURSE}": 2}
    assert statements_of(await client.get("/xapi/statements")) == listing_before
    assert await storage.erasure.audit_log() == []

    done = await purge(storage, policy, now_ms=now_ms() + 730 * day, operator="cli", batch=2)

    assert done.statements == 3 and done.done["statements_deleted"] == 3
    left = statements_of(await client.get("/xapi/statements"))
    assert sorted(s["id"] for s in left) == sorted([other["id"], with_attachment["id"]])
    for agent in (ALICE, BOB, CAROL):
        assert statements_of(await client.get("/xapi/statements", params={
            "agent": json.dumps(agent), "related_agents": "true"})) == []
    assert statements_of(await client.get("/xapi/statements", params={
        "activity": COURSE, "related_activities": "true"})) == []
    [record] = await storage.erasure.audit_log()
    assert record.action == "purge" and record.subject is None
    assert record.counts[f"class catalogue:activity:{COURSE}"] == 2
    assert record.counts["statements_deleted"] == 3

    everything = await purge(storage, policy, now_ms=now_ms() + 3651 * day, operator="cli")
    assert everything.done["statements_deleted"] == 2
    assert everything.done["attachments_deleted"] == 1
    assert await storage.statements.get_attachments([hashlib.sha256(shared).hexdigest()]) == []
    assert_no_orphan_index_rows(settings)


async def test_purge_without_periods_does_nothing(client: Client, storage: Storage,
                                                  settings: Any) -> None:
    await post(client, [make_statement()])
    policy = retention_policy(settings, Catalogue())
    report = await purge(storage, policy, now_ms=now_ms() + 10**12, operator="cli")
    assert report.statements == 0 and len(statements_of(await client.get("/xapi/statements")))


async def test_audit_record_keeps_admin_actions_in_order_with_their_detail(
        storage: Storage) -> None:
    first = AuditRecord("run-1", "credential_create", 1_000, "person:sub-1",
                        detail={"credential": "lms", "scopes": "all"})
    second = AuditRecord("run-2", "catalogue_add", 2_000, "cli", counts={"entries": 2},
                         detail={"entries": f"activity {COURSE}, prefix http://x.test/"})
    export = AuditRecord("run-3", "evidence_export", 3_000, "auditor",
                         subject=await subject_hash(storage, ALICE_KEY))
    for record in (second, first, export):  # kept by time, not by arrival
        await storage.erasure.record(record)
    assert await storage.erasure.audit_log() == [first, second, export]
    assert await storage.erasure.audit_log(export.subject) == [export]
    # Forget and purge records, written with their change, carry no detail.
    await forget(storage, ALICE_KEY, now_ms=4_000, operator="dpo")
    log = await storage.erasure.audit_log()
    assert [r.action for r in log] == ["credential_create", "catalogue_add", "evidence_export",
                                       "forget"]
    assert log[-1].detail == {} and log[-1].subject == export.subject
