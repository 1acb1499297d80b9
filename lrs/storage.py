"""Opening the configured engine: every domain store over one SQLite file or MongoDB database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregation.store import TallyStore
from lrs.config import Settings
from lrs.credentials import CredentialStore
from plugins.catalogue_store import CatalogueStore
from statements.activities import ActivityStore
from statements.compliance import ComplianceStore
from statements.documents import DocumentStore
from statements.errors import StoreUnavailable
from statements.store import StatementStore


@dataclass
class Storage:
    """The stores of one engine, opened together and closed together."""

    engine: str
    statements: StatementStore
    documents: DocumentStore
    activities: ActivityStore
    tally: TallyStore
    catalogue: CatalogueStore
    credentials: CredentialStore
    _resource: Any
    compliance: ComplianceStore  # after _resource: a late addition, kept last

    async def close(self) -> None:
        """Close the engine's connections."""
        await self._resource.close()

    async def ping(self) -> None:
        """Return once the engine has answered a cheap query; StoreUnavailable otherwise."""
        if self.engine == "sqlite":
            await _ping_sqlite(self._resource)
        else:
            await _ping_mongo(self._resource)


async def open_storage(settings: Settings) -> Storage:
    """Open (and create or migrate) the store named by `settings.store_url()`."""
    url = settings.store_url()
    if url.startswith("sqlite:///"):
        return await _open_sqlite(Path(url.removeprefix("sqlite:///")), settings)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        return await _open_mongo(url, settings)
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:///… or mongodb://…")


async def _ping_sqlite(db: Any) -> None:
    # Through the read path, so a stuck reader pool shows as not ready too.
    try:
        await db.read(lambda conn: conn.execute("SELECT 1").fetchone())
    except RuntimeError as exc:  # the pools were shut down: the database is closed
        raise StoreUnavailable("the SQLite database is closed") from exc


async def _ping_mongo(client: Any) -> None:
    from pymongo.errors import PyMongoError

    try:
        await client.admin.command("ping")
    except PyMongoError as exc:  # translated here: pymongo never reaches the handlers
        raise StoreUnavailable(f"MongoDB error: {exc}") from exc


async def _open_sqlite(path: Path, settings: Settings) -> Storage:
    from aggregation.stores.sqlite import SqliteTallyStore
    from lrs.credentials.sqlite import SqliteCredentialStore
    from plugins.stores.sqlite import SqliteCatalogueStore
    from statements.stores.sqlite import SqliteStatementStore
    from statements.stores.sqlite_activities import SqliteActivityStore
    from statements.stores.sqlite_compliance import SqliteComplianceStore
    from statements.stores.sqlite_db import SqliteDatabase
    from statements.stores.sqlite_documents import SqliteDocumentStore

    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(path, synchronous=settings.sqlite_synchronous)
    statements = SqliteStatementStore(db)
    documents = SqliteDocumentStore(db)
    activities = SqliteActivityStore(db)
    tally = SqliteTallyStore(db)
    catalogue = SqliteCatalogueStore(db)
    credentials = SqliteCredentialStore(db)
    compliance = SqliteComplianceStore(db)  # after statements: it triggers on their tables
    for store in (statements, documents, activities, tally, catalogue, credentials, compliance):
        await store.open()
    return Storage("sqlite", statements, documents, activities, tally, catalogue, credentials,
                   db, compliance)


async def _open_mongo(url: str, settings: Settings) -> Storage:
    from pymongo import AsyncMongoClient

    from aggregation.stores.mongo import MongoTallyStore
    from lrs.credentials.mongo import MongoCredentialStore
    from plugins.stores.mongo import MongoCatalogueStore
    from statements.stores.mongo import MongoStatementStore
    from statements.stores.mongo_compliance import MongoComplianceStore
    from statements.stores.mongo_documents import MongoActivityStore, MongoDocumentStore

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, tz_aware=True, w="majority", appname="tally-lrs"
    )
    db = client.get_default_database(default=settings.mongodb_database)
    statements = MongoStatementStore(client, db)
    documents = MongoDocumentStore(db)
    activities = MongoActivityStore(db)
    tally = MongoTallyStore(statements, db)
    catalogue = MongoCatalogueStore(db)
    credentials = MongoCredentialStore(db)
    compliance = MongoComplianceStore(db)
    for store in (statements, documents, activities, tally, catalogue, credentials, compliance):
        await store.open()
    return Storage("mongodb", statements, documents, activities, tally, catalogue,
                   credentials, client, compliance)
