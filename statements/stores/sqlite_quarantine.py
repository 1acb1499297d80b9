"""The quarantine on SQLite: table `quarantine`, one row per rejected statement."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from statements.errors import Problem
from statements.quarantine import QuarantineEntry
from statements.stores.sqlite_db import SqliteDatabase, transaction

_FIELDS = "id, credential, at, expires, kind, message, problems, body, agents, version"


def _schema_v1(conn: sqlite3.Connection) -> None:
    # problems: a JSON array of [path, message]; agents: a JSON array of agent keys.
    conn.execute("""
        CREATE TABLE quarantine (
            id TEXT PRIMARY KEY, credential TEXT NOT NULL, at INTEGER NOT NULL,
            expires INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,
            problems TEXT NOT NULL, body BLOB NOT NULL, agents TEXT NOT NULL,
            version TEXT NOT NULL
        )""")
    conn.execute("CREATE INDEX quarantine_expires ON quarantine(expires)")
    conn.execute("CREATE INDEX quarantine_kind ON quarantine(kind, at)")


def _row(entry: QuarantineEntry) -> tuple[Any, ...]:
    return (entry.id, entry.credential, entry.at_ms, entry.expires_ms, entry.kind,
            entry.message, orjson.dumps([[p.path, p.message] for p in entry.problems]).decode(),
            entry.body, orjson.dumps(sorted(entry.agents)).decode(), entry.version)


def _entry(row: tuple[Any, ...]) -> QuarantineEntry:
    return QuarantineEntry(row[0], row[1], row[2], row[3], row[4], row[5],
                           tuple(Problem(p, m) for p, m in orjson.loads(row[6])),
                           bytes(row[7]), frozenset(orjson.loads(row[8])), row[9])


class SqliteQuarantineStore:
    """QuarantineStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate([_schema_v1], name="quarantine")

    async def add(self, entries: Sequence[QuarantineEntry]) -> None:
        rows = [_row(e) for e in entries]
        await self._db.write(lambda conn: transaction(conn, lambda c: c.executemany(
            f"INSERT INTO quarantine({_FIELDS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)))

    async def get(self, entry_id: str) -> QuarantineEntry | None:
        def run(conn: sqlite3.Connection) -> QuarantineEntry | None:
            row = conn.execute(f"SELECT {_FIELDS} FROM quarantine WHERE id=?",
                               (entry_id,)).fetchone()
            return _entry(row) if row else None

        return await self._db.read(run)

    async def list(self, kind: str | None = None, credential: str | None = None,
                   limit: int | None = None) -> list[QuarantineEntry]:
        where, params = [], []
        for column, value in (("kind", kind), ("credential", credential)):
            if value is not None:
                where.append(f"{column}=?")
                params.append(value)
        sql = (f"SELECT {_FIELDS} FROM quarantine"
               + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY at, id")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return await self._db.read(
            lambda conn: [_entry(r) for r in conn.execute(sql, params).fetchall()])

    async def kinds(self) -> dict[str, int]:
        return await self._db.read(lambda conn: dict(conn.execute(
            "SELECT kind, COUNT(*) FROM quarantine GROUP BY kind ORDER BY kind").fetchall()))

    async def remove(self, entry_ids: Collection[str]) -> int:
        ids = sorted(entry_ids)

        def run(conn: sqlite3.Connection) -> int:
            return sum(conn.execute("DELETE FROM quarantine WHERE id=?", (i,)).rowcount
                       for i in ids)

        return await self._db.write(lambda conn: transaction(conn, run))

    async def purge(self, now_ms: int, *, dry_run: bool = False) -> int:
        if dry_run:
            return await self._db.read(lambda conn: conn.execute(
                "SELECT COUNT(*) FROM quarantine WHERE expires<=?", (now_ms,)).fetchone()[0])
        return await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "DELETE FROM quarantine WHERE expires<=?", (now_ms,)).rowcount))
