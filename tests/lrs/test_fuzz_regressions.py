"""Defects found by fuzzing (tests/fuzz, `make fuzz`), each kept as a regression test on
every engine."""

from __future__ import annotations

import pytest

from tests.conftest import Client
from tests.factories import make_statement

PAGE = "http://example.com/intranet/page"


async def test_beacon_with_null_type_counts_the_hit_without_a_type(client: Client) -> None:
    # Found by schemathesis: `"type": null` reached the counters as NULL and failed the
    # write (503); null is the same as leaving the optional field out.
    response = await client.post("/api/v1/hits", json={"activity": PAGE, "type": None,
                                                        "verb": None})
    assert response.status_code == 204, response.text
    summary = await client.get("/api/v1/aggregates/popular", params={"by": "hits"})
    assert summary.status_code == 200, summary.text
    assert [a["activity"] for a in summary.json()["activities"]] == [PAGE]


async def test_definition_extension_keys_bson_cannot_hold_are_kept(client: Client) -> None:
    # Found by Hypothesis on MongoDB: an activity definition whose extension holds a key
    # with a NUL (or `$ref`/`$id`, which PyMongo reads back as a DBRef) failed the canonical
    # definition's write with a 500; they are escaped as in statements.
    odd = {"\x00key": 1, "$ref": "x", "$id": 2, "~tilde": [{"$set": None}]}
    activity = {"objectType": "Activity", "id": PAGE, "definition": {
        "name": {"en": "page"}, "extensions": {"http://example.com/ext": odd}}}
    statement = make_statement(object=activity)
    response = await client.post("/xapi/statements", json=statement)
    assert response.status_code == 200, response.text
    canonical = await client.get("/xapi/activities", params={"activityId": PAGE})
    assert canonical.status_code == 200, canonical.text
    assert canonical.json()["definition"]["extensions"] == {"http://example.com/ext": odd}
    again = make_statement(object={**activity, "definition": {
        "description": {"en": "more"}, "extensions": {"http://example.com/ext": odd}}})
    assert (await client.post("/xapi/statements", json=again)).status_code == 200
    merged = (await client.get("/xapi/activities", params={"activityId": PAGE})).json()
    assert merged["definition"]["description"] == {"en": "more"}
    assert merged["definition"]["extensions"] == {"http://example.com/ext": odd}


@pytest.mark.parametrize("params", [{"to": "0001-01-01"},
                                    {"to": "0001-01-01", "from": "1757-02-15"},
                                    {"to": "0001-01-03", "from": "0001-01-01"}])
@pytest.mark.parametrize("report", ["popular", "summary"])
async def test_aggregates_window_at_the_start_of_time_is_400(
        client: Client, report: str, params: dict[str, str]) -> None:
    # Found by schemathesis: `to=0001-01-01` overflowed the default window's date (500).
    response = await client.get(f"/api/v1/aggregates/{report}", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["problems"][0]["path"] == "?to"


@pytest.mark.parametrize("number", [2**63, 2**64 - 1, 2**64, 2**70])
async def test_huge_integer_in_an_extension_is_never_a_server_error(
        client: Client, number: int) -> None:
    statement = make_statement()
    statement["result"]["extensions"] = {"http://example.com/n": number}
    response = await client.post("/xapi/statements", json=statement)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert "64" in response.text or "integer" in response.text.lower()
