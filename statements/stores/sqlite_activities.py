"""The canonical Activity definitions on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from statements.activities import merge_definition
from statements.stores.sqlite_db import SqliteDatabase, transaction


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE activities (id TEXT PRIMARY KEY, definition BLOB NOT NULL)"
                 " WITHOUT ROWID")


def _read(conn: sqlite3.Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for activity_id, definition in conn.execute(
                f"SELECT id, definition FROM activities WHERE id IN ({','.join('?' * len(chunk))})",
                chunk):
            found[activity_id] = orjson.loads(definition)
    return found


class SqliteActivityStore:
    """ActivityStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate([_schema_v1], name="activities")

    async def definitions(self, activity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = sorted(set(activity_ids))
        return await self._db.read(lambda conn: _read(conn, ids))

    async def merge(self, definitions: dict[str, dict[str, Any]]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            held = _read(conn, sorted(definitions))
            rows = []
            for activity_id, new in definitions.items():
                merged = merge_definition(held.get(activity_id, {}), new)
                if merged != held.get(activity_id):
                    rows.append((activity_id, orjson.dumps(merged)))
            conn.executemany(
                "INSERT INTO activities(id, definition) VALUES (?, ?) ON CONFLICT(id) DO UPDATE"
                " SET definition=excluded.definition", rows)

        await self._db.write(lambda conn: transaction(conn, run))
