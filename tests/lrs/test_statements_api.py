"""The Statements resource over HTTP, in the test's event loop, on every engine."""

from __future__ import annotations

import json
import uuid
from typing import Any

import orjson
import pytest

from lrs.credentials import Scope
from lrs.storage import Storage
from statements.attachments import parse_multipart
from tests.conftest import Client, add_credential, statements_of
from tests.factories import make_agent, make_statement, voiding
from tests.statements.test_attachments import (
    CONTENT_TYPE,
    DATA,
    attachment_for,
    multipart,
    part,
)

pytestmark = pytest.mark.usefixtures("engine")


async def post(client: Client, body: Any, **kwargs: Any) -> list[str]:
    response = await client.post("/xapi/statements", json=body, **kwargs)
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()
    return ids


async def test_post_statements_returns_ids_in_order_and_stores_them(client: Client) -> None:
    sent = [make_statement(), make_statement(id=None), make_statement()]
    ids = await post(client, sent)
    assert ids[0] == sent[0]["id"] and ids[2] == sent[2]["id"]
    uuid.UUID(ids[1])
    for statement_id in ids:
        response = await client.get("/xapi/statements", params={"statementId": statement_id})
        assert response.json()["id"] == statement_id
        assert response.headers["last-modified"]


async def test_put_statement_answers_204_and_a_repeat_is_a_no_op(client: Client) -> None:
    statement = make_statement(id=None)
    statement_id = str(uuid.uuid4())
    for _ in range(2):
        response = await client.put("/xapi/statements", params={"statementId": statement_id},
                                    json=statement)
        assert response.status_code == 204, response.text
    changed = {**statement, "result": {"completion": False}}
    response = await client.put("/xapi/statements", params={"statementId": statement_id},
                                json=changed)
    assert response.status_code == 409
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(("params", "status"), [
    ({}, 400),
    ({"statementId": "nope"}, 400),
    ({"statementId": str(uuid.uuid4()), "extra": "1"}, 400),
])
async def test_put_statement_parameter_errors(client: Client, params: dict[str, str],
                                              status: int) -> None:
    response = await client.put("/xapi/statements", params=params, json=make_statement(id=None))
    assert response.status_code == status


async def test_put_statement_body_id_must_match_parameter(client: Client) -> None:
    response = await client.put("/xapi/statements", params={"statementId": str(uuid.uuid4())},
                                json=make_statement())
    assert response.status_code == 400


async def test_post_batch_with_one_bad_statement_stores_nothing(client: Client) -> None:
    good = make_statement()
    bad = make_statement(verb={"id": "not an iri"})
    response = await client.post("/xapi/statements", json=[good, bad])
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["path"] == "$[1].verb.id"
    missing = await client.get("/xapi/statements", params={"statementId": good["id"]})
    assert missing.status_code == 404


async def test_post_batch_with_a_repeated_id_is_rejected(client: Client) -> None:
    statement = make_statement()
    response = await client.post("/xapi/statements", json=[statement, statement])
    assert response.status_code == 400


async def test_post_conflicting_id_is_409_and_changes_nothing(client: Client) -> None:
    statement = make_statement()
    await post(client, statement)
    fresh = make_statement()
    response = await client.post("/xapi/statements", json=[fresh, {**statement, "result": {}}])
    assert response.status_code == 409
    assert (await client.get("/xapi/statements", params={"statementId": fresh["id"]})
            ).status_code == 404


async def test_repost_with_converted_timestamp_and_shuffled_members_is_equal(
    client: Client,
) -> None:
    group = {"objectType": "Group", "member": [make_agent("a"), make_agent("b")]}
    statement = make_statement(actor=group, timestamp="2026-01-02T03:04:05.678Z")
    await post(client, statement)
    again = {**statement, "timestamp": "2026-01-01T22:04:05.678-05:00",
             "actor": {**group, "member": group["member"][::-1]},
             "verb": {**statement["verb"], "display": {"en-GB": "completed"}}}
    assert await post(client, again) == [statement["id"]]


async def test_lrs_set_properties(client: Client) -> None:
    statement = make_statement(timestamp="2026-01-02T03:04:05-05:00", stored="2000-01-01T00:00:00Z",
                               version=None, context={"contextActivities": {
                                   "parent": {"id": "http://example.com/p"}}})
    await post(client, statement)
    got = (await client.get("/xapi/statements", params={"statementId": statement["id"]})).json()
    assert got["timestamp"] == "2026-01-02T08:04:05.000Z"  # UTC, with milliseconds
    assert got["stored"] != "2000-01-01T00:00:00Z" and got["stored"].endswith("Z")
    assert got["version"] == "2.0.0"
    assert got["authority"]["account"]["homePage"] == "http://lrs.test"
    assert got["context"]["contextActivities"]["parent"] == [{"id": "http://example.com/p"}]


async def test_version_header_is_required_and_always_echoed(client: Client) -> None:
    for version, status in (("1.0.3", 200), ("1.0", 200), ("2.0", 200), ("1.1.0", 400),
                            ("0.95", 400), ("2.1.0", 400)):
        response = await client.get("/xapi/statements",
                                    headers={"X-Experience-API-Version": version})
        assert response.status_code == status, version
        assert response.headers["x-experience-api-version"] in ("1.0.3", "2.0.0")
        assert "x-experience-api-consistent-through" in response.headers
    del client.headers["X-Experience-API-Version"]
    response = await client.get("/xapi/statements")
    assert response.status_code == 400
    assert response.headers["x-experience-api-version"] == "2.0.0"  # the configured default
    about = await client.get("/xapi/about")
    assert about.status_code == 200 and "2.0.0" in about.json()["version"]


async def test_get_statements_rejects_unknown_and_miscased_parameters(client: Client) -> None:
    for params in ({"StatementId": str(uuid.uuid4())}, {"Agent": "{}"}, {"foo": "1"},
                   {"statementId": str(uuid.uuid4()), "verb": "http://e.com/v"},
                   {"statementId": str(uuid.uuid4()), "voidedStatementId": str(uuid.uuid4())},
                   {"since": "yesterday"}, {"limit": "-1"}, {"format": "Exact"},
                   {"agent": '{"name": "no ifi"}'}, {"ascending": "yes"}):
        response = await client.get("/xapi/statements", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["problems"][0]["path"].startswith("?")


async def test_voided_statements_only_by_voided_statement_id(client: Client) -> None:
    target = make_statement()
    void = voiding(target["id"])
    await post(client, [target, void])
    assert (await client.get("/xapi/statements", params={"statementId": target["id"]})
            ).status_code == 404
    response = await client.get("/xapi/statements", params={"voidedStatementId": target["id"]})
    assert response.status_code == 200 and response.json()["id"] == target["id"]
    listed = statements_of(await client.get("/xapi/statements"))
    assert [s["id"] for s in listed] == [void["id"]]


async def test_more_link_pages_through_everything(client: Client) -> None:
    sent = [make_statement() for _ in range(120)]
    await post(client, sent)
    seen: list[str] = []
    response = await client.get("/xapi/statements", params={"limit": "0"})  # server max: 50
    while True:
        body = response.json()
        seen += [s["id"] for s in body["statements"]]
        if not body["more"]:
            break
        assert body["more"].startswith("/xapi/statements?more=")
        response = await client.get(body["more"])
    assert sorted(seen) == sorted(s["id"] for s in sent)
    assert len(seen) == len(set(seen))


async def test_formats_ids_and_canonical(client: Client) -> None:
    statement = make_statement()
    await post(client, statement)
    ids = (await client.get("/xapi/statements", params={
        "statementId": statement["id"], "format": "ids"})).json()
    assert ids["object"] == {"id": statement["object"]["id"]}
    assert ids["verb"] == {"id": statement["verb"]["id"]}
    assert "name" not in ids["actor"]
    canonical = (await client.get("/xapi/statements", params={
        "statementId": statement["id"], "format": "canonical"},
        headers={"Accept-Language": "fr-FR, en;q=0.5"})).json()
    assert canonical["verb"]["display"] == {"fr-FR": "a terminé"}
    assert canonical["object"]["definition"]["name"] == {"fr-FR": "Sécurité incendie"}


async def test_auth_is_required_and_scopes_apply(client: Client, storage: Storage) -> None:
    anonymous = {"X-Experience-API-Version": "1.0.3"}
    response = await client.get("/xapi/statements", headers={**anonymous, "Authorization": ""})
    assert response.status_code == 401
    bad = await client.get("/xapi/statements",
                           headers={**anonymous, "Authorization": "Basic dXNlcjpwYXNz"})
    assert bad.status_code == 401
    writer = await add_credential(storage, Scope.STATEMENTS_WRITE, name="writer")
    assert (await client.get("/xapi/statements", headers=writer)).status_code == 403
    assert (await client.post("/xapi/statements", headers=writer,
                              json=make_statement())).status_code == 200


async def test_read_mine_sees_only_its_own_statements(client: Client, storage: Storage) -> None:
    mine_auth = await add_credential(storage, Scope.STATEMENTS_WRITE, Scope.STATEMENTS_READ_MINE,
                                     name="mine")
    theirs = make_statement()
    await post(client, theirs)
    mine = make_statement()
    await post(client, mine, headers=mine_auth)
    listed = statements_of(await client.get("/xapi/statements", headers=mine_auth))
    assert [s["id"] for s in listed] == [mine["id"]]
    response = await client.get("/xapi/statements", headers=mine_auth,
                                params={"statementId": theirs["id"]})
    assert response.status_code == 404


async def test_body_over_the_limit_is_413(client: Client) -> None:
    huge = make_statement(result={"response": "x" * 300_000})
    response = await client.post("/xapi/statements", json=huge)
    assert response.status_code == 413


async def test_statements_need_json_content_type(client: Client) -> None:
    response = await client.post("/xapi/statements", content=b"{}",
                                 headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 400


async def test_head_answers_like_get(client: Client) -> None:
    response = await client.head("/xapi/statements")
    assert response.status_code == 200
    assert response.headers["x-experience-api-version"] == "2.0.0"


async def test_alternate_request_syntax_in_1_0_3(client: Client) -> None:
    statement = make_statement(id=None)
    statement_id = str(uuid.uuid4())
    auth = client.headers["Authorization"]
    del client.headers["Authorization"]
    form = {"method": "PUT"}
    data = {"statementId": statement_id, "content": orjson.dumps(statement).decode(),
            "Authorization": auth, "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json"}
    response = await client.post("/xapi/statements", params=form, data=data,
                                 headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 204, response.text
    got = await client.post("/xapi/statements", params={"method": "GET"}, data={
        "statementId": statement_id, "Authorization": auth,
        "X-Experience-API-Version": "1.0.3"})
    assert got.status_code == 200 and got.json()["id"] == statement_id
    extra = await client.post("/xapi/statements", params={"method": "GET", "limit": "1"},
                              data={"Authorization": auth, "X-Experience-API-Version": "1.0.3"})
    assert extra.status_code == 400
    in_2_0 = await client.post("/xapi/statements", params={"method": "GET"}, data={
        "Authorization": auth, "X-Experience-API-Version": "2.0.0"})
    assert in_2_0.status_code == 400


async def test_multipart_post_stores_attachments_and_get_returns_them(client: Client) -> None:
    statement = make_statement(attachments=[attachment_for(DATA)])
    response = await client.post("/xapi/statements", content=multipart(
        orjson.dumps(statement), part(DATA)), headers={"Content-Type": CONTENT_TYPE})
    assert response.status_code == 200, response.text
    got = await client.get("/xapi/statements", params={"statementId": statement["id"],
                                                       "attachments": "true"})
    assert got.headers["content-type"].startswith("multipart/mixed; boundary=")
    parsed = parse_multipart(got.content, got.headers["content-type"])
    assert [a.data for a in parsed.attachments] == [DATA]
    listed = await client.get("/xapi/statements", params={"attachments": "true"})
    assert [a.data for a in parse_multipart(listed.content,
                                            listed.headers["content-type"]).attachments] == [DATA]
    plain = await client.get("/xapi/statements", params={"attachments": "false"})
    assert plain.headers["content-type"] == "application/json"


async def test_json_post_with_raw_attachment_is_rejected(client: Client) -> None:
    response = await client.post("/xapi/statements",
                                 json=make_statement(attachments=[attachment_for(DATA)]))
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["path"] == "$[0].attachments[0].sha2"


async def test_more_token_is_validated_and_its_limit_capped(client: Client) -> None:
    import base64

    await post(client, [make_statement() for _ in range(60)])
    forged = {"limit": 10_000, "after": [9_999_999_999_999, 1], "format": "exact"}
    token = base64.urlsafe_b64encode(orjson.dumps(forged)).decode().rstrip("=")
    response = await client.get("/xapi/statements", params={"more": token})
    assert len(statements_of(response)) == 50  # the server maximum, not the forged limit
    for bad in ("garbage!", base64.urlsafe_b64encode(b'{"limit": "x"}').decode(),
                base64.urlsafe_b64encode(b'{"rogue": 1}').decode()):
        response = await client.get("/xapi/statements", params={"more": bad})
        assert response.status_code == 400, bad


async def test_unknown_paths_and_methods_answer_json_with_the_version(client: Client) -> None:
    missing = await client.get("/xapi/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    assert missing.headers["x-experience-api-version"] == "2.0.0"
    wrong = await client.delete("/xapi/statements")
    assert wrong.status_code == 405 and wrong.json()["error"]["message"]


async def test_cors_preflight_needs_no_credentials_or_version(client: Client) -> None:
    response = await client.options("/xapi/statements", headers={
        "Origin": "https://intranet.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, X-Experience-API-Version"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://intranet.example.com")


async def test_integers_beyond_64_bits_are_a_400_not_a_500(client: Client) -> None:
    statement = make_statement(result={"extensions": {"http://e.com/x": 2**70}})
    body = json.dumps(statement).encode()  # the standard library writes integers of any size
    response = await client.post("/xapi/statements", content=body,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "too large" in response.json()["error"]["message"]
