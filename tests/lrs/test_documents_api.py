"""The document resources, Activities and Agents over HTTP, on every engine."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from lrs.credentials import DocumentPuts, Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential
from tests.factories import make_agent, make_statement

pytestmark = pytest.mark.usefixtures("engine")
AGENT = orjson.dumps(make_agent("dora")).decode()
ACTIVITY = "http://example.com/activities/intranet/page-7"
RESOURCES: list[tuple[str, dict[str, str], str]] = [
    ("/xapi/activities/state", {"activityId": ACTIVITY, "agent": AGENT}, "stateId"),
    ("/xapi/activities/profile", {"activityId": ACTIVITY}, "profileId"),
    ("/xapi/agents/profile", {"agent": AGENT}, "profileId"),
]
IDS = [path.removeprefix("/xapi/") for path, _, _ in RESOURCES]


@pytest.mark.parametrize(("path", "scope", "id_name"), RESOURCES, ids=IDS)
async def test_document_put_get_etag_and_list(client: Client, path: str, scope: dict[str, str],
                                              id_name: str) -> None:
    params = {**scope, id_name: "doc-1"}
    created = await client.put(path, params=params, content=b"<xml/>",
                               headers={"Content-Type": "application/xml",
                                        "If-None-Match": "*"})
    assert created.status_code == 204, created.text
    got = await client.get(path, params=params)
    assert got.status_code == 200 and got.content == b"<xml/>"
    assert got.headers["content-type"] == "application/xml"
    etag = got.headers["etag"]
    assert etag.startswith('"') and len(etag) == 42 and got.headers["last-modified"]
    listed = await client.get(path, params=scope)
    assert listed.json() == ["doc-1"] and listed.headers["etag"]
    stale = await client.put(path, params=params, content=b"new",
                             headers={"If-Match": '"' + "0" * 40 + '"'})
    assert stale.status_code == 412
    without = await client.put(path, params=params, content=b"new")
    assert without.status_code == 409  # xAPI 2.0: even for State
    fresh = await client.put(path, params=params, content=b"new", headers={"If-Match": etag})
    assert fresh.status_code == 204
    assert (await client.delete(path, params=params)).status_code == 204
    assert (await client.get(path, params=params)).status_code == 404


@pytest.mark.parametrize(("path", "scope", "id_name"), RESOURCES, ids=IDS)
async def test_document_post_merges_json(client: Client, path: str, scope: dict[str, str],
                                         id_name: str) -> None:
    params = {**scope, id_name: "merge"}
    for body in ({"a": 1, "b": {"x": 1}}, {"b": {"y": 2}, "c": 3}):
        response = await client.post(path, params=params, json=body)
        assert response.status_code == 204, response.text
    assert (await client.get(path, params=params)).json() == {"a": 1, "b": {"y": 2}, "c": 3}
    bad = await client.post(path, params=params, content=b"[1]",
                            headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["message"]


@pytest.mark.parametrize(("path", "params", "problem"), [
    ("/xapi/activities/state", {"agent": AGENT, "stateId": "s"}, "?activityId"),
    ("/xapi/activities/state", {"activityId": "no-iri", "agent": AGENT}, "?activityId"),
    ("/xapi/activities/state", {"activityId": ACTIVITY, "agent": '{"name": "x"}'}, "?agent"),
    ("/xapi/activities/state", {"activityId": ACTIVITY, "agent": "{not json"}, "?agent"),
    ("/xapi/activities/state", {"activityId": ACTIVITY, "agent": AGENT,
                                "registration": "nope"}, "?registration"),
    ("/xapi/activities/state", {"activityId": ACTIVITY, "agent": AGENT, "since": "x"}, "?since"),
    ("/xapi/activities/state", {"activityId": ACTIVITY, "agent": AGENT, "StateId": "s"},
     "?StateId"),
    ("/xapi/agents/profile", {"agent": orjson.dumps({"objectType": "Group",
                                                     "mbox": "mailto:g@e.com"}).decode()},
     "?agent.objectType"),
    ("/xapi/activities", {}, "?activityId"),
    ("/xapi/activities", {"activityId": "no-iri"}, "?activityId"),
    ("/xapi/agents", {}, "?agent"),
    ("/xapi/agents", {"agent": '{"mbox": "not-mailto"}'}, "?agent.mbox"),
])
async def test_document_bad_parameters_are_400_naming_the_parameter(
    client: Client, path: str, params: dict[str, str], problem: str,
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["problems"][0]["path"] == problem


async def test_state_delete_all_and_registration_scope(client: Client) -> None:
    scope = {"activityId": ACTIVITY, "agent": AGENT}
    registration = str(uuid.uuid4())
    await client.put("/xapi/activities/state", params={**scope, "stateId": "a"}, content=b"1")
    await client.put("/xapi/activities/state", params={**scope, "stateId": "b",
                                                       "registration": registration},
                     content=b"2")
    assert (await client.get("/xapi/activities/state", params=scope)).json() == ["a"]
    assert (await client.delete("/xapi/activities/state", params=scope)).status_code == 204
    assert (await client.get("/xapi/activities/state", params=scope)).json() == []
    kept = await client.get("/xapi/activities/state",
                            params={**scope, "registration": registration})
    assert kept.json() == ["b"]


async def test_state_put_without_precondition_follows_the_version(client: Client) -> None:
    params = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "v"}
    v1 = {"X-Experience-API-Version": "1.0.3"}
    for _ in range(2):  # 1.0.3 exempts State from the precondition (Communication §3.1.s3)
        assert (await client.put("/xapi/activities/state", params=params, content=b"x",
                                 headers=v1)).status_code == 204
    profile = {"activityId": ACTIVITY, "profileId": "p"}
    response = await client.put("/xapi/activities/profile", params=profile, content=b"x",
                                headers=v1)
    assert response.status_code == 400  # 1.0.3 profiles: a precondition is required


# Communication §3.1 (1.0.3; 2.0 L4.1.4), a PUT without If-Match/If-None-Match: (resource,
# version, whether the document exists) -> (status when strict, status when lenient).
# docs/compatibility.md has the reasons for each row.
PUT_WITHOUT_PRECONDITION = [
    ("/xapi/agents/profile", "1.0.3", False, 400, 204),  # the suite's 400; no LRS MUST
    ("/xapi/activities/profile", "1.0.3", False, 400, 204),
    ("/xapi/agents/profile", "1.0.3", True, 409, 409),  # §3.1.s4.b13: MUST 409 either way
    ("/xapi/activities/profile", "2.0.0", True, 409, 409),
    ("/xapi/agents/profile", "2.0.0", False, 204, 204),
    ("/xapi/activities/state", "1.0.3", True, 204, 204),  # §3.1.s3: State is exempt
    ("/xapi/activities/state", "2.0.0", True, 409, 204),  # the 2.0 suite's 409 (CTS #282)
    ("/xapi/activities/state", "2.0.0", False, 204, 204),
]


@pytest.mark.parametrize(("path", "version", "exists", "strict", "lenient"),
                         PUT_WITHOUT_PRECONDITION)
async def test_put_without_precondition_by_document_puts_setting(
        client: Client, storage: Storage, path: str, version: str, exists: bool,
        strict: int, lenient: int) -> None:
    scope = next(s for p, s, _ in RESOURCES if p == path)
    id_name = next(i for p, _, i in RESOURCES if p == path)
    params = {**scope, id_name: f"doc-{uuid.uuid4().hex[:8]}"}
    headers = {"X-Experience-API-Version": version}
    answers = []
    for puts in (DocumentPuts.STRICT, DocumentPuts.LENIENT):
        auth = await add_credential(storage, Scope.ALL, name=f"c-{puts.value}",
                                    document_puts=puts)
        params[id_name] = f"doc-{uuid.uuid4().hex[:8]}"
        if exists:  # made with a precondition, as a careful client would
            made = await client.put(path, params=params, content=b"old",
                                    headers={**auth, **headers, "If-None-Match": "*"})
            assert made.status_code == 204, made.text
        answer = await client.put(path, params=params, content=b"new",
                                  headers={**auth, **headers})
        answers.append(answer.status_code)
        read = await client.get(path, params=params, headers={**auth, **headers})
        if answer.status_code == 204:
            assert read.content == b"new"
        elif exists:  # refused: nothing changed
            assert read.content == b"old"
        else:
            assert read.status_code == 404
    assert answers == [strict, lenient]


async def test_document_scope_is_required(client: Client, storage: Storage) -> None:
    reader = await add_credential(storage, Scope.STATEMENTS_READ, name="reader")
    params = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
    response = await client.put("/xapi/activities/state", params=params, content=b"x",
                                headers=reader)
    assert response.status_code == 403


async def test_activities_return_the_canonical_definition(client: Client) -> None:
    def sent(name: dict[str, str]) -> dict[str, Any]:
        return make_statement(object={"id": ACTIVITY, "definition": {"name": name}})

    for name in ({"en-US": "Page seven"}, {"fr-FR": "Page sept"}):
        assert (await client.post("/xapi/statements", json=sent(name))).status_code == 200
    got = await client.get("/xapi/activities", params={"activityId": ACTIVITY})
    assert got.json() == {"objectType": "Activity", "id": ACTIVITY, "definition": {
        "name": {"en-US": "Page seven", "fr-FR": "Page sept"}}}
    unknown = await client.get("/xapi/activities", params={"activityId": "http://e.com/new"})
    assert unknown.json() == {"objectType": "Activity", "id": "http://e.com/new"}
    canonical = await client.get("/xapi/statements", params={"format": "canonical"},
                                 headers={"Accept-Language": "fr-FR"})
    names = {s["object"]["definition"]["name"]["fr-FR"]
             for s in canonical.json()["statements"]}
    assert names == {"Page sept"}


async def test_agents_returns_a_person(client: Client) -> None:
    agent = make_agent("erin")
    await client.post("/xapi/statements", json=make_statement(actor={**agent, "name": "E. R."}))
    response = await client.get("/xapi/agents", params={"agent": orjson.dumps(agent).decode()})
    assert response.json() == {"objectType": "Person", "name": ["Erin", "E. R."],
                               "mbox": [agent["mbox"]]}
