"""Health probes: live while the process runs, ready while the store answers (both engines)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import pytest

from lrs.config import Settings
from lrs.storage import Storage, open_storage
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


async def test_storage_ping_returns_when_engine_answers(storage: Storage) -> None:
    await storage.ping()
