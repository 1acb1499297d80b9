"""Lite-tracking over HTTP on every engine: the retention chain, the tally, the aggregates
API, the catalogue API and the beacon (DESIGN §2-4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from lrs.credentials import Retention, Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client
from tests.factories import make_agent, make_statement, voiding

pytestmark = pytest.mark.usefixtures("engine")
PAGE = "http://intranet.example.com/pages/holiday-policy"
MANDATORY = "http://lms.example.com/courses/fire-safety"
VIEWED = "http://id.tincanapi.com/verb/viewed"
TODAY = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def viewed(learner: str, activity: str = PAGE, **overrides: Any) -> dict[str, Any]:
    """An intranet page view by `learner`, now."""
    return make_statement(actor=make_agent(learner), verb={"id": VIEWED},
                          object={"id": activity, "definition": {
                              "name": {"en": "Holiday policy"},
                              "type": "http://adlnet.gov/expapi/activities/file"}},
                          result=None, timestamp=TODAY,
                          context={"platform": "intranet"}, **overrides)


@pytest.fixture
async def tally(storage: Storage) -> dict[str, str]:
    """Headers of a credential whose statements are tallied by default (and which may
    define activities, so names reach the dashboard)."""
    return await add_credential(storage, Scope.STATEMENTS_WRITE, Scope.STATEMENTS_READ,
                                Scope.DEFINE,
                                name="intranet", retention=Retention.TALLY)


@pytest.fixture
async def reader(storage: Storage) -> dict[str, str]:
    """Headers of a dashboard credential."""
    return await add_credential(storage, Scope.AGGREGATES_READ, name="dashboard")


async def popular(client: Client, reader: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/aggregates/popular", params=params, headers=reader)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["activities"]
    return rows


async def test_tallied_statement_is_counted_not_kept(
    client: Client, tally: dict[str, str], reader: dict[str, str],
) -> None:
    statements = [viewed(f"learner{n}") for n in range(7)]
    response = await client.post("/xapi/statements", json=statements, headers=tally)
    assert response.status_code == 200
    assert response.json() == [s["id"] for s in statements]  # the same answer as when kept
    got = await client.get("/xapi/statements", params={"statementId": statements[0]["id"]},
                           headers=tally)
    assert got.status_code == 404
    assert (await client.get("/xapi/statements", headers=tally)).json()["statements"] == []
    rows = await popular(client, reader)
    assert rows == [{"activity": PAGE, "name": {"en": "Holiday policy"}, "hits": 7,
                     "learner_periods": 7}]


async def test_retry_is_not_counted_twice_and_changed_content_is_409(
    client: Client, tally: dict[str, str], reader: dict[str, str],
) -> None:
    batch = [viewed(f"r{n}") for n in range(6)]
    for _ in range(3):
        assert (await client.post("/xapi/statements", json=batch, headers=tally)
                ).status_code == 200
    assert (await popular(client, reader))[0]["hits"] == 6
    changed = {**batch[0], "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}}
    response = await client.post("/xapi/statements", json=changed, headers=tally)
    assert response.status_code == 409
    assert (await popular(client, reader))[0]["hits"] == 6


async def test_voiding_a_tallied_statement_takes_its_hit_back(
    client: Client, tally: dict[str, str], reader: dict[str, str],
) -> None:
    batch = [viewed(f"v{n}") for n in range(7)]
    await client.post("/xapi/statements", json=batch, headers=tally)
    response = await client.post("/xapi/statements", json=voiding(batch[0]["id"]), headers=tally)
    assert response.status_code == 200
    assert (await popular(client, reader))[0]["hits"] == 6


async def test_small_groups_are_suppressed(
    client: Client, tally: dict[str, str], reader: dict[str, str],
) -> None:
    await client.post("/xapi/statements", json=[viewed("a"), viewed("b")], headers=tally)
    rows = await popular(client, reader)
    assert rows[0]["hits"] == {"fewer_than": 5} and rows[0]["learner_periods"] == {"fewer_than": 5}


async def test_catalogue_entries_are_kept_in_full(
    client: Client, storage: Storage, tally: dict[str, str],
) -> None:
    admin = await add_credential(storage, Scope.ADMIN, name="admin")
    document = {"version": 1, "entries": [{"kind": "prefix", "value": MANDATORY}]}
    added = await client.post("/api/v1/catalogue", json=document, headers=admin)
    assert added.status_code == 200, added.text
    mandatory = viewed("carol", activity=MANDATORY + "/module-1")
    await client.post("/xapi/statements", json=[mandatory, viewed("carol")], headers=tally)
    kept = await client.get("/xapi/statements", params={"statementId": mandatory["id"]},
                            headers=tally)
    assert kept.status_code == 200 and kept.json()["actor"]["mbox"] == "mailto:carol@example.com"
    listing = await client.get("/api/v1/catalogue", headers=admin)
    assert listing.json()["entries"][0]["value"] == MANDATORY
    bad = await client.post("/api/v1/catalogue", headers=admin,
                            json={"version": 1, "entries": [{"kind": "exact", "value": "x"}]})
    assert bad.status_code == 400 and "entries[0]" in bad.text
    assert (await client.get("/api/v1/catalogue", headers=tally)).status_code == 403


async def test_series_and_summary(client: Client, tally: dict[str, str],
                                  reader: dict[str, str]) -> None:
    await client.post("/xapi/statements", json=[viewed(f"s{n}") for n in range(5)],
                      headers=tally)
    series = await client.get("/api/v1/aggregates/series", headers=reader,
                              params={"activity": PAGE, "granularity": "hour"})
    assert [p["hits"] for p in series.json()["points"]] == [5]
    summary = (await client.get("/api/v1/aggregates/summary", headers=reader)).json()
    assert summary["by_verb"] == {VIEWED: 5} and summary["statements"]["tally"] == 5
    for params in ({"from": "yesterday"}, {"by": "views"}, {"limit": "0"}, {"bogus": "1"}):
        response = await client.get("/api/v1/aggregates/popular", params=params, headers=reader)
        assert response.status_code == 400, params


async def test_beacon_counts_a_hit(client: Client, storage: Storage,
                                   reader: dict[str, str]) -> None:
    beacon = await add_credential(storage, Scope.HITS_WRITE, name="beacon")
    for _ in range(5):
        response = await client.post("/api/v1/hits", json={"activity": PAGE}, headers=beacon)
        assert response.status_code == 204, response.text
    pixel = await client.get("/api/v1/hits/pixel.gif", params={"activity": PAGE},
                             headers=beacon)
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    assert (await popular(client, reader))[0]["hits"] == 6
    assert (await client.post("/api/v1/hits", json={"activity": "no-iri"}, headers=beacon)
            ).status_code == 400
    anonymous = {"Authorization": ""}
    assert (await client.post("/api/v1/hits", json={"activity": PAGE}, headers=anonymous)
            ).status_code == 401


async def test_about_advertises_the_retention_policy(client: Client) -> None:
    about = (await client.get("/xapi/about")).json()
    policy = about["extensions"]["https://tally-lrs.org/xapi/extensions/retention"]
    assert policy["tallied_statements_retrievable"] is False


async def test_openapi_document_is_served(client: Client) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/aggregates/popular" in document["paths"]


async def test_tallied_hits_carry_no_identity_to_plugins(storage: Storage, settings: Any
                                                         ) -> None:
    """A plugin sees kept statements in full, and of tallied ones only anonymous hits."""

    from plugins.hookspecs import hookimpl
    from plugins.manager import make_plugin_manager

    seen: list[Any] = []

    class Spy:
        @hookimpl
        def lrs_hits_tallied(self, hits: list[Any], credential_name: str) -> None:
            seen.extend(hits)

    auth = await add_credential(storage, Scope.STATEMENTS_WRITE, retention=Retention.TALLY)
    manager = make_plugin_manager(load_entry_points=False, extra=(Spy(),))
    async with app_client(settings, storage, plugin_manager=manager) as c:
        await c.post("/xapi/statements", json=viewed("zed"),
                     headers={**auth, "X-Experience-API-Version": "2.0.0"})
    assert len(seen) == 1 and "zed" not in orjson.dumps(seen[0].__dict__).decode()


async def test_beacon_from_an_allowed_origin_is_rate_limited(storage: Storage,
                                                             settings: Any) -> None:


    limited = settings.model_copy(update={"beacon_origins": ["https://intranet.example.com"],
                                          "beacon_hits_per_minute": 3})
    page = {"Referer": "https://intranet.example.com/pages/holiday-policy?x=1"}
    async with app_client(limited, storage) as c:
        statuses = [(await c.get("/api/v1/hits/pixel.gif", params={"activity": PAGE},
                                 headers=page)).status_code for _ in range(4)]
        limited_response = await c.get("/api/v1/hits/pixel.gif", params={"activity": PAGE},
                                       headers=page)
        stranger = await c.post("/api/v1/hits", json={"activity": PAGE},
                                headers={"Origin": "https://elsewhere.example.com"})
    assert statuses == [200, 200, 200, 429]
    assert int(limited_response.headers["retry-after"]) >= 1
    assert stranger.status_code == 401


async def test_tallied_statements_name_their_object_only(
    client: Client, tally: dict[str, str],
) -> None:
    course = "http://lms.example.com/courses/onboarding"
    statement = viewed("namer")
    statement["context"]["contextActivities"] = {
        "parent": [{"id": course, "definition": {"name": {"en": "Onboarding"}}}]}
    statement["object"]["definition"]["extensions"] = {"http://e.com/x": "free text"}
    assert (await client.post("/xapi/statements", json=statement,
                              headers=tally)).status_code == 200

    async def definition(activity: str) -> dict[str, Any]:
        response = await client.get("/xapi/activities", params={"activityId": activity},
                                    headers=tally)
        assert response.status_code == 200
        found: dict[str, Any] = response.json().get("definition", {})
        return found

    assert await definition(PAGE) == {"name": {"en": "Holiday policy"},
                                      "type": "http://adlnet.gov/expapi/activities/file"}
    assert await definition(course) == {}  # a tallied statement's context names nothing
