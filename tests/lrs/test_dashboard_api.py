"""The parts of the aggregates API the dashboard reads, on every engine: filtered series and
summary, never-opened activities, and completions of mandatory activities (counts only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lrs.credentials import Retention, Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential
from tests.factories import make_agent, make_statement, voiding

pytestmark = pytest.mark.usefixtures("engine")
VIEWED = "http://id.tincanapi.com/verb/viewed"
LIKED = "http://activitystrea.ms/schema/1.0/like"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
PAGES = "http://intranet.example.com/pages/"
FIRE = "http://lms.example.com/courses/fire-safety"
DATA = "http://lms.example.com/courses/data-protection"
NOW = datetime.now(UTC)


def stamp(days_ago: int = 0) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hit(learner: str, page: str, *, verb: str = VIEWED, platform: str = "intranet",
        days_ago: int = 0, name: str | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": "http://adlnet.gov/expapi/activities/file"}
    if name:
        definition["name"] = {"en": name}
    return make_statement(actor=make_agent(learner), verb={"id": verb},
                          object={"id": PAGES + page, "definition": definition},
                          result=None, context={"platform": platform},
                          timestamp=stamp(days_ago))


def completion(learner: str, course: str, *, days_ago: int = 0, verb: str = COMPLETED,
               **overrides: Any) -> dict[str, Any]:
    return make_statement(actor=make_agent(learner), verb={"id": verb},
                          object={"id": course, "definition": {"name": {"en": "Fire safety"}}},
                          timestamp=stamp(days_ago), **overrides)


@pytest.fixture
async def intranet(storage: Storage) -> dict[str, str]:
    return await add_credential(storage, Scope.STATEMENTS_WRITE, Scope.DEFINE,
                                name="intranet", retention=Retention.TALLY)


@pytest.fixture
async def reader(storage: Storage) -> dict[str, str]:
    return await add_credential(storage, Scope.AGGREGATES_READ, name="dashboard")


async def post(client: Client, headers: dict[str, str], statements: list[dict[str, Any]]
               ) -> None:
    response = await client.post("/xapi/statements", json=statements, headers=headers)
    assert response.status_code == 200, response.text


async def get(client: Client, headers: dict[str, str], path: str, **params: str
              ) -> dict[str, Any]:
    response = await client.get(f"/api/v1/aggregates/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_catalogue(client: Client, storage: Storage, *values: str) -> None:
    admin = await add_credential(storage, Scope.ADMIN, name="admin")
    document = {"version": 1, "entries": [
        {"kind": "activity", "value": v, "name": f"Course {i}"} for i, v in enumerate(values)]}
    response = await client.post("/api/v1/catalogue", json=document, headers=admin)
    assert response.status_code == 200, response.text


async def test_series_and_summary_follow_the_filters(
    client: Client, intranet: dict[str, str], reader: dict[str, str],
) -> None:
    await post(client, intranet,
               [hit(f"v{n}", "a") for n in range(6)]
               + [hit(f"l{n}", "a", verb=LIKED, platform="social") for n in range(7)])
    everything = await get(client, reader, "series", activity=PAGES + "a")
    liked = await get(client, reader, "series", activity=PAGES + "a", verb=LIKED)
    assert [p["hits"] for p in everything["points"]] == [13]
    assert [p["hits"] for p in liked["points"]] == [7]
    social = await get(client, reader, "summary", platform="social")
    assert social["by_verb"] == {LIKED: 7} and social["by_platform"] == {"social": 7}
    both = await get(client, reader, "summary")
    assert both["by_verb"] == {VIEWED: 6, LIKED: 7}


async def test_unopened_lists_known_activities_without_hits_in_the_window(
    client: Client, storage: Storage, intranet: dict[str, str], reader: dict[str, str],
) -> None:
    await add_catalogue(client, storage, FIRE)
    await post(client, intranet, [hit("a", "old", days_ago=20, name="Old page"),
                                  hit("b", "fresh"), hit("c", "liked-only", verb=LIKED)])
    today = NOW.date().isoformat()
    body = await get(client, reader, "unopened", **{"from": today, "to": today})
    assert body["activities"] == [
        {"activity": PAGES + "old", "name": {"en": "Old page"}, "mandatory": False},
        {"activity": FIRE, "name": {"und": "Course 0"}, "mandatory": True}]
    assert body["total"] == 2
    # Over the default 7 days, under a verb filter: a page only liked was not viewed; the
    # old page was hit 20 days ago; limit cuts the list, total still counts them all.
    viewed = await get(client, reader, "unopened", verb=VIEWED, limit="2")
    assert [a["activity"] for a in viewed["activities"]] == [PAGES + "liked-only",
                                                             PAGES + "old"]
    assert viewed["total"] == 3
    # A mandatory activity is opened when a statement about it was kept in the window.
    await post(client, intranet, [completion("d", FIRE)])
    after = await get(client, reader, "unopened", **{"from": today, "to": today})
    assert [a["activity"] for a in after["activities"]] == [PAGES + "old"]
    launched = await get(client, reader, "unopened", verb=VIEWED)
    assert FIRE in [a["activity"] for a in launched["activities"]]


async def test_compliance_counts_people_who_completed_each_mandatory_activity(
    client: Client, storage: Storage, intranet: dict[str, str], reader: dict[str, str],
) -> None:
    await add_catalogue(client, storage, FIRE, DATA)
    done = [completion(f"p{n}", FIRE) for n in range(6)] + [completion("p0", FIRE)]
    await post(client, intranet, [
        *done, completion("q1", DATA), completion("q2", DATA),
        completion("late", FIRE, days_ago=30),  # outside the window
        completion("other", PAGES + "not-mandatory")])
    await post(client, intranet, [voiding(done[1]["id"])])
    body = await get(client, reader, "compliance")
    rows = {r["activity"]: r for r in body["activities"]}
    assert set(rows) == {FIRE, DATA}
    # p0 twice and p1 voided: five people, six statements.
    assert rows[FIRE]["learners"] == 5 and rows[FIRE]["statements"] == 6
    assert rows[FIRE]["name"] == {"en": "Fire safety"}
    assert rows[FIRE]["entry"] == {"kind": "activity", "value": FIRE, "name": "Course 0"}
    assert rows[DATA]["learners"] == {"fewer_than": 5}
    assert rows[DATA]["statements"] == {"fewer_than": 5}
    assert "mailto:" not in str(body) and "@" not in str(body)


async def test_compliance_counts_by_each_entrys_completion_rule(
    client: Client, storage: Storage, intranet: dict[str, str], reader: dict[str, str],
) -> None:
    # The summary judges statements as the roster report does (docs/compliance.md): FIRE
    # by the default rule, DATA by its own (verb passed with a scaled score of 0.8 or more).
    admin = await add_credential(storage, Scope.ADMIN, name="admin")
    document = {"version": 1, "entries": [
        {"kind": "activity", "value": FIRE, "name": "Fire"},
        {"kind": "activity", "value": DATA, "name": "Data",
         "completion": {"verbs": [PASSED], "min_score": 0.8}}]}
    response = await client.post("/api/v1/catalogue", json=document, headers=admin)
    assert response.status_code == 200, response.text
    await post(client, intranet, [
        *(completion(f"bare{n}", FIRE, result=None) for n in range(3)),  # no result: done
        *(completion(f"pass{n}", FIRE, verb=PASSED, result=None) for n in range(2)),
        completion("fail", FIRE, verb=FAILED, result={"success": False}),
        completion("try", FIRE, verb=ATTEMPTED, result=None),
        *(completion(f"good{n}", DATA, verb=PASSED, result={"score": {"scaled": 0.9}})
          for n in range(5)),
        completion("low", DATA, verb=PASSED, result={"score": {"scaled": 0.5}}),
        completion("plain", DATA, result=None)])  # `completed` is not DATA's rule
    rows = {r["activity"]: r for r in (await get(client, reader, "compliance"))["activities"]}
    assert rows[FIRE]["learners"] == 5 and rows[FIRE]["statements"] == 5
    assert rows[DATA]["learners"] == 5 and rows[DATA]["statements"] == 5


async def test_compliance_with_an_empty_catalogue_lists_nothing(
    client: Client, intranet: dict[str, str], reader: dict[str, str],
) -> None:
    await post(client, intranet, [completion("a", FIRE)])
    assert (await get(client, reader, "compliance"))["activities"] == []


@pytest.mark.parametrize(("path", "params", "named"), [
    ("unopened", {"limit": "0"}, "?limit"),
    ("unopened", {"verb": "not an iri"}, "?verb"),
    ("compliance", {"verb": COMPLETED}, "?verb"),
    ("compliance", {"from": "2026-13-01"}, "?from"),
    ("series", {"activity": PAGES + "a", "platform": "x", "bogus": "1"}, "?bogus"),
])
async def test_bad_parameters_are_400_naming_the_parameter(
    client: Client, reader: dict[str, str], path: str, params: dict[str, str], named: str,
) -> None:
    response = await client.get(f"/api/v1/aggregates/{path}", params=params, headers=reader)
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["path"] == named


@pytest.mark.parametrize("path", ["unopened", "compliance"])
async def test_the_new_aggregates_need_the_aggregates_scope(
    client: Client, intranet: dict[str, str], path: str,
) -> None:
    response = await client.get(f"/api/v1/aggregates/{path}", headers=intranet)
    assert response.status_code == 403


async def test_a_script_that_says_so_gets_no_basic_challenge(client: Client) -> None:
    plain = await client.get("/api/v1/aggregates/summary", headers={"Authorization": ""})
    script = await client.get("/api/v1/aggregates/summary",
                              headers={"Authorization": "", "X-Requested-With": "dashboard"})
    assert plain.status_code == script.status_code == 401
    assert "www-authenticate" in plain.headers
    assert "www-authenticate" not in script.headers
