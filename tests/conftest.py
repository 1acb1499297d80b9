"""Fixtures: real engines (SQLite files; MongoDB via SecantusDB, or a real server when
LRS_TEST_MONGODB_URL is set), the app driven in the test's event loop, credentials."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pluggy
import pytest
from pydantic import SecretStr

from lrs.app import create_app
from lrs.config import Settings
from lrs.credentials import (
    Credential,
    DocumentPuts,
    Retention,
    Scope,
    authority_for,
    hash_secret,
)
from lrs.storage import Storage, open_storage

# The OpenID provider of the sign-in tests, for every test module (the console's too).
from tests.e2e.oidc import oidc_keys, oidc_provider, other_oidc_provider  # noqa: F401

ENGINES = ["sqlite", "mongodb"] + (["real-mongodb"] if os.environ.get("LRS_TEST_MONGODB_URL")
                                   else [])


@pytest.fixture(scope="session")
def secantus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SecantusDB server (MongoDB wire protocol on WiredTiger, not mongod) on a free
    loopback port, for the whole session; each test uses its own database."""
    from secantus import SecantusDBServer

    server = SecantusDBServer(host="127.0.0.1", port=0,
                              storage_path=str(tmp_path_factory.mktemp("secantus")))
    server.start()
    host, port = server.address
    yield f"mongodb://{host}:{port}/?replicaSet=secantus"
    server.stop()


def store_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    """The store URL and MongoDB database name for one test on one engine."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'lrs.db'}", database
    if engine in ("mongodb", "mongodb-without-transactions"):  # the latter: a contract suite's
        return request.getfixturevalue("secantus_url"), database
    return os.environ["LRS_TEST_MONGODB_URL"], database


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine reachable: SQLite always, MongoDB (SecantusDB) always, real MongoDB when
    LRS_TEST_MONGODB_URL is set."""
    return str(request.param)


@pytest.fixture
def settings(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    url, database = store_url(engine, tmp_path, request)
    return Settings(data_dir=tmp_path, store=url, mongodb_database=database,
                    max_page_size=50, max_body_bytes=256 * 1024)


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    opened = await open_storage(settings)
    yield opened
    await opened.close()


async def add_credential(storage: Storage, *scopes: Scope, name: str = "platform",
                         retention: Retention = Retention.FULL,
                         document_puts: DocumentPuts = DocumentPuts.STRICT) -> dict[str, str]:
    """Create a credential; return the headers that authenticate as it."""
    key, secret = uuid.uuid4().hex[:20], uuid.uuid4().hex
    await storage.credentials.add(Credential(
        key=key, name=name, secret_hash=hash_secret(secret), scopes=frozenset(scopes),
        retention=retention, authority=authority_for(key, name, "http://lrs.test"),
        created=datetime.now(UTC), document_puts=document_puts))
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


METRICS_TOKEN = "metrics-test-token"


def with_metrics_token(settings: Settings) -> Settings:
    """`settings` with /metrics served on the LRS's port, behind METRICS_TOKEN."""
    return settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})


async def scrape(client: httpx.AsyncClient) -> str:
    """The metrics text, scraped with METRICS_TOKEN (see with_metrics_token)."""
    response = await client.get("/metrics",
                                headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    return response.text


class Client(httpx.AsyncClient):
    """An httpx client on the app, sending a version header and the credential's auth."""


@asynccontextmanager
async def app_client(settings: Settings, storage: Storage, *,
                     headers: dict[str, str] | None = None,
                     plugin_manager: pluggy.PluginManager | None = None
                     ) -> AsyncIterator[Client]:
    """The app on `storage`, lifespan run, driven in this test's event loop."""
    app = create_app(settings, storage=storage, plugin_manager=plugin_manager)
    async with (app.router.lifespan_context(app),
                Client(transport=httpx.ASGITransport(app=app), base_url="http://lrs.test",
                       headers=headers) as c):
        yield c


@pytest.fixture
async def client(settings: Settings, storage: Storage) -> AsyncIterator[Client]:
    """The app in this test's event loop, authenticated with scope `all`, xAPI 2.0.0."""
    auth = await add_credential(storage, Scope.ALL)
    async with app_client(settings, storage,
                          headers={**auth, "X-Experience-API-Version": "2.0.0"}) as c:
        yield c


def statements_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The statements of a StatementResult response."""
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["statements"]
    return result
