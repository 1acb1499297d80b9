"""The personal learning record: statements/read/mine and the portfolio, on every engine."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import orjson

from lrs.config import Settings
from lrs.credentials import Credential, Retention, Scope, hash_secret
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client, statements_of
from tests.factories import make_agent, make_statement, voiding

PORTFOLIO = "/api/v1/portfolio"
V2 = {"X-Experience-API-Version": "2.0.0"}


async def learner_credential(storage: Storage, agent: dict[str, Any],
                             *scopes: Scope) -> dict[str, str]:
    """A credential bound to a learner, as `lrs credentials create --agent` makes one."""
    import base64

    key, secret = uuid.uuid4().hex[:20], uuid.uuid4().hex
    await storage.credentials.add(Credential(
        key=key, name="learner-app", secret_hash=hash_secret(secret),
        scopes=frozenset(scopes or (Scope.STATEMENTS_READ_MINE,)), retention=Retention.FULL,
        authority=agent, created=datetime.now(UTC)))
    return {**V2, "Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode())
            .decode()}


async def post(client: Client, *statements: dict[str, Any],
               headers: dict[str, str] | None = None) -> None:
    response = await client.post("/xapi/statements", json=list(statements), headers=headers)
    assert response.status_code == 200, response.text


async def world(client: Client, storage: Storage) -> tuple[dict[str, str], list[str]]:
    """Alice's statements among others'; returns her credential and her statement ids."""
    alice, bob = make_agent("alice"), make_agent("bob")
    own = [make_statement(actor=alice, timestamp=f"2025-01-0{n}T00:00:00.000Z")
           for n in range(1, 4)]
    team = make_statement(actor={"objectType": "Group", "name": "Team",
                                 "member": [bob, alice]})
    about_her = make_statement(actor=bob, verb={"id": "http://example.com/verbs/mentored"},
                               object=alice, result=None, context=None)
    theirs = make_statement(actor=bob)
    voided = make_statement(actor=alice)
    await post(client, *own, team, about_her, theirs, voided)
    void = voiding(voided["id"])  # her own voiding statement (she is its actor)
    await post(client, void)
    headers = await learner_credential(storage, alice, Scope.STATEMENTS_READ_MINE,
                                       Scope.STATEMENTS_WRITE)
    # What her own credential sends is hers (she is its authority) whoever the actor is.
    vouched = make_statement(actor=make_agent("carol"))
    await post(client, vouched, headers=headers)
    tally = await add_credential(storage, Scope.STATEMENTS_WRITE, name="intranet",
                                 retention=Retention.TALLY)
    await post(client, make_statement(actor=alice, object={"id": "http://example.com/page"}),
               headers={**V2, **tally})
    return headers, [*(s["id"] for s in own), team["id"], void["id"], vouched["id"]]


async def test_read_mine_lists_authority_or_actor_and_nothing_else(
        client: Client, storage: Storage) -> None:
    headers, hers = await world(client, storage)
    listed = statements_of(await client.get("/xapi/statements", headers=headers))
    assert sorted(s["id"] for s in listed) == sorted(hers)
    # Page by page (pages may come short where the store's index over-approximates).
    seen: list[str] = []
    response = await client.get("/xapi/statements", headers=headers, params={"limit": "2"})
    while True:
        body = response.json()
        seen += [s["id"] for s in body["statements"]]
        if not body["more"]:
            break
        response = await client.get(body["more"], headers=headers)
    assert sorted(seen) == sorted(hers)


async def test_read_mine_single_lookup_hides_others(client: Client, storage: Storage) -> None:
    headers, hers = await world(client, storage)
    everything = statements_of(await client.get("/xapi/statements", params={"limit": "50"}))
    for statement in everything:
        response = await client.get("/xapi/statements", headers=headers,
                                    params={"statementId": statement["id"]})
        assert response.status_code == (200 if statement["id"] in hers else 404)


async def test_portfolio_archive_has_her_statements_as_json_and_html(
        client: Client, storage: Storage) -> None:
    headers, hers = await world(client, storage)
    nasty = make_statement(actor=make_agent("alice"), object={
        "id": "http://example.com/x", "definition": {
            "name": {"en-US": "<script>alert(1)</script> & co"}}})
    await post(client, nasty)
    response = await client.get(PORTFOLIO, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["portfolio.html", "statements.json"]
    statements = orjson.loads(archive.read("statements.json"))
    assert sorted(s["id"] for s in statements) == sorted([*hers, nasty["id"]])
    page = archive.read("portfolio.html").decode()
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert page.count("<tr><td>") == len(hers) + 1
    assert "Bob" not in page  # his statement about her (she is its object) is not hers
    html = await client.get(PORTFOLIO, headers=headers, params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert html.text == page
    as_json = await client.get(PORTFOLIO, headers=headers, params={"format": "json"})
    assert as_json.json() == statements


async def test_portfolio_never_holds_tallied_activity(client: Client, storage: Storage) -> None:
    headers, _ = await world(client, storage)
    statements = (await client.get(PORTFOLIO, headers=headers,
                                   params={"format": "json"})).json()
    assert "http://example.com/page" not in {s["object"]["id"] for s in statements
                                             if "id" in s["object"]}


async def test_portfolio_needs_the_scope_and_known_parameters(
        settings: Settings, storage: Storage) -> None:
    writer = await add_credential(storage, Scope.STATEMENTS_WRITE, name="writer")
    learner = await learner_credential(storage, make_agent("alice"))
    async with app_client(settings, storage) as c:
        assert (await c.get(PORTFOLIO, headers=writer)).status_code == 403
        bad = await c.get(PORTFOLIO, headers=learner, params={"format": "pdf"})
        assert bad.status_code == 400 and "?format" in bad.text
        assert (await c.get(PORTFOLIO, headers=learner, params={"x": "1"})).status_code == 400
        empty = await c.get(PORTFOLIO, headers=learner, params={"format": "json"})
        assert empty.json() == []
