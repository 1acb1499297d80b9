"""Health probes: live while the process runs, ready while the store answers with its schema
intact (both engines)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from lrs.config import Settings
from lrs.storage import Storage, open_storage
from statements.errors import StoreUnavailable
from tests.conftest import Client, app_client

pytestmark = pytest.mark.usefixtures("engine")


def probe(settings: Settings, storage: Storage) -> AbstractAsyncContextManager[Client]:
    """A client on the app, without credentials or version header (probes send neither)."""
    return app_client(settings, storage)


async def test_health_live_answers_ok_without_credentials(settings: Settings,
                                                          storage: Storage) -> None:
    async with probe(settings, storage) as client:
        response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_health_ready_answers_ok_when_store_answers(settings: Settings,
                                                          storage: Storage) -> None:
    async with probe(settings, storage) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "store": storage.engine}


async def test_health_ready_is_503_with_reason_when_store_is_closed(settings: Settings) -> None:
    storage = await open_storage(settings)
    async with probe(settings, storage) as client:
        assert (await client.get("/health/ready")).status_code == 200
        await storage.close()
        response = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["reason"]
    assert live.status_code == 200  # the process is still up: restart is not the answer


async def test_health_ready_is_503_when_store_is_too_slow(
        settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    async def stuck(self: Storage) -> None:
        await asyncio.sleep(10)

    # On the class: the app works on a copy of `storage` whose stores are timed (metrics).
    monkeypatch.setattr(Storage, "ping", stuck)
    quick = settings.model_copy(update={"ready_timeout_seconds": 0.05})
    async with probe(quick, storage) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert "did not answer in time" in response.json()["reason"]


async def test_storage_ping_returns_while_engine_answers_and_raises_once_closed(
        settings: Settings) -> None:
    storage = await open_storage(settings)
    try:
        answered = await asyncio.wait_for(storage.ping(), timeout=10)
    finally:
        await storage.close()
    assert answered is None
    with pytest.raises(StoreUnavailable):  # never a driver error, nor a silent return
        await storage.ping()


async def drop_index(settings: Settings, storage: Storage) -> str:
    """Drop the statements' verb index behind the LRS's back; return the name readiness uses."""
    if storage.engine == "sqlite":
        with sqlite3.connect(settings.store_url().removeprefix("sqlite:///")) as conn:
            conn.execute("DROP INDEX statements_verb")
        return "index statements_verb"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.store_url())
    try:
        await client[settings.mongodb_database]["statements"].drop_index("verb")
    finally:
        await client.close()
    return "index statements.verb"


async def test_health_ready_is_503_when_an_index_is_dropped_until_migrated(
        settings: Settings, storage: Storage) -> None:
    async with probe(settings, storage) as client:
        assert (await client.get("/health/ready")).status_code == 200
        dropped = await drop_index(settings, storage)
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["reason"] == f"the store has lost {dropped} since start-up"
        if storage.engine != "sqlite":  # SQLite's migrations are versioned steps, not repairs
            migrated = await open_storage(settings)  # what `lrs migrate` does
            await migrated.close()
            assert (await client.get("/health/ready")).status_code == 200


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_health_ready_follows_schema_versions_behind_not_ahead(
        settings: Settings, storage: Storage) -> None:
    async with probe(settings, storage) as client:
        with sqlite3.connect(settings.store_url().removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE schema_versions SET version = version + 1")
            conn.execute("CREATE TABLE added_by_a_newer_version (id INTEGER PRIMARY KEY)")
        ahead = await client.get("/health/ready")  # a rolling upgrade's older replicas serve on
        with sqlite3.connect(settings.store_url().removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE schema_versions SET version = version - 2"
                         " WHERE domain = 'statements'")
        behind = await client.get("/health/ready")  # an older backup put in its place
        with sqlite3.connect(settings.store_url().removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE schema_versions SET version = 1 WHERE domain = 'statements'")
            conn.execute("DROP TABLE attachments")  # the schema of the first release
        migrated = await open_storage(settings)  # what `lrs migrate` does
        await migrated.close()
        again = await client.get("/health/ready")
    assert ahead.status_code == 200
    assert behind.status_code == 503
    assert "schema statements v" in behind.json()["reason"]
    assert again.status_code == 200, again.text
