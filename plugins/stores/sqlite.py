"""The compliance catalogue on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import orjson

from plugins.catalogue import CatalogueEntry, rules_json, with_rules
from statements.stores.sqlite_db import SqliteDatabase, transaction


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE catalogue (kind TEXT NOT NULL, value TEXT NOT NULL, name TEXT,"
                 " retention_days INTEGER, PRIMARY KEY (kind, value)) WITHOUT ROWID")


def _schema_v2(conn: sqlite3.Connection) -> None:
    # Completion rule and validity, as JSON; NULL (entries written before): the defaults.
    conn.execute("ALTER TABLE catalogue ADD COLUMN rules TEXT")


MIGRATIONS = [_schema_v1, _schema_v2]


def _insert(conn: sqlite3.Connection, entries: Sequence[CatalogueEntry]) -> None:
    conn.executemany(
        "INSERT INTO catalogue VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET name=excluded.name,"
        " retention_days=excluded.retention_days, rules=excluded.rules",
        [(e.kind, e.value, e.name, e.retention_days, _rules_text(e)) for e in entries])


def _rules_text(entry: CatalogueEntry) -> str | None:
    rules = rules_json(entry)
    return orjson.dumps(rules).decode() if rules else None


class SqliteCatalogueStore:
    """CatalogueStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate(MIGRATIONS, name="catalogue")

    async def entries(self) -> list[CatalogueEntry]:
        return await self._db.read(lambda conn: [
            with_rules(CatalogueEntry(kind=kind, value=value, name=name, retention_days=days),
                       orjson.loads(rules) if rules else None)
            for kind, value, name, days, rules in conn.execute(
                "SELECT kind, value, name, retention_days, rules FROM catalogue"
                " ORDER BY kind, value")])

    async def add(self, entries: Sequence[CatalogueEntry]) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: _insert(c, entries)))

    async def remove(self, kind: str, value: str) -> bool:
        return await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "DELETE FROM catalogue WHERE kind=? AND value=?", (kind, value)).rowcount == 1))

    async def replace(self, entries: Sequence[CatalogueEntry]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM catalogue")
            _insert(conn, entries)

        await self._db.write(lambda conn: transaction(conn, run))
