"""Metrics taken at the storage boundary and of the worker, after known traffic (both engines):
store operation latency and failures, attachment bytes, table sizes, event-loop lag,
process metrics, and the separate metrics port."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from pydantic import SecretStr, ValidationError

from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.storage import SIZED_TABLES, Storage, open_storage
from lrs.storemetrics import StoreSizes
from tests.conftest import (
    Client,
    add_credential,
    app_client,
    scrape,
    with_metrics_token,
)
from tests.e2e.test_serve import free_port
from tests.factories import make_statement
from tests.lrs.test_metrics import sample
from tests.statements.test_attachments import CONTENT_TYPE, attachment_for, multipart, part

pytestmark = pytest.mark.usefixtures("engine")
VERSION = {"X-Experience-API-Version": "2.0.0"}
ARTICLE = {"objectType": "Activity", "id": "http://example.com/intranet/article-7"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Metrics served on the LRS's port, behind a token (not served by default)."""
    return with_metrics_token(settings)


async def test_metrics_time_store_operations_by_engine_store_and_operation(
        client: Client, storage: Storage) -> None:
    for _ in range(2):
        assert (await client.post("/xapi/statements", json=make_statement())).status_code == 200
    assert (await client.get("/xapi/statements")).status_code == 200

    text = await scrape(client)

    engine = storage.engine
    assert sample(text, "lrs_store_operation_duration_seconds_count", engine=engine,
                  store="batches", operation="commit") == 2
    assert sample(text, "lrs_store_operation_duration_seconds_count", engine=engine,
                  store="statements", operation="query") == 1
    assert sample(text, "lrs_store_operation_duration_seconds_sum", engine=engine,
                  store="batches", operation="commit") > 0
    other = "mongodb" if engine == "sqlite" else "sqlite"
    assert sample(text, "lrs_store_operation_duration_seconds_count", engine=other,
                  store="batches", operation="commit") == 0


async def test_metrics_count_store_failures_by_error_type(client: Client,
                                                          storage: Storage) -> None:
    statement = make_statement()
    assert (await client.post("/xapi/statements", json=statement)).status_code == 200
    changed = {**statement, "verb": {"id": "http://example.com/verbs/other"}}
    assert (await client.post("/xapi/statements", json=changed)).status_code == 409

    text = await scrape(client)

    assert sample(text, "lrs_store_operation_failures_total", engine=storage.engine,
                  store="batches", operation="commit", error="Conflict") == 1
    assert sample(text, "lrs_store_operation_duration_seconds_count", engine=storage.engine,
                  store="batches", operation="commit") == 2  # the failed one is timed too


async def test_metrics_count_attachment_bytes_in_and_out(client: Client) -> None:
    data = b"certificate of completion\r\n" * 40
    statement = make_statement(attachments=[attachment_for(data)])
    posted = await client.post("/xapi/statements", content=multipart(
        orjson.dumps(statement), part(data)), headers={"Content-Type": CONTENT_TYPE})
    assert posted.status_code == 200, posted.text
    for _ in range(2):
        got = await client.get("/xapi/statements", params={"statementId": statement["id"],
                                                           "attachments": "true"})
        assert got.status_code == 200
    assert (await client.get("/xapi/statements", params={"statementId": statement["id"]})
            ).status_code == 200  # without attachments: nothing served

    text = await scrape(client)

    assert sample(text, "lrs_attachment_bytes_total", direction="in") == len(data)
    assert sample(text, "lrs_attachment_bytes_total", direction="out") == 2 * len(data)


async def test_metrics_report_table_sizes_after_known_traffic(client: Client,
                                                              storage: Storage) -> None:
    intranet = await add_credential(storage, Scope.STATEMENTS_WRITE, name="intranet",
                                    retention=Retention.TALLY)
    kept = [make_statement() for _ in range(3)]
    assert (await client.post("/xapi/statements", json=kept)).status_code == 200
    # Today, so the day's learner sketch is still open; one hour, one activity.
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    tallied = [make_statement(object=ARTICLE, timestamp=now) for _ in range(2)]
    assert (await client.post("/xapi/statements", json=tallied, headers=intranet)
            ).status_code == 200
    # A read of the counters brings them up to date where an engine defers them.
    assert (await client.get("/api/v1/aggregates/summary")).status_code == 200

    text = await scrape(client)

    rows = {table: sample(text, "lrs_store_rows", table=table) for table in SIZED_TABLES}
    assert rows == {"statements": 3, "attachments": 0, "fingerprints": 2, "tally_hours": 1,
                    "tally_days": 1, "tally_learners": 1}
    assert sample(text, "lrs_store_up") == 1


async def test_store_sizes_are_cached_then_read_again(storage: Storage) -> None:
    import asyncio

    sizes = StoreSizes(storage, asyncio.get_running_loop(), timeout=5, max_age=3600)
    await sizes.refresh()
    auth = await add_credential(storage, Scope.ALL)
    settings = Settings(store=None, metrics_enabled=False)
    async with app_client(settings, storage, headers={**auth, **VERSION}) as client:
        assert (await client.post("/xapi/statements", json=make_statement())).status_code == 200
    await sizes.refresh()
    cached = {m.name: m.samples for m in sizes.collect()}
    assert [s.value for s in cached["lrs_store_rows"] if s.labels["table"] == "statements"] \
        == [0]
    fresh = StoreSizes(storage, asyncio.get_running_loop(), timeout=5, max_age=0)
    await fresh.refresh()
    counted = {m.name: m.samples for m in fresh.collect()}
    assert [s.value for s in counted["lrs_store_rows"] if s.labels["table"] == "statements"] \
        == [1]


async def test_metrics_say_store_down_when_it_stops_answering(settings: Settings) -> None:
    storage = await open_storage(settings)
    async with app_client(settings, storage) as client:
        await storage.close()
        text = await scrape(client)
    assert sample(text, "lrs_store_up") == 0


async def test_metrics_show_event_loop_lag_when_the_loop_is_blocked(client: Client) -> None:
    import asyncio

    await asyncio.sleep(0.3)  # the lag sampler is sleeping now
    time.sleep(1.0)  # blocking work on the loop: the sampler wakes at least 0.75 s late
    await asyncio.sleep(0.3)

    text = await scrape(client)

    assert sample(text, "lrs_event_loop_lag_seconds_sum") >= 0.5
    assert sample(text, "lrs_event_loop_lag_seconds_bucket", le="0.5") \
        < sample(text, "lrs_event_loop_lag_seconds_count")


async def test_metrics_include_process_and_worker_health(client: Client) -> None:
    text = await scrape(client)
    assert sample(text, "process_resident_memory_bytes") > 0
    assert sample(text, "process_open_fds") > 0
    assert sample(text, "lrs_http_requests_in_flight") == 1  # the scrape itself
    assert sample(text, "lrs_event_loop_tasks") >= 1


async def test_metrics_port_serves_metrics_apart_with_the_token(settings: Settings,
                                                                storage: Storage) -> None:
    port = free_port()
    apart = settings.model_copy(update={"metrics_port": port,
                                        "metrics_token": SecretStr("t0ken")})
    auth = await add_credential(storage, Scope.ALL)
    async with app_client(apart, storage, headers={**auth, **VERSION}) as client, \
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as scraper:
        assert (await client.post("/xapi/statements", json=make_statement())).status_code == 200
        on_main_port = await client.get("/metrics")
        refused = await scraper.get("/metrics")
        scraped = await scraper.get("/metrics", headers={"Authorization": "Bearer t0ken"})
    assert on_main_port.status_code == 404
    assert refused.status_code == 401
    assert scraped.status_code == 200
    assert sample(scraped.text, "lrs_statements_total", decision="full",
                  credential="platform") == 1
    assert sample(scraped.text, "lrs_store_up") == 1  # read on the loop from the port's thread
    with pytest.raises(httpx.TransportError):  # closed with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


@pytest.mark.parametrize("overrides", [{"workers": 2, "metrics_port": 9100},
                                       {"port": 9100, "metrics_port": 9100}])
def test_settings_refuse_a_metrics_port_that_cannot_work(overrides: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="LRS_METRICS_PORT"):
        Settings(**overrides)  # type: ignore[arg-type]  # keyword arguments of the fields
