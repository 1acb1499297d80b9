"""Opening the configured engine: every domain store over one SQLite file or MongoDB database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregation.store import TallyStore
from lrs.config import Settings
from lrs.credentials import CredentialStore
from lrs.people.sessions import SessionStore
from plugins.catalogue_store import CatalogueStore
from statements.activities import ActivityStore
from statements.compliance import ComplianceStore
from statements.documents import DocumentStore
from statements.erasure import ErasureStore
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
    erasure: ErasureStore
    compliance: ComplianceStore
    sessions: SessionStore  # people signed in (lrs.people)
    _database: str = ""  # MongoDB: the database the stores use
    _layout: frozenset[str] = frozenset()  # the schema as opening (migrating) left it

    async def missing_layout(self) -> list[str]:
        """What the schema had when this process opened (and migrated) the store and has
        lost since: a dropped index or table, a schema version older than this code's.

        A store migrated further by a newer version is not missing anything: migrations
        only add, so older processes keep working through a rolling upgrade.
        """
        now = await _layout_of(self)
        return sorted(self._layout - now)

    async def close(self) -> None:
        """Close the engine's connections."""
        await self._resource.close()

    async def ping(self) -> None:
        """Return once the engine has answered a cheap query; StoreUnavailable otherwise."""
        if self.engine == "sqlite":
            await _ping_sqlite(self._resource)
        else:
            await _ping_mongo(self._resource)

    async def table_sizes(self) -> dict[str, int]:
        """Rows (documents) in the tables that grow with traffic, for the metrics.

        SQLite counts them (a scan of the smallest index); MongoDB answers from collection
        metadata (`estimatedDocumentCount`), so its figures may lag after a crash.
        """
        if self.engine == "sqlite":
            return await _count_sqlite(self._resource)
        return await _count_mongo(self._resource, self._database)


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


# The tables (collections) that grow with traffic; both engines name them alike.
SIZED_TABLES = ("statements", "attachments", "fingerprints", "tally_hours", "tally_days",
                "tally_learners")


# SQLite only, where the schema has it: hits journalled, not yet rolled up into counters.
_SQLITE_BACKLOG = ("tally_journal",)


async def _count_sqlite(db: Any) -> dict[str, int]:
    def count(conn: Any) -> dict[str, int]:
        present = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in (*SIZED_TABLES, *_SQLITE_BACKLOG) if table in present}

    try:
        sizes: dict[str, int] = await db.read(count)
    except RuntimeError as exc:
        raise StoreUnavailable("the SQLite database is closed") from exc
    return sizes


async def _count_mongo(client: Any, database: str) -> dict[str, int]:
    from pymongo.errors import PyMongoError

    db = client[database]
    try:
        return {table: await db[table].estimated_document_count() for table in SIZED_TABLES}
    except PyMongoError as exc:
        raise StoreUnavailable(f"MongoDB error: {exc}") from exc


async def _ping_mongo(client: Any) -> None:
    from pymongo.errors import PyMongoError

    try:
        await client.admin.command("ping")
    except PyMongoError as exc:  # translated here: pymongo never reaches the handlers
        raise StoreUnavailable(f"MongoDB error: {exc}") from exc


async def _open_sqlite(path: Path, settings: Settings) -> Storage:
    from aggregation.stores.sqlite import SqliteTallyStore
    from lrs.credentials.sqlite import SqliteCredentialStore
    from lrs.credentials.sqlite_sessions import SqliteSessionStore
    from plugins.stores.sqlite import SqliteCatalogueStore
    from statements.stores.sqlite import SqliteStatementStore
    from statements.stores.sqlite_activities import SqliteActivityStore
    from statements.stores.sqlite_compliance import SqliteComplianceStore
    from statements.stores.sqlite_db import SqliteDatabase
    from statements.stores.sqlite_documents import SqliteDocumentStore
    from statements.stores.sqlite_erasure import SqliteErasureStore

    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(path, synchronous=settings.sqlite_synchronous)
    statements = SqliteStatementStore(db)
    documents = SqliteDocumentStore(db)
    activities = SqliteActivityStore(db)
    tally = SqliteTallyStore(db)
    catalogue = SqliteCatalogueStore(db)
    credentials = SqliteCredentialStore(db)
    erasure = SqliteErasureStore(db)
    compliance = SqliteComplianceStore(db)  # after statements: it triggers on their tables
    sessions = SqliteSessionStore(db)
    for store in (statements, documents, activities, tally, catalogue, credentials, erasure,
                  compliance, sessions):
        await store.open()
    storage = Storage("sqlite", statements, documents, activities, tally, catalogue,
                      credentials, db, erasure, compliance, sessions)
    storage._layout = await _layout_of(storage)
    return storage


async def _open_mongo(url: str, settings: Settings) -> Storage:
    from pymongo import AsyncMongoClient

    from aggregation.stores.mongo import MongoTallyStore
    from lrs.credentials.mongo import MongoCredentialStore
    from lrs.credentials.mongo_sessions import MongoSessionStore
    from plugins.stores.mongo import MongoCatalogueStore
    from statements.stores.mongo import MongoStatementStore
    from statements.stores.mongo_compliance import MongoComplianceStore
    from statements.stores.mongo_documents import MongoActivityStore, MongoDocumentStore
    from statements.stores.mongo_erasure import MongoErasureStore

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
    erasure = MongoErasureStore(statements, db)
    compliance = MongoComplianceStore(db)
    sessions = MongoSessionStore(db)
    for store in (statements, documents, activities, tally, catalogue, credentials, erasure,
                  compliance, sessions):
        await store.open()
    storage = Storage("mongodb", statements, documents, activities, tally, catalogue,
                      credentials, client, erasure, compliance, sessions, db.name)
    storage._layout = await _layout_of(storage)
    return storage


async def _layout_of(storage: Storage) -> frozenset[str]:
    """The schema's parts, as comparable names ("index statements.verb", "schema tally v1")."""
    if storage.engine == "sqlite":
        return await _sqlite_layout(storage._resource)
    return await _mongo_layout(storage._resource, storage._database)


async def _sqlite_layout(db: Any) -> frozenset[str]:
    def read(conn: Any) -> frozenset[str]:
        parts = {f"{kind} {name}" for kind, name in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')")}
        for domain, version in conn.execute("SELECT domain, version FROM schema_versions"):
            parts.update(f"schema {domain} v{n}" for n in range(1, version + 1))
        return frozenset(parts)

    try:
        layout: frozenset[str] = await db.read(read)
    except RuntimeError as exc:
        raise StoreUnavailable("the SQLite database is closed") from exc
    return layout


async def _mongo_layout(client: Any, database: str) -> frozenset[str]:
    from pymongo.errors import PyMongoError

    db = client[database]
    try:
        parts = set()
        for collection in await db.list_collection_names():
            async for index in await db[collection].list_indexes():
                parts.add(f"index {collection}.{index['name']}")
    except PyMongoError as exc:
        raise StoreUnavailable(f"MongoDB error: {exc}") from exc
    return frozenset(parts)
