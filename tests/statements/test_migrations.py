"""Migrations: from an empty store, from the previous schema, and twice (SQLite and MongoDB)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from lrs.config import Settings
from lrs.credentials.mongo import MongoCredentialStore
from lrs.storage import open_storage
from statements.enrich import enrich
from statements.stores.mongo import MongoStatementStore
from statements.stores.mongo_documents import MongoActivityStore, MongoDocumentStore
from statements.stores.sqlite import MIGRATIONS
from statements.stores.sqlite_db import SqliteDatabase
from statements.versions import XapiVersion
from tests.e2e.test_serve import run_lrs
from tests.factories import make_statement

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "k1"}}


def versions(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT domain, version FROM schema_versions").fetchall())


async def test_migrations_from_empty_are_idempotent(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    for _ in range(2):
        storage = await open_storage(settings)
        await storage.close()
    assert versions(tmp_path / "lrs.db")["statements"] == len(MIGRATIONS)


async def test_migrations_upgrade_the_previous_schema_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "lrs.db"
    old = SqliteDatabase(path)
    await old.migrate(MIGRATIONS[:1], name="statements")  # the first released schema
    await old.close()
    statement = make_statement()
    with sqlite3.connect(path) as conn:  # a statement stored by the previous version
        conn.execute("INSERT INTO statements(id, stored, verb, voiding, hash, body)"
                     " VALUES (?, 1, ?, 0, 'h', ?)",
                     (statement["id"], statement["verb"]["id"], orjson.dumps(statement)))
    storage = await open_storage(Settings(data_dir=tmp_path))
    try:
        assert await storage.statements.get(statement["id"], voided=False) is not None
        assert await storage.statements.get_attachments(["ab" * 32]) == []  # v2's table
    finally:
        await storage.close()
    assert versions(path)["statements"] == len(MIGRATIONS)


# -- `lrs migrate` from the previous schema lands where it lands from empty, on both engines


def migrate(env: dict[str, str]) -> None:
    """`lrs migrate` in its own process, as an operator runs it before an upgrade."""
    assert "is up to date" in run_lrs("migrate", env={**os.environ, **env})


def sqlite_layout(path: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(path) as conn:
        return [*conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"
                              " ORDER BY name").fetchall(),
                *conn.execute("SELECT 'version', domain, version, NULL FROM schema_versions"
                              " ORDER BY domain").fetchall()]


def test_sqlite_migrate_from_previous_schema_matches_a_fresh_store(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = SqliteDatabase(tmp_path / "old" / "lrs.db")
    asyncio.run(old.migrate(MIGRATIONS[:1], name="statements"))
    asyncio.run(old.close())
    before = sqlite_layout(tmp_path / "old" / "lrs.db")
    for data_dir in ("old", "new", "old"):  # the old store twice: idempotent
        migrate({"LRS_DATA_DIR": str(tmp_path / data_dir), "LRS_STORE": ""})
    after = sqlite_layout(tmp_path / "old" / "lrs.db")
    assert after != before
    assert after == sqlite_layout(tmp_path / "new" / "lrs.db")


async def mongo_layout(db: AsyncDatabase[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Each collection's indexes: (name, the index's definition but its version)."""
    layout = {}
    for name in sorted(await db.list_collection_names()):
        indexes = await db[name].index_information()
        layout[name] = sorted((index, repr(sorted((k, v) for k, v in spec.items()
                                                  if k not in ("v", "ns"))))
                              for index, spec in indexes.items())
    return layout


async def test_mongodb_migrate_from_previous_release_matches_a_fresh_store(
        secantus_url: str) -> None:
    previous, fresh = (f"m_{uuid.uuid4().hex[:12]}" for _ in range(2))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(secantus_url, tz_aware=True)
    try:
        # The first MongoDB release held statements, documents, activities and credentials,
        # and none of the tally, catalogue or attachment collections.
        db = client[previous]
        statements = MongoStatementStore(client, db)
        for store in (statements, MongoDocumentStore(db), MongoActivityStore(db),
                      MongoCredentialStore(db)):
            await store.open()
        statement = make_statement()
        await statements.save([enrich(statement, statement_id=statement["id"],
                                      stored=datetime.now(UTC), authority=AUTHORITY,
                                      version=XapiVersion.V2)])
        before = await mongo_layout(db)
        assert "fingerprints" not in before

        for database in (previous, fresh, previous):  # the previous store twice: idempotent
            await asyncio.to_thread(migrate, {"LRS_STORE": secantus_url,
                                              "LRS_MONGODB_DATABASE": database})

        after = await mongo_layout(db)
        assert after == await mongo_layout(client[fresh])
        assert {"statements", "fingerprints", "tally_hours", "tally_learners"} <= set(after)
    finally:
        await client.close()
    storage = await open_storage(Settings(store=secantus_url, mongodb_database=previous))
    try:
        assert await storage.statements.get(statement["id"], voided=False) is not None
    finally:
        await storage.close()
