"""The credential store on SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import orjson

from lrs.credentials import CheckMode, Credential
from lrs.credentials.records import from_record, to_record
from statements.stores.sqlite_db import SqliteDatabase, transaction

_FIELDS = ("key", "name", "secret_hash", "scopes", "retention", "authority", "created",
           "revoked", "last_used", "document_puts", "quarantine_days", "cmi5", "profiles",
           "cmi5_lms")


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE credentials (
            key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            scopes TEXT NOT NULL,
            retention TEXT NOT NULL,
            authority TEXT NOT NULL,
            created TEXT NOT NULL,
            revoked TEXT
        )""")
    conn.execute("CREATE INDEX credentials_name ON credentials(name)")


def _schema_v2(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE credentials ADD COLUMN last_used TEXT")


def _schema_document_puts(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE credentials ADD COLUMN document_puts TEXT")


def _schema_quarantine(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE credentials ADD COLUMN quarantine_days INTEGER")
def _schema_v3(conn: sqlite3.Connection) -> None:
    # The door checks; NULL in rows written before them reads as off.
    for column in ("cmi5 TEXT", "profiles TEXT", "cmi5_lms INTEGER"):
        conn.execute(f"ALTER TABLE credentials ADD COLUMN {column}")


class SqliteCredentialStore:
    """CredentialStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate([_schema_v1, _schema_v2, _schema_document_puts,
                                _schema_quarantine, _schema_v3], name="credentials")

    async def add(self, credential: Credential) -> None:
        record = to_record(credential)
        sql = (f"INSERT INTO credentials({', '.join(_FIELDS)}) "
               f"VALUES ({', '.join('?' * len(_FIELDS))})")
        await self._db.write(lambda conn: transaction(
            conn, lambda c: c.execute(sql, [record[f] for f in _FIELDS])))

    async def get(self, key: str) -> Credential | None:
        return await self._one("key=?", key)

    async def find_by_name(self, name: str) -> Credential | None:
        return await self._one("name=? AND revoked IS NULL ORDER BY created DESC", name)

    async def list(self) -> list[Credential]:
        def run(conn: sqlite3.Connection) -> list[Credential]:
            conn.row_factory = sqlite3.Row
            try:
                rows = conn.execute(
                    f"SELECT {', '.join(_FIELDS)} FROM credentials ORDER BY created").fetchall()
            finally:
                conn.row_factory = None
            return [from_record(dict(row)) for row in rows]

        return await self._db.read(run)

    async def revoke(self, key: str, when: datetime) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute("UPDATE credentials SET revoked=? WHERE key=? AND revoked "
                                  "IS NULL", (when.isoformat(), key))
            return cursor.rowcount == 1

        return await self._db.write(lambda conn: transaction(conn, run))

    async def replace_secret(self, key: str, secret_hash: str) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "UPDATE credentials SET secret_hash=? WHERE key=?", (secret_hash, key))))

    async def record_use(self, key: str, when: datetime) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "UPDATE credentials SET last_used=? WHERE key=?", (when.isoformat(), key))))

    async def erase(self, key: str, *, name: str, authority: dict[str, Any],
                    when: datetime) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "UPDATE credentials SET name=?, authority=?, revoked=coalesce(revoked, ?)"
            " WHERE key=?", (name, orjson.dumps(authority).decode(), when.isoformat(), key))))
    async def set_checks(self, key: str, *, cmi5: CheckMode, profiles: CheckMode,
                         cmi5_lms: bool) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "UPDATE credentials SET cmi5=?, profiles=?, cmi5_lms=? WHERE key=?",
            (cmi5.value, profiles.value, int(cmi5_lms), key))))

    async def _one(self, where: str, value: str) -> Credential | None:
        def run(conn: sqlite3.Connection) -> Credential | None:
            conn.row_factory = sqlite3.Row
            try:
                row = conn.execute(f"SELECT {', '.join(_FIELDS)} FROM credentials WHERE {where}"
                                   " LIMIT 1", (value,)).fetchone()
            finally:
                conn.row_factory = None
            return from_record(dict(row)) if row else None

        return await self._db.read(run)
