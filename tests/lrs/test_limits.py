"""Request limits over HTTP, on every engine: sizes, counts, slow bodies, rate limits and
hostile JSON are each answered with the right 4xx naming what is wrong, and store nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest

from lrs.app import create_app
from lrs.config import Settings
from lrs.credentials import Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client, statements_of
from tests.factories import make_agent, make_statement
from tests.statements.test_attachments import CONTENT_TYPE, attachment_for, multipart, part

V2 = {"X-Experience-API-Version": "2.0.0"}
STATE = {"activityId": "http://example.com/a", "agent": orjson.dumps(make_agent()).decode(),
         "stateId": "bookmark"}


@asynccontextmanager
async def limited(settings: Settings, storage: Storage, **limits: Any) -> AsyncIterator[Client]:
    """A client (scope all) on an app with `limits` applied to its settings."""
    auth = await add_credential(storage, Scope.ALL)
    async with app_client(settings.model_copy(update=limits), storage,
                          headers={**auth, **V2}) as c:
        yield c


def assert_error(response: Any, status: int, *words: str) -> None:
    """The response is `status` with a message naming what is wrong."""
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    for word in words:
        assert word in message, message


async def count(c: Client) -> int:
    return len(statements_of(await c.get("/xapi/statements")))


async def test_batch_over_the_statement_limit_is_413_and_stores_nothing(
        settings: Settings, storage: Storage) -> None:
    async with limited(settings, storage, max_batch_statements=3) as c:
        over = await c.post("/xapi/statements", json=[make_statement() for _ in range(4)])
        assert_error(over, 413, "4 statements", "3 allowed")
        assert await count(c) == 0
        at = await c.post("/xapi/statements", json=[make_statement() for _ in range(3)])
        assert at.status_code == 200, at.text


async def test_attachments_have_their_own_limit_beside_the_body_limit(
        settings: Settings, storage: Storage) -> None:
    # The body limit (256 KiB in tests) is for statements; attachments may add their own.
    big = b"x" * (300 * 1024)
    statement = make_statement(attachments=[attachment_for(big)])
    body = multipart(orjson.dumps(statement), part(big))
    headers = {"Content-Type": CONTENT_TYPE}
    async with limited(settings, storage, max_attachment_bytes=200 * 1024) as c:
        refused = await c.post("/xapi/statements", content=body, headers=headers)
        assert_error(refused, 413, "attachments", str(200 * 1024))
        assert await count(c) == 0
    async with limited(settings, storage, max_attachment_bytes=400 * 1024) as c:
        accepted = await c.post("/xapi/statements", content=body, headers=headers)
        assert accepted.status_code == 200, accepted.text


async def test_statements_part_of_a_multipart_request_keeps_the_body_limit(
        settings: Settings, storage: Storage) -> None:
    statement = make_statement(attachments=[attachment_for(b"tiny")])
    statement["result"]["response"] = "y" * (300 * 1024)
    body = multipart(orjson.dumps(statement), part(b"tiny"))
    async with limited(settings, storage, max_attachment_bytes=1024 * 1024) as c:
        response = await c.post("/xapi/statements", content=body,
                                headers={"Content-Type": CONTENT_TYPE})
        assert_error(response, 413, "statements part")


async def test_document_over_its_limit_is_413_and_not_stored(
        settings: Settings, storage: Storage) -> None:
    async with limited(settings, storage, max_document_bytes=2048) as c:
        refused = await c.put("/xapi/activities/state", params=STATE, content=b"z" * 2049,
                              headers={"Content-Type": "application/octet-stream"})
        assert_error(refused, 413, "2048 bytes")
        assert refused.headers["connection"] == "close"
        assert (await c.get("/xapi/activities/state", params=STATE)).status_code == 404
        fits = await c.put("/xapi/activities/state", params=STATE, content=b"z" * 2048,
                           headers={"Content-Type": "application/octet-stream"})
        assert fits.status_code == 204, fits.text


async def test_per_credential_rate_limit_answers_429_with_retry_after(
        settings: Settings, storage: Storage) -> None:
    other = await add_credential(storage, Scope.ALL, name="other")
    async with limited(settings, storage, rate_limit_per_minute=3) as c:
        answers = [(await c.get("/xapi/statements")).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited_response = await c.get("/xapi/statements")
        assert_error(limited_response, 429, "too many requests")
        assert 1 <= int(limited_response.headers["retry-after"]) <= 20
        # Each credential has its own allowance.
        assert (await c.get("/xapi/statements", headers=other)).status_code == 200


async def test_rate_limit_is_off_by_default(client: Client) -> None:
    answers = {(await client.get("/xapi/about")).status_code for _ in range(5)}
    answers |= {(await client.get("/xapi/statements")).status_code for _ in range(100)}
    assert answers == {200}


HOSTILE: list[tuple[str, bytes, str]] = [
    ("deep nesting", orjson.dumps(make_statement()).replace(
        b'"completion":true', b'"extensions":{"http://e.com/x":' + b"[" * 10_000
        + b"]" * 10_000 + b'},"completion":true'), "recursion limit"),
    ("invalid UTF-8", orjson.dumps(make_statement()).replace(b"Alice", b"Al\xff\xfeice"),
     "not valid JSON"),
    ("lone surrogate", orjson.dumps(make_statement()).replace(b"Alice", b"Al\\ud800ice"),
     "not valid JSON"),
    ("NUL byte", b"\x00" + orjson.dumps(make_statement()), "JSON object"),
    ("truncated", orjson.dumps(make_statement())[:-20], "not valid JSON"),
]


@pytest.mark.parametrize(("what", "body", "word"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_statement_json_is_400_naming_the_problem(
        client: Client, what: str, body: bytes, word: str) -> None:
    response = await client.post("/xapi/statements", content=body,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    problems = response.json()["error"]["problems"]
    assert (problems and any(word in p["message"] for p in problems)) or \
        word in response.json()["error"]["message"], response.text
    assert await count(client) == 0


async def test_huge_string_under_the_body_limit_is_kept_whole(client: Client) -> None:
    statement = make_statement()
    statement["result"]["response"] = "é" * (100 * 1024)
    assert (await client.post("/xapi/statements", json=statement)).status_code == 200
    got = await client.get("/xapi/statements", params={"statementId": statement["id"]})
    assert got.json()["result"]["response"] == statement["result"]["response"]


async def test_hostile_json_in_documents_and_agent_parameters_is_400(client: Client) -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    merged = await client.post("/xapi/activities/state", params=STATE, content=deep,
                               headers={"Content-Type": "application/json"})
    assert_error(merged, 400, "JSON")
    for agent in ("[" * 10_000, '{"mbox": "mailto:a@b.c"'):
        response = await client.get("/xapi/statements", params={"agent": agent})
        assert_error(response, 400, "agent")
    not_utf8 = await client.get("/xapi/statements?agent=%FF%FE")
    assert_error(not_utf8, 400, "agent")


async def test_query_limits_are_capped(client: Client) -> None:
    await client.post("/xapi/statements", json=[make_statement() for _ in range(60)])
    huge = await client.get("/xapi/statements", params={"limit": "9" * 40})
    assert len(statements_of(huge)) == 50  # capped at the server's page size
    popular = await client.get("/api/v1/aggregates/popular", params={"limit": "1001"})
    assert_error(popular, 400, "limit")  # never a page past 1000


async def test_slow_body_is_answered_408_and_the_connection_closed(
        settings: Settings, storage: Storage) -> None:
    """A body that stops arriving (slow-loris) is cut off after the configured time."""
    auth = await add_credential(storage, Scope.ALL)
    app = create_app(settings.model_copy(update={"body_timeout_seconds": 0.2}),
                     storage=storage)
    sent: list[dict[str, Any]] = []
    stalled = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not stalled.is_set():
            stalled.set()
            return {"type": "http.request", "body": b'[{"actor":', "more_body": True}
        await asyncio.sleep(60)  # the client never sends the rest
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in {**auth, **V2}.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/xapi/statements", "raw_path":
             b"/xapi/statements", "query_string": b"", "root_path": "",
             "headers": [*headers, (b"content-type", b"application/json"),
                         (b"host", b"lrs.test")],
             "client": ("127.0.0.1", 1), "server": ("lrs.test", 80)}
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app(scope, receive, send), timeout=10)
    start = sent[0]
    assert start["status"] == 408
    assert (b"connection", b"close") in start["headers"]
    assert b"did not arrive within 0.2 seconds" in b"".join(m.get("body", b"") for m in sent)
