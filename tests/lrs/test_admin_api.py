"""The admin API on every engine: credentials (create, list, rotate, revoke, by name or key),
the settings in effect, catalogue matches, and the audit log of every admin action."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import SecretStr

from lrs.admin import credentials as admin
from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.erasure import subject_hash
from lrs.people import Person, Role, principal_of
from lrs.storage import Storage
from plugins.catalogue import CatalogueEntry
from statements.indexing import agent_key
from tests.conftest import Client, add_credential, app_client
from tests.factories import COURSE, make_agent, make_statement, voiding

CREDENTIALS = "/api/v1/admin/credentials"
V2 = {"X-Experience-API-Version": "2.0.0"}


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


@pytest.fixture
def uncached(settings: Settings) -> Settings:
    """Every request checks its secret against the store (no verification cache)."""
    return settings.model_copy(update={"credential_cache_seconds": 0})


@pytest.fixture
async def admin_client(uncached: Settings, storage: Storage) -> AsyncIterator[Client]:
    auth = await add_credential(storage, Scope.ADMIN, name="root")
    async with app_client(uncached, storage, headers={**auth, **V2}) as c:
        yield c


async def create(client: Client, **body: Any) -> dict[str, Any]:
    response = await client.post(CREDENTIALS, json={"scopes": ["statements/write"], **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_with_lenient_document_puts_is_kept_and_a_bad_value_named(
        admin_client: Client, storage: Storage) -> None:
    made = await create(admin_client, name="tincan", document_puts="lenient")
    stored = await storage.credentials.get(made["key"])
    assert made["document_puts"] == "lenient"
    assert stored is not None and stored.document_puts.value == "lenient"
    bad = await admin_client.post(CREDENTIALS, json={
        "name": "x", "scopes": ["state"], "document_puts": "loose"})
    assert bad.status_code == 400 and "$.document_puts" in bad.text


async def test_create_shows_the_secret_once_and_the_credential_works(
        admin_client: Client, storage: Storage) -> None:
    made = await create(admin_client, name="lms", scopes=["statements/write", "statements/read"],
                        retention="full")
    assert set(made) == {"name", "key", "scopes", "retention", "created", "revoked",
                         "last_used", "document_puts", "quarantine_days", "secret", "cmi5",
                         "profiles", "cmi5_lms"}
    assert (made["cmi5"], made["profiles"], made["cmi5_lms"]) == ("off", "off", False)
    assert (made["name"], made["scopes"], made["retention"], made["document_puts"]) == (
        "lms", ["statements/read", "statements/write"], "full", "strict")
    assert made["revoked"] is None and made["last_used"] is None
    stored = await storage.credentials.get(made["key"])
    assert stored is not None and made["secret"] not in stored.secret_hash
    listed = (await admin_client.get(CREDENTIALS)).json()
    assert [c["name"] for c in listed] == ["root", "lms"]
    assert made["secret"] not in orjson.dumps(listed).decode()
    assert listed[1] == {k: v for k, v in made.items() if k != "secret"}

    statement = make_statement()
    sent = await admin_client.post("/xapi/statements", json=statement,
                                   headers=basic(made["key"], made["secret"]))
    assert sent.status_code == 200, sent.text
    [lms] = [c for c in (await admin_client.get(CREDENTIALS)).json() if c["name"] == "lms"]
    assert lms["last_used"] is not None
    assert datetime.fromisoformat(lms["last_used"]) >= datetime.fromisoformat(lms["created"])


async def test_create_with_an_agent_binds_the_learner(admin_client: Client,
                                                      storage: Storage) -> None:
    made = await create(admin_client, name="ada", scopes=["statements/read/mine"],
                        agent=make_agent("ada"))
    stored = await storage.credentials.get(made["key"])
    assert stored is not None and stored.authority["mbox"] == "mailto:ada@example.com"
    assert stored.retention is Retention.TALLY  # the default


@pytest.mark.parametrize(("body", "path"), [
    ({"name": "x", "scopes": ["statements/write", "root"]}, "$.scopes[1]"),
    ({"name": "x", "scopes": []}, "$.scopes"),
    ({"scopes": ["all"]}, "$.name"),
    ({"name": "", "scopes": ["all"]}, "$.name"),
    ({"name": " padded ", "scopes": ["all"]}, "$.name"),
    ({"name": "person:someone", "scopes": ["all"]}, "$.name"),
    ({"name": "x", "scopes": ["all"], "retention": "drop"}, "$.retention"),
    ({"name": "x", "scopes": ["all"], "colour": "red"}, "$.colour"),
    ({"name": "x", "scopes": ["all"], "agent": None}, "$.agent"),
    ({"name": "x", "scopes": ["all"], "agent": {"mbox": "ada@example.com"}}, "$.agent.mbox"),
    ({"name": "x", "scopes": ["all"], "agent": {"name": "no identifier"}}, "$.agent"),
    ({"name": 7, "scopes": ["all"]}, "$.name"),
    ([], "$"),
])
async def test_create_refuses_bad_bodies_naming_the_path(admin_client: Client, body: Any,
                                                         path: str) -> None:
    response = await admin_client.post(CREDENTIALS, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert path in [p["path"] for p in error["problems"]], error
    assert len((await admin_client.get(CREDENTIALS)).json()) == 1  # nothing was created


async def test_create_refuses_a_body_that_is_not_json(admin_client: Client) -> None:
    response = await admin_client.post(CREDENTIALS, content=b"{name",
                                       headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["path"] == "$"


async def test_create_refuses_a_name_in_use_until_it_is_revoked(admin_client: Client) -> None:
    await create(admin_client, name="lms")
    again = await admin_client.post(CREDENTIALS, json={"name": "lms", "scopes": ["all"]})
    assert again.status_code == 409 and "lms" in again.json()["error"]["message"]
    assert (await admin_client.delete(f"{CREDENTIALS}/lms")).status_code == 204
    await create(admin_client, name="lms")


@pytest.mark.parametrize("by", ["name", "key"])
async def test_rotate_gives_a_new_secret_and_the_old_one_stops_working(
        admin_client: Client, by: str) -> None:
    made = await create(admin_client, name="intranet")
    rotated = await admin_client.post(f"{CREDENTIALS}/{made[by]}/rotate")
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert set(body) == {"name", "key", "secret"}
    assert (body["name"], body["key"]) == ("intranet", made["key"])
    assert body["secret"] != made["secret"]
    old = await admin_client.post("/xapi/statements", json=make_statement(),
                                  headers=basic(made["key"], made["secret"]))
    assert old.status_code == 401
    new = await admin_client.post("/xapi/statements", json=make_statement(),
                                  headers=basic(made["key"], body["secret"]))
    assert new.status_code == 200


@pytest.mark.parametrize("by", ["name", "key"])
async def test_revoke_by_name_or_key(admin_client: Client, by: str) -> None:
    made = await create(admin_client, name="video")
    assert (await admin_client.delete(f"{CREDENTIALS}/{made[by]}")).status_code == 204
    refused = await admin_client.post("/xapi/statements", json=make_statement(),
                                      headers=basic(made["key"], made["secret"]))
    assert refused.status_code == 401
    [video] = [c for c in (await admin_client.get(CREDENTIALS)).json() if c["name"] == "video"]
    assert video["revoked"] is not None
    again = await admin_client.delete(f"{CREDENTIALS}/{made[by]}")
    assert again.status_code == 404


@pytest.mark.parametrize(("method", "path"), [
    ("POST", f"{CREDENTIALS}/nobody/rotate"), ("DELETE", f"{CREDENTIALS}/nobody")])
async def test_an_unknown_ref_is_404_saying_it_matched_neither(admin_client: Client,
                                                               method: str, path: str) -> None:
    response = await admin_client.request(method, path)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no credential named or keyed nobody"


async def test_a_name_with_a_slash_is_reachable(admin_client: Client) -> None:
    made = await create(admin_client, name="lms/eu")
    rotated = await admin_client.post(f"{CREDENTIALS}/lms%2Feu/rotate")
    assert rotated.status_code == 200 and rotated.json()["key"] == made["key"]
    assert (await admin_client.delete(f"{CREDENTIALS}/lms%2Feu")).status_code == 204


@pytest.mark.parametrize(("method", "path"), [
    ("GET", CREDENTIALS), ("POST", CREDENTIALS), ("POST", f"{CREDENTIALS}/root/rotate"),
    ("DELETE", f"{CREDENTIALS}/root"), ("GET", "/api/v1/admin/settings"),
    ("GET", "/api/v1/catalogue/matches?kind=iri&value=http://x.test/a")])
async def test_admin_endpoints_need_the_admin_scope(uncached: Settings, storage: Storage,
                                                    method: str, path: str) -> None:
    await add_credential(storage, Scope.ADMIN, name="root")
    others = [await add_credential(storage, scope, name=f"c-{scope.value}")
              for scope in (Scope.COMPLIANCE_READ, Scope.AGGREGATES_READ,
                            Scope.STATEMENTS_READ_MINE, Scope.STATEMENTS_WRITE)]
    async with app_client(uncached, storage, headers=V2) as c:
        for auth in others:
            response = await c.request(method, path, headers=auth,
                                       json={"name": "x", "scopes": ["all"]})
            assert response.status_code == 403, response.text
        assert (await c.request(method, path)).status_code == 401
    assert [c.name for c in await storage.credentials.list() if c.revoked] == []


async def test_settings_in_effect_never_show_a_secret(settings: Settings,
                                                      storage: Storage) -> None:
    configured = settings.model_copy(update={
        "retention_default_days": 400, "retention_verb_days": {"http://v.test/viewed": 30},
        "suppression_threshold": 7, "beacon_origins": ["https://intranet.example.com"],
        "metrics_token": SecretStr("metrics-token-value"), "rate_limit_per_minute": 900})
    await storage.catalogue.add([CatalogueEntry("activity", COURSE, "Fire", 1000),
                                 CatalogueEntry("prefix", "http://x.test/", None, None)])
    auth = await add_credential(storage, Scope.ADMIN, name="root")
    async with app_client(configured, storage, headers={**auth, **V2}) as c:
        response = await c.get("/api/v1/admin/settings")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"retention", "privacy", "limits", "metrics"}
    assert body["retention"]["default"] == "tally"
    assert body["retention"]["default_days"] == 400
    assert body["retention"]["verb_days"] == {"http://v.test/viewed": 30}
    assert body["retention"]["catalogue_days"] == [
        {"kind": "activity", "value": COURSE, "name": "Fire", "days": 1000}]
    assert body["privacy"]["suppression_threshold"] == 7
    assert body["privacy"]["beacon_origins"] == ["https://intranet.example.com"]
    assert body["privacy"]["fingerprint_days"] == configured.fingerprint_days
    assert body["limits"]["rate_limit_per_minute"] == 900
    assert body["metrics"] == {"enabled": True, "exposure": "token", "port": None,
                               "token_set": True}
    assert "metrics-token-value" not in response.text


async def post(client: Client, *statements: dict[str, Any]) -> None:
    response = await client.post("/xapi/statements", json=list(statements))
    assert response.status_code == 200, response.text


def about(activity: str, *, kind: str = "http://adlnet.gov/expapi/activities/course",
          parent: str | None = None) -> dict[str, Any]:
    context = {"contextActivities": {"parent": [{"id": parent}]}} if parent else None
    return make_statement(object={"objectType": "Activity", "id": activity,
                                  "definition": {"type": kind}}, context=context)


async def test_catalogue_matches_count_kept_statements_per_activity(
        admin_client: Client, storage: Storage) -> None:
    auth = await add_credential(storage, Scope.STATEMENTS_WRITE, name="lms")  # retention full
    writer = {**auth, **V2}
    a, b = "http://x.test/courses/a", "http://x.test/courses/b"
    lesson = "http://y.test/lesson-1"
    voided_one = about(a)
    batch = [about(a), about(a), about(b, kind="http://x.test/types/exam"),
             about(lesson, parent=b), voided_one, about("http://elsewhere.test/c")]
    assert (await admin_client.post("/xapi/statements", json=batch,
                                    headers=writer)).status_code == 200
    assert (await admin_client.post("/xapi/statements", json=voiding(voided_one["id"]),
                                    headers=writer)).status_code == 200

    def ask(kind: str, value: str) -> Any:
        return admin_client.get("/api/v1/catalogue/matches", params={"kind": kind,
                                                                      "value": value})

    # Each statement under the activity that the entry matched: the lesson's by its parent.
    prefix = (await ask("prefix", "http://x.test/courses/")).json()
    assert prefix == {"kind": "prefix", "value": "http://x.test/courses/", "statements": 4,
                      "activities": [{"id": a, "statements": 2}, {"id": b, "statements": 2}]}
    exact = (await ask("iri", b)).json()
    assert exact == {"kind": "iri", "value": b, "statements": 2,
                     "activities": [{"id": b, "statements": 2}]}
    assert (await ask("prefix", "http://y.test/")).json()["activities"] == [
        {"id": lesson, "statements": 1}]
    typed = (await ask("type", "http://x.test/types/exam")).json()
    assert typed["activities"] == [{"id": b, "statements": 1}]
    none = (await ask("iri", "http://nothing.test/")).json()
    assert none["statements"] == 0 and none["activities"] == []


@pytest.mark.parametrize(("params", "path"), [
    ({"kind": "iri"}, "?kind"), ({"value": "http://x.test/"}, "?kind"),
    ({"kind": "colour", "value": "http://x.test/"}, "?kind"),
    ({"kind": "iri", "value": "not an iri"}, "?value"),
    ({"kind": "iri", "value": "http://x.test/", "extra": "1"}, "?kind")])
async def test_catalogue_matches_refuse_bad_parameters(admin_client: Client,
                                                       params: dict[str, str],
                                                       path: str) -> None:
    response = await admin_client.get("/api/v1/catalogue/matches", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["path"] == path


async def test_audit_log_records_every_admin_and_compliance_action_and_no_learner(
        admin_client: Client, storage: Storage) -> None:
    auditor = await add_credential(storage, Scope.COMPLIANCE_READ, name="auditor")
    made = await create(admin_client, name="lms")
    await admin_client.post(f"{CREDENTIALS}/lms/rotate")
    await admin_client.delete(f"{CREDENTIALS}/{made['key']}")
    entries = {"version": 1, "entries": [{"kind": "activity", "value": COURSE}]}
    assert (await admin_client.post("/api/v1/catalogue", json=entries)).status_code == 200
    assert (await admin_client.delete("/api/v1/catalogue", params={
        "kind": "activity", "value": COURSE})).status_code == 204
    alice = make_agent("alice")
    report = await admin_client.post("/api/v1/compliance/report", headers=auditor,
                                     params={"activity": COURSE, "since": "2025-01-01"},
                                     json={"roster": [alice, make_agent("bob")]})
    assert report.status_code == 200, report.text
    export = await admin_client.get("/api/v1/compliance/export", headers=auditor,
                                    params={"agent": orjson.dumps(alice).decode()})
    assert export.status_code == 200

    log = await admin_client.get("/api/v1/admin/audit")
    records = log.json()
    assert [(r["action"], r["operator"]) for r in records] == [
        ("credential_create", "root"), ("credential_rotate", "root"),
        ("credential_revoke", "root"), ("catalogue_add", "root"),
        ("catalogue_remove", "root"), ("compliance_report", "auditor"),
        ("evidence_export", "auditor")]
    assert all(r["detail"]["credential"] == "lms" for r in records[:3])
    assert records[3]["detail"] == {"entries": f"activity {COURSE}"}
    assert records[3]["counts"] == {"entries": 1}
    assert records[4]["detail"] == {"kind": "activity", "value": COURSE}
    assert records[5]["counts"] == {"roster": 2}
    assert records[5]["detail"]["since"] == "2025-01-01T00:00:00.000Z"
    key = agent_key(alice)
    assert key is not None
    assert records[6]["subject"] == await subject_hash(storage, key)
    assert "alice" not in log.text.lower() and "bob" not in log.text.lower()
    assert made["secret"] not in log.text


async def test_a_signed_in_person_is_recorded_by_subject(storage: Storage) -> None:
    person = Person(issuer="https://idp.test", subject="sub-42", name="Ada Admin",
                    roles=frozenset({Role.ADMIN}))
    now = datetime.now(UTC)
    operator = principal_of(person, created=now).name
    await admin.create(storage, name="lms", scopes=[Scope.ALL], retention=Retention.FULL,
                       agent=None, public_url="http://lrs.test", operator=operator, now=now)
    [record] = await storage.erasure.audit_log()
    assert record.operator == "person:sub-42" and record.action == "credential_create"
    assert "Ada" not in repr(record)


async def test_audit_of_a_large_catalogue_addition_lists_the_first_entries(
        admin_client: Client) -> None:
    entries = [{"kind": "activity", "value": f"http://x.test/a/{n}"} for n in range(25)]
    added = await admin_client.post("/api/v1/catalogue", json={"version": 1, "entries": entries})
    assert added.status_code == 200
    [record] = (await admin_client.get("/api/v1/admin/audit")).json()
    assert record["counts"] == {"entries": 25}
    assert record["detail"]["entries"].startswith("activity http://x.test/a/0, ")
    assert record["detail"]["entries"].endswith("activity http://x.test/a/19 and 5 more")


def documented(path: str, method: str, status: str) -> Any:
    """The JSON schema the OpenAPI document gives for this answer."""
    from lrs.api.openapi import DOCUMENT

    response = DOCUMENT["paths"][path][method]["responses"][status]
    return response["content"]["application/json"]["schema"]


async def test_answers_match_the_openapi_document(admin_client: Client) -> None:
    from jsonschema import Draft202012Validator, FormatChecker

    def check(answer: Any, path: str, method: str, status: str) -> None:
        assert str(answer.status_code) == status, answer.text
        Draft202012Validator(documented(path, method, status),
                             format_checker=FormatChecker()).validate(answer.json())

    check(await admin_client.post(CREDENTIALS, json={"name": "lms", "scopes": ["all"]}),
          "/api/v1/admin/credentials", "post", "201")
    await admin_client.post("/xapi/statements", json=make_statement())  # a last use
    check(await admin_client.get(CREDENTIALS), "/api/v1/admin/credentials", "get", "200")
    check(await admin_client.post(f"{CREDENTIALS}/lms/rotate"),
          "/api/v1/admin/credentials/{ref}/rotate", "post", "200")
    check(await admin_client.get("/api/v1/admin/settings"), "/api/v1/admin/settings", "get",
          "200")
    check(await admin_client.get("/api/v1/catalogue/matches",
                                 params={"kind": "prefix", "value": "http://example.com/"}),
          "/api/v1/catalogue/matches", "get", "200")
    check(await admin_client.get("/api/v1/admin/audit"), "/api/v1/admin/audit", "get", "200")
