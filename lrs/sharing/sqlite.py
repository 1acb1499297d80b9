"""The grant store (lrs.sharing.GrantStore) on SQLite: tables `grants` and `grant_reads`."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import orjson

from lrs.sharing import Grant, Read, grant_from_record, grant_to_record
from statements.stores.sqlite_db import SqliteDatabase, transaction

_COLUMNS = ("id", "learner", "learner_agent", "learner_name", "objective", "objective_title",
            "grantee", "grantee_label", "token_hash", "created", "starts", "expires",
            "revoked", "wrapped_key", "sealed")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM grants"


def _schema_v1(conn: sqlite3.Connection) -> None:
    # Times as seconds since the epoch (REAL): they compare as numbers.
    conn.execute("""
        CREATE TABLE grants (
            id TEXT PRIMARY KEY,
            learner TEXT NOT NULL,
            learner_agent TEXT NOT NULL,
            learner_name TEXT NOT NULL,
            objective TEXT NOT NULL,
            objective_title TEXT NOT NULL,
            grantee TEXT,
            grantee_label TEXT NOT NULL,
            token_hash TEXT UNIQUE,
            created REAL NOT NULL,
            starts REAL NOT NULL,
            expires REAL NOT NULL,
            revoked REAL,
            wrapped_key BLOB,
            sealed BLOB
        )""")
    conn.execute("CREATE INDEX grants_learner ON grants(learner, created)")
    conn.execute("CREATE INDEX grants_grantee ON grants(grantee, created)")
    conn.execute("CREATE INDEX grants_expires ON grants(expires)")
    conn.execute("""
        CREATE TABLE grant_reads (
            id TEXT PRIMARY KEY,
            grant_id TEXT NOT NULL,
            learner TEXT NOT NULL,
            reader TEXT NOT NULL,
            at REAL NOT NULL,
            what TEXT NOT NULL
        )""")
    conn.execute("CREATE INDEX grant_reads_learner ON grant_reads(learner, at)")


def _grant(row: tuple[Any, ...]) -> Grant:
    record = dict(zip(_COLUMNS, row, strict=True))
    record["learner_agent"] = orjson.loads(record["learner_agent"])
    return grant_from_record(record)


class SqliteGrantStore:
    """GrantStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate([_schema_v1], name="sharing")

    async def add(self, grant: Grant) -> None:
        record = grant_to_record(grant)
        record["learner_agent"] = orjson.dumps(record["learner_agent"]).decode()
        row = tuple(record[c] for c in _COLUMNS)
        sql = (f"INSERT INTO grants({', '.join(_COLUMNS)}) "
               f"VALUES ({', '.join('?' for _ in _COLUMNS)})")
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(sql, row)))

    async def _one(self, where: str, value: str) -> Grant | None:
        def run(conn: sqlite3.Connection) -> Grant | None:
            row = conn.execute(f"{_SELECT} WHERE {where} = ?", (value,)).fetchone()
            return _grant(row) if row is not None else None

        return await self._db.read(run)

    async def get(self, grant_id: str) -> Grant | None:
        return await self._one("id", grant_id)

    async def find_token(self, token_hash: str) -> Grant | None:
        return await self._one("token_hash", token_hash)

    async def _many(self, where: str, value: str) -> list[Grant]:
        def run(conn: sqlite3.Connection) -> list[Grant]:
            return [_grant(row) for row in conn.execute(
                f"{_SELECT} WHERE {where} = ? ORDER BY created DESC, id", (value,))]

        return await self._db.read(run)

    async def of_learner(self, learner: str) -> list[Grant]:
        return await self._many("learner", learner)

    async def of_grantee(self, grantee: str) -> list[Grant]:
        return await self._many("grantee", grantee)

    async def revoke(self, grant_id: str, learner: str, when: datetime) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE grants SET revoked = ?, wrapped_key = NULL, sealed = NULL "
                "WHERE id = ? AND learner = ? AND revoked IS NULL",
                (when.timestamp(), grant_id, learner))
            return cursor.rowcount == 1

        return await self._db.write(lambda conn: transaction(conn, run))

    async def destroy_expired(self, now: datetime) -> int:
        def run(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE grants SET wrapped_key = NULL, sealed = NULL "
                "WHERE expires <= ? AND (wrapped_key IS NOT NULL OR sealed IS NOT NULL)",
                (now.timestamp(),))
            return cursor.rowcount

        return await self._db.write(lambda conn: transaction(conn, run))

    async def log_read(self, read: Read) -> None:
        row = (read.id, read.grant, read.learner, read.reader, read.at.timestamp(), read.what)
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "INSERT INTO grant_reads(id, grant_id, learner, reader, at, what) "
            "VALUES (?, ?, ?, ?, ?, ?)", row)))

    async def reads(self, learner: str, *, limit: int = 200) -> list[Read]:
        def run(conn: sqlite3.Connection) -> list[Read]:
            return [Read(id=i, grant=g, learner=learner, reader=r,
                         at=datetime.fromtimestamp(at, UTC), what=w)
                    for i, g, r, at, w in conn.execute(
                        "SELECT id, grant_id, reader, at, what FROM grant_reads "
                        "WHERE learner = ? ORDER BY at DESC, id LIMIT ?", (learner, limit))]

        return await self._db.read(run)

    async def erase_person(self, identity: str, *, dry_run: bool = False) -> int:
        def run(conn: sqlite3.Connection) -> int:
            ids = [(i,) for (i,) in conn.execute(
                "SELECT id FROM grants WHERE learner = ? OR grantee = ?", (identity, identity))]
            if not dry_run:
                conn.executemany("DELETE FROM grant_reads WHERE grant_id = ?", ids)
                conn.execute("DELETE FROM grant_reads WHERE learner = ?", (identity,))
                conn.executemany("DELETE FROM grants WHERE id = ?", ids)
            return len(ids)

        return await self._db.write(lambda conn: transaction(conn, run))
