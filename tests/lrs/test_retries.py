"""Retries and duplicates, on every engine: the same batch sent twice at once, a retried
PUT, and interleaved conflicting ids: nothing doubled (kept or tallied), conflicts are 409
and leave nothing half-written (Communication §2.1.1, §2.1.2; DESIGN §4)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.storage import Storage
from tests.conftest import (
    Client,
    add_credential,
    app_client,
    scrape,
    statements_of,
    with_metrics_token,
)
from tests.factories import make_statement

V2 = {"X-Experience-API-Version": "2.0.0"}


def about(activity: str, **overrides: Any) -> dict[str, Any]:
    """A statement about `activity`, counted in this hour (no timestamp: `stored` is used)."""
    return make_statement(**{"object": {"objectType": "Activity", "id": activity},
                             "context": {"platform": "retry"}, "timestamp": None,
                             **overrides})


async def all_ids(c: Client) -> list[str]:
    return [s["id"] for s in statements_of(await c.get("/xapi/statements",
                                                       params={"limit": "0"}))]


async def hits(c: Client, activity: str) -> int:
    response = await c.get("/api/v1/aggregates/popular", params={"by": "hits"})
    rows = {r["activity"]: r["hits"] for r in response.json()["activities"]}
    value = rows.get(activity, 0)
    return value if isinstance(value, int) else 0


@pytest.mark.parametrize("retention", [Retention.FULL, Retention.TALLY])
async def test_same_batch_sent_concurrently_is_kept_or_counted_once(
        settings: Settings, storage: Storage, retention: Retention) -> None:
    writer = await add_credential(storage, Scope.ALL, retention=retention)
    activity = f"http://example.com/retry/{uuid.uuid4()}"
    sent = [about(activity) for _ in range(6)]
    quiet = with_metrics_token(settings).model_copy(update={"suppression_threshold": 1})
    async with app_client(quiet, storage, headers={**writer, **V2}) as c:
        answers = await asyncio.gather(*(c.post("/xapi/statements", json=sent)
                                         for _ in range(4)))
        assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
        assert all(a.json() == [s["id"] for s in sent] for a in answers)
        if retention is Retention.FULL:
            ids = await all_ids(c)
            assert sorted(ids) == sorted(s["id"] for s in sent)
        else:
            assert await all_ids(c) == []
            assert await hits(c, activity) == len(sent)


@pytest.mark.parametrize("retention", [Retention.FULL, Retention.TALLY])
async def test_interleaved_conflicting_ids_are_409_and_write_nothing(
        settings: Settings, storage: Storage, retention: Retention) -> None:
    writer = await add_credential(storage, Scope.ALL, retention=retention)
    activity = f"http://example.com/retry/{uuid.uuid4()}"
    shared = str(uuid.uuid4())
    quiet = with_metrics_token(settings).model_copy(update={"suppression_threshold": 1})
    async with app_client(quiet, storage, headers={**writer, **V2}) as c:
        # Two batches race, each holding the shared id with different content, and ids of
        # their own: exactly one wins whole, the other is 409 and writes none of its own.
        first = [about(activity, id=shared, result={"response": "first"}), about(activity)]
        second = [about(activity), about(activity, id=shared, result={"response": "second"})]
        answers = await asyncio.gather(c.post("/xapi/statements", json=first),
                                       c.post("/xapi/statements", json=second))
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409], [a.text for a in answers]
        loser = first if answers[0].status_code == 409 else second
        winner = second if loser is first else first
        refused = answers[0] if loser is first else answers[1]
        assert shared in refused.json()["error"]["message"]
        if retention is Retention.FULL:
            assert sorted(await all_ids(c)) == sorted(s["id"] for s in winner)
        else:
            assert await hits(c, activity) == len(winner)
        # The loser's own statement was not written: sent again alone, it is new.
        alone = next(s for s in loser if s["id"] != shared)
        assert (await c.post("/xapi/statements", json=alone)).status_code == 200
        again = await c.put("/xapi/statements", params={"statementId": shared},
                            json={**winner[0 if winner is first else 1]})
        assert again.status_code == 204  # a PUT retried with the same content
        other = await c.put("/xapi/statements", params={"statementId": shared},
                            json=about(activity, id=shared))
        assert other.status_code == 409
        if retention is Retention.FULL:
            ids = await all_ids(c)
            assert len(ids) == len(set(ids)) == len(winner) + 1
        else:
            assert await hits(c, activity) == len(winner) + 1


async def decision_figures(c: Client) -> tuple[dict[str, int], float]:
    """The decision counters of the summary, and the `lrs_statements_total` metric of the
    writer's credential (name `platform`), for one decision."""
    summary = (await c.get("/api/v1/aggregates/summary")).json()["statements"]
    return summary, sum(
        s.value for family in text_string_to_metric_families(await scrape(c))
        for s in family.samples
        if s.name == "lrs_statements_total" and s.labels.get("credential") == "platform")


@pytest.mark.parametrize("retention", [Retention.FULL, Retention.TALLY])
@pytest.mark.parametrize("at_once", [False, True], ids=["one-after-another", "at-once"])
async def test_a_retried_statement_is_stored_once_and_its_decision_counted_once(
        settings: Settings, storage: Storage, retention: Retention, at_once: bool) -> None:
    # DESIGN §4: a platform retrying a POST is not counted twice, in the hits and in the
    # decision counters (the summary's `statements`, the metrics) alike.
    writer = await add_credential(storage, Scope.ALL, retention=retention)
    activity = f"http://example.com/retry/{uuid.uuid4()}"
    statement = about(activity)
    quiet = with_metrics_token(settings).model_copy(update={"suppression_threshold": 1})
    async with app_client(quiet, storage, headers={**writer, **V2}) as c:
        if at_once:
            answers = await asyncio.gather(*(c.post("/xapi/statements", json=statement)
                                             for _ in range(3)))
        else:
            answers = [await c.post("/xapi/statements", json=statement) for _ in range(3)]
        assert [a.status_code for a in answers] == [200] * 3, [a.text for a in answers]
        decision = retention.value
        summary, metric = await decision_figures(c)
        assert summary.get(decision) == 1 and metric == 1, (summary, metric)
        if retention is Retention.FULL:
            assert await all_ids(c) == [statement["id"]]
        else:
            assert await all_ids(c) == []
            assert await hits(c, activity) == 1
