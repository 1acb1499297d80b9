"""End to end: two clients send the same statement at the same instant to a real `lrs serve`
process: it is stored once, counted once, and its decision counted once (DESIGN §4)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lrs.config import Settings
from tests.conftest import METRICS_TOKEN
from tests.e2e.test_serve import serve
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
ROUNDS = 6


def at_once(base: str, auth: tuple[str, str], statement: dict[str, object]) -> list[int]:
    """POST `statement` from two clients (two connections) released by one barrier."""
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=base, auth=auth,
                          headers={"X-Experience-API-Version": "2.0.0"}) as client:
            client.get("/xapi/about")  # connected before the barrier
            barrier.wait()
            codes.append(client.post("/xapi/statements", json=statement).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


@pytest.mark.parametrize("retention", ["full", "tally"])
def test_the_same_statement_sent_at_once_by_two_clients_is_counted_once(
        settings: Settings, tmp_path: Path, retention: str) -> None:
    activity = f"http://example.com/at-once/{uuid.uuid4()}"
    statements = [make_statement(object={"objectType": "Activity", "id": activity},
                                 timestamp=None) for _ in range(ROUNDS)]
    served = serve(settings, tmp_path, retention=retention,
                   extra_env={"LRS_SUPPRESSION_THRESHOLD": "1",
                              "LRS_METRICS_TOKEN": METRICS_TOKEN})
    base, auth = next(served)
    try:
        for statement in statements:
            assert at_once(base, auth, statement) == [200, 200]
        with httpx.Client(base_url=base, auth=auth,
                          headers={"X-Experience-API-Version": "2.0.0"}) as client:
            summary = client.get("/api/v1/aggregates/summary").json()["statements"]
            assert summary == {retention: ROUNDS}
            scraped = httpx.get(f"{base}/metrics",
                                headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
            metric = sum(s.value for family in text_string_to_metric_families(scraped)
                         for s in family.samples
                if s.name == "lrs_statements_total")
            assert metric == ROUNDS
            stored = client.get("/xapi/statements", params={"limit": "0"}).json()["statements"]
            if retention == "full":
                assert sorted(s["id"] for s in stored) == sorted(s["id"] for s in statements)
            else:
                assert stored == []
                popular = client.get("/api/v1/aggregates/popular").json()["activities"]
                assert [(r["activity"], r["hits"]) for r in popular] == [(activity, ROUNDS)]
    finally:
        served.close()
