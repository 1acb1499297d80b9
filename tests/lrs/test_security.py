"""Security, on every engine: the scope matrix (every scope, endpoint and method), what
`statements/read/mine` may see, secrets kept only hashed and compared in constant time, no
secret or identifier in error bodies or logs, and CORS answering only configured origins."""

from __future__ import annotations

import base64
import logging
import uuid

import orjson
import pytest

from lrs import auth as auth_module
from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client, statements_of
from tests.factories import make_agent, make_statement
from tests.lrs.test_privacy_audit import stored_bytes

V2 = {"X-Experience-API-Version": "2.0.0"}
AGENT = orjson.dumps(make_agent("dora")).decode()
ACTIVITY = "http://example.com/activities/page"
STATE = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
ACT_PROFILE = {"activityId": ACTIVITY, "profileId": "p"}
AGENT_PROFILE = {"agent": AGENT, "profileId": "p"}
S = Scope
READ = {S.STATEMENTS_READ, S.ALL_READ, S.STATEMENTS_READ_MINE}
PUBLIC: set[Scope] = set(Scope)  # no credential needed at all
JSON = {"Content-Type": "application/json"}

# (method, path, params, body, scopes allowed): what the code enforces and README documents
# (`all` grants every scope, so it is allowed everywhere and not listed).
MATRIX: list[tuple[str, str, dict[str, str], bytes | None, set[Scope]]] = [
    ("GET", "/xapi/statements", {}, None, READ),
    ("HEAD", "/xapi/statements", {}, None, READ),
    ("POST", "/xapi/statements", {}, b"[]", {S.STATEMENTS_WRITE}),
    ("PUT", "/xapi/statements", {"statementId": str(uuid.uuid4())}, b"{}",
     {S.STATEMENTS_WRITE}),
    *[(method, path, params, None, {scope, S.ALL_READ})
      for path, params, scope in [("/xapi/activities/state", STATE, S.STATE),
                                  ("/xapi/activities/profile", ACT_PROFILE, S.PROFILE),
                                  ("/xapi/agents/profile", AGENT_PROFILE, S.PROFILE)]
      for method in ("GET", "HEAD")],
    *[(method, path, params, b'{"a": 1}', {scope})
      for path, params, scope in [("/xapi/activities/state", STATE, S.STATE),
                                  ("/xapi/activities/profile", ACT_PROFILE, S.PROFILE),
                                  ("/xapi/agents/profile", AGENT_PROFILE, S.PROFILE)]
      for method in ("PUT", "POST", "DELETE")],
    *[(method, "/xapi/activities", {"activityId": ACTIVITY}, None,
       READ | {S.STATE, S.PROFILE, S.DEFINE}) for method in ("GET", "HEAD")],
    *[(method, "/xapi/agents", {"agent": AGENT}, None, {S.STATEMENTS_READ, S.ALL_READ})
      for method in ("GET", "HEAD")],
    ("GET", "/xapi/about", {}, None, PUBLIC),
    *[(method, f"/api/v1/aggregates/{name}", {}, None, {S.AGGREGATES_READ})
      for name in ("popular", "series", "summary", "unopened", "compliance")
      for method in ("GET", "HEAD")],
    ("POST", "/api/v1/admin/forget", {}, b'{"agent": {"mbox": "mailto:nobody@example.com"}}',
     {S.ADMIN}),
    ("POST", "/api/v1/admin/purge", {"dry_run": "true"}, None, {S.ADMIN}),
    ("GET", "/api/v1/admin/audit", {}, None, {S.ADMIN}),
    ("GET", "/api/v1/admin/credentials", {}, None, {S.ADMIN}),
    ("POST", "/api/v1/admin/credentials", {}, b'{"name": "x", "scopes": []}', {S.ADMIN}),
    ("POST", "/api/v1/admin/credentials/nobody/rotate", {}, None, {S.ADMIN}),
    ("DELETE", "/api/v1/admin/credentials/nobody", {}, None, {S.ADMIN}),
    ("GET", "/api/v1/admin/settings", {}, None, {S.ADMIN}),
    ("GET", "/api/v1/catalogue/matches", {"kind": "iri", "value": ACTIVITY}, None, {S.ADMIN}),
    ("GET", "/api/v1/compliance/report", {}, None, {S.COMPLIANCE_READ}),
    ("POST", "/api/v1/compliance/report", {}, b'{"roster": []}', {S.COMPLIANCE_READ}),
    ("GET", "/api/v1/compliance/export", {}, None, {S.COMPLIANCE_READ}),
    ("GET", "/api/v1/portfolio", {}, None, {S.STATEMENTS_READ_MINE}),
    ("GET", "/api/v1/catalogue", {}, None, {S.ADMIN, S.COMPLIANCE_READ}),
    ("HEAD", "/api/v1/catalogue", {}, None, {S.ADMIN, S.COMPLIANCE_READ}),
    ("GET", "/api/v1/retention", {}, None, set(Scope)),
    ("POST", "/api/v1/catalogue", {}, b'{"not": "a catalogue"}', {S.ADMIN}),
    ("DELETE", "/api/v1/catalogue", {"kind": "iri", "value": ACTIVITY}, None, {S.ADMIN}),
    ("POST", "/api/v1/hits", {}, orjson.dumps({"activity": ACTIVITY}), {S.HITS_WRITE}),
    ("GET", "/api/v1/hits/pixel.gif", {"activity": ACTIVITY}, None, {S.HITS_WRITE}),
    ("GET", "/api/v1/openapi.json", {}, None, PUBLIC),
]
# Methods no route takes: 405 whoever asks.
UNROUTED = [("DELETE", "/xapi/statements"), ("PATCH", "/xapi/statements"),
            ("POST", "/xapi/about"), ("PUT", "/api/v1/aggregates/popular"),
            ("PUT", "/api/v1/catalogue"), ("GET", "/api/v1/hits"), ("PATCH", "/xapi/agents")]


async def _ask(c: Client, method: str, path: str, params: dict[str, str], body: bytes | None,
               headers: dict[str, str]) -> int:
    response = await c.request(method, path, params=params, content=body,
                               headers={**JSON, **headers})
    assert response.status_code < 500, (method, path, response.text)
    if response.status_code in (401, 403) and method != "HEAD":
        assert response.json()["error"]["message"]
    return response.status_code


async def test_scope_matrix_every_scope_every_endpoint_every_method(
        settings: Settings, storage: Storage) -> None:
    credentials = {scope: await add_credential(storage, scope, name=f"c-{scope.value}")
                   for scope in Scope}
    wrong = {"Authorization": "Basic " + base64.b64encode(b"nobody:secret").decode()}
    async with app_client(settings, storage, headers=V2) as c:
        wrongs = []
        for method, path, params, body, allowed in MATRIX:
            for scope, auth in credentials.items():
                status = await _ask(c, method, path, params, body, auth)
                if scope is S.ALL or scope in allowed:
                    ok = status not in (401, 403)
                else:
                    ok = status == 403
                if not ok:
                    wrongs.append((scope.value, method, path, status))
            for headers in ({}, wrong):
                status = await _ask(c, method, path, params, body, headers)
                if status != (200 if allowed is PUBLIC else 401):
                    wrongs.append(("no credential" if not headers else "wrong", method, path,
                                   status))
        for method, path in UNROUTED:
            for auth in [{}, *credentials.values()]:
                status = await _ask(c, method, path, {}, None, auth)
                if status != 405:
                    wrongs.append(("any", method, path, status))
    assert wrongs == []


async def test_read_mine_never_sees_another_credentials_statement(
        settings: Settings, storage: Storage) -> None:
    mine = await add_credential(storage, S.STATEMENTS_WRITE, S.STATEMENTS_READ_MINE, name="a")
    theirs = await add_credential(storage, S.STATEMENTS_WRITE, name="b")
    async with app_client(settings, storage, headers=V2) as c:
        own = [make_statement() for _ in range(3)]
        other = [make_statement() for _ in range(3)]
        assert (await c.post("/xapi/statements", json=own, headers=mine)).status_code == 200
        assert (await c.post("/xapi/statements", json=other, headers=theirs)).status_code == 200
        voided = make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                                object={"objectType": "StatementRef", "id": other[0]["id"]},
                                result=None, context=None)
        assert (await c.post("/xapi/statements", json=voided, headers=theirs)).status_code == 200
        own_ids = {s["id"] for s in own}
        seen: set[str] = set()
        for params in ({}, {"limit": "1"}, {"format": "ids"}, {"format": "canonical"},
                       {"attachments": "true"}, {"verb": "http://adlnet.gov/expapi/verbs/voided"},
                       {"agent": orjson.dumps(other[1]["actor"]).decode()},
                       {"ascending": "true"}):
            response = await c.get("/xapi/statements", params=params, headers=mine)
            assert response.status_code == 200, response.text
            if params.get("attachments"):
                assert other[1]["id"].encode() not in response.content
                continue
            page = response.json()
            seen |= {s["id"] for s in page["statements"]}
            while page["more"]:  # following every page stays within its own
                page = (await c.get(page["more"], headers=mine)).json()
                seen |= {s["id"] for s in page["statements"]}
        assert seen == own_ids
        for one in other:
            got = await c.get("/xapi/statements", params={"statementId": one["id"]},
                              headers=mine)
            assert got.status_code == 404
            assert one["id"] not in got.text or "no statement with id" in got.text
        gone = await c.get("/xapi/statements", params={"voidedStatementId": other[0]["id"]},
                           headers=mine)
        assert gone.status_code == 404
        forged = base64.urlsafe_b64encode(orjson.dumps(
            {"limit": 10, "after": [9_999_999_999_999, 1], "format": "exact"})).decode()
        page = await c.get("/xapi/statements", params={"more": forged}, headers=mine)
        if page.status_code == 200:
            assert {s["id"] for s in statements_of(page)} <= own_ids


async def test_secrets_are_stored_only_hashed(settings: Settings, storage: Storage) -> None:
    headers = await add_credential(storage, S.ALL)
    secret = base64.b64decode(headers["Authorization"].split()[1]).split(b":", 1)[1]
    async with app_client(settings, storage, headers={**headers, **V2}) as c:
        assert (await c.get("/xapi/statements")).status_code == 200
    blob = await stored_bytes(settings, storage)
    assert secret not in blob and secret.hex().encode() not in blob
    listed = await storage.credentials.list()
    assert listed and all(c.secret_hash.startswith("scrypt$") for c in listed)


async def test_unknown_key_costs_the_same_slow_hash_as_a_wrong_secret(
        settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    """No timing oracle for which keys exist: both failures run scrypt once (the check
    itself is hmac.compare_digest)."""
    real = auth_module.verify_secret
    calls: list[str] = []

    def counting(secret: str, stored: str) -> bool:
        calls.append(secret)
        return real(secret, stored)

    monkeypatch.setattr(auth_module, "verify_secret", counting)
    headers = await add_credential(storage, S.ALL)
    key = base64.b64decode(headers["Authorization"].split()[1]).split(b":", 1)[0].decode()
    async with app_client(settings, storage, headers=V2) as c:
        for user in (key, "no-such-key"):
            token = base64.b64encode(f"{user}:wrong".encode()).decode()
            response = await c.get("/xapi/statements",
                                   headers={"Authorization": f"Basic {token}"})
            assert response.status_code == 401
            assert user not in response.text and "wrong" not in response.text
    assert calls == ["wrong", "wrong"]


async def test_errors_and_logs_carry_no_secret_or_identifier(
        settings: Settings, storage: Storage, caplog: pytest.LogCaptureFixture) -> None:
    headers = await add_credential(storage, S.ALL, retention=Retention.FULL)
    secret = base64.b64decode(headers["Authorization"].split()[1]).split(b":", 1)[1].decode()
    person = f"mailto:secret-person-{uuid.uuid4().hex[:8]}@example.com"
    bad = [make_statement(actor={"mbox": person, "name": "X", "objectType": "Nope"}),
           make_statement(actor={"mbox": person, "mbox_sha1sum": "a" * 40}),
           make_statement(actor={"mbox": person}, verb={"id": "not an iri"}),
           make_statement(actor={"mbox": person}, timestamp="yesterday")]
    caplog.set_level(logging.DEBUG)
    async with app_client(settings, storage, headers={**headers, **V2}) as c:
        bodies = [(await c.post("/xapi/statements", json=s)).text for s in bad]
        bodies.append((await c.get("/xapi/statements",
                                   params={"agent": orjson.dumps({"mbox": person,
                                                                  "x": 1}).decode()})).text)
        bodies.append((await c.get("/xapi/statements", headers={
            "Authorization": "Basic " + base64.b64encode(f"k:{secret}x".encode()).decode()}
            )).text)
    for body in bodies:
        assert '"error"' in body
        assert person not in body and secret not in body, body
    logged = "\n".join(r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records)
    assert secret not in logged and person not in logged


@pytest.mark.parametrize("configured", [["https://intranet.example.com"], ["*"]])
async def test_cors_never_reflects_an_unconfigured_origin(
        settings: Settings, storage: Storage, configured: list[str]) -> None:
    headers = await add_credential(storage, S.ALL)
    evil = "https://evil.example.net"
    async with app_client(settings.model_copy(update={"cors_origins": configured}), storage,
                          headers={**headers, **V2}) as c:
        simple = await c.get("/xapi/statements", headers={"Origin": evil})
        preflight = await c.options("/xapi/statements", headers={
            "Origin": evil, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization"})
        for response in (simple, preflight):
            assert response.headers.get("access-control-allow-origin") in (
                None, "*" if configured == ["*"] else None)
            assert response.headers.get("access-control-allow-credentials") is None
        if configured != ["*"]:
            assert preflight.status_code == 400
            good = await c.get("/xapi/statements", headers={"Origin": configured[0]})
            assert good.headers["access-control-allow-origin"] == configured[0]


async def test_malformed_authorization_is_401_never_500(client: Client) -> None:
    """A malformed Authorization header is 401 with a message, never a 500."""
    for header in ("Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                   "Bearer x", "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
                   "Basic " + base64.b64encode(b":secret").decode()):
        response = await client.get("/xapi/statements", headers={"Authorization": header})
        assert response.status_code == 401, (header, response.text)
        assert response.json()["error"]["message"]
        assert response.headers["www-authenticate"].startswith("Basic")
