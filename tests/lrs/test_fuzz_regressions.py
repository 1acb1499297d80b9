"""Defects found by fuzzing (tests/fuzz, `make fuzz`), each kept as a regression test on
every engine."""

from __future__ import annotations

from tests.conftest import Client

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
