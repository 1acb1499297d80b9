"""The session store of people signed in (lrs.people.sessions) on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from lrs.people import Person
from lrs.people.sessions import SessionRecord, person_from_record, person_to_record
from statements.stores.sqlite_db import SqliteDatabase, transaction


def _schema_v1(conn: sqlite3.Connection) -> None:
    # Times as seconds since the epoch: they compare as numbers, whatever their precision.
    conn.execute("""
        CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            person TEXT NOT NULL,
            id_token TEXT,
            created REAL NOT NULL,
            last_seen REAL NOT NULL
        )""")
    conn.execute("CREATE INDEX sessions_last_seen ON sessions(last_seen)")
    conn.execute("CREATE INDEX sessions_created ON sessions(created)")


class SqliteSessionStore:
    """SessionStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate([_schema_v1], name="sessions")

    async def create(self, record: SessionRecord) -> None:
        row = (record.key, orjson.dumps(person_to_record(record.person)).decode(),
               record.id_token, record.created.timestamp(), record.last_seen.timestamp())
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "INSERT INTO sessions(key, person, id_token, created, last_seen) "
            "VALUES (?, ?, ?, ?, ?)", row)))

    async def get(self, key: str) -> SessionRecord | None:
        def run(conn: sqlite3.Connection) -> SessionRecord | None:
            row = conn.execute("SELECT person, id_token, created, last_seen FROM sessions "
                               "WHERE key=?", (key,)).fetchone()
            if row is None:
                return None
            person, id_token, created, last_seen = row
            return SessionRecord(key=key, person=person_from_record(orjson.loads(person)),
                                 created=datetime.fromtimestamp(created, UTC),
                                 last_seen=datetime.fromtimestamp(last_seen, UTC),
                                 id_token=id_token)

        return await self._db.read(run)

    async def touch(self, key: str, when: datetime) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "UPDATE sessions SET last_seen=MAX(last_seen, ?) WHERE key=?",
            (when.timestamp(), key))))

    async def delete(self, key: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM sessions WHERE key=?", (key,)).rowcount == 1

        return await self._db.write(lambda conn: transaction(conn, run))

    async def delete_expired(self, *, idle_before: datetime, created_before: datetime) -> int:
        def run(conn: sqlite3.Connection) -> int:
            cursor = conn.execute("DELETE FROM sessions WHERE last_seen < ? OR created < ?",
                                  (idle_before.timestamp(), created_before.timestamp()))
            return cursor.rowcount

        return await self._db.write(lambda conn: transaction(conn, run))

    async def delete_where(self, match: Callable[[Person], bool], *,
                           dry_run: bool = False) -> int:
        def run(conn: sqlite3.Connection) -> int:
            ended = [(key,) for key, person in conn.execute("SELECT key, person FROM sessions")
                     if match(person_from_record(orjson.loads(person)))]
            if not dry_run:
                conn.executemany("DELETE FROM sessions WHERE key=?", ended)
            return len(ended)

        return await self._db.write(lambda conn: transaction(conn, run))
