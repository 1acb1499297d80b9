"""The marks of flagged statements on SQLite: table `statement_marks` (id → findings JSON)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping
from typing import Any

import orjson

from statements.stores.sqlite_db import SqliteDatabase


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE statement_marks (id TEXT PRIMARY KEY, findings BLOB NOT NULL)"
                 " WITHOUT ROWID")


def _schema_v2(conn: sqlite3.Connection) -> None:
    # A statement's marks go with it (purge, erasure): a finding may quote a value it held.
    conn.execute("DELETE FROM statement_marks WHERE id NOT IN (SELECT id FROM statements)")
    conn.execute("""
        CREATE TRIGGER statement_marks_follow AFTER DELETE ON statements
        BEGIN DELETE FROM statement_marks WHERE id = OLD.id; END""")


MIGRATIONS = [_schema_v1, _schema_v2]


def write_marks_in(conn: sqlite3.Connection, marks: Mapping[str, bytes]) -> None:
    """Write a plan's marks in the caller's transaction (the engine's commit)."""
    if marks:
        conn.executemany("INSERT OR REPLACE INTO statement_marks(id, findings) VALUES (?,?)",
                         list(marks.items()))


class SqliteMarkStore:
    """MarkStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the table."""
        await self._db.migrate(MIGRATIONS, name="marks")

    async def of(self, statement_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        ids = list(statement_ids)

        def run(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
            found: dict[str, list[dict[str, Any]]] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                found.update((i, orjson.loads(f)) for i, f in conn.execute(
                    "SELECT id, findings FROM statement_marks WHERE id IN"
                    f" ({','.join('?' * len(chunk))})", chunk))
            return found

        return await self._db.read(run) if ids else {}
