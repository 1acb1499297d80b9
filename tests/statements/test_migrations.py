"""SQLite migrations: from an empty file, from the previous schema, and twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from lrs.config import Settings
from lrs.storage import open_storage
from statements.stores.sqlite import MIGRATIONS
from statements.stores.sqlite_db import SqliteDatabase
from tests.factories import make_statement


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
