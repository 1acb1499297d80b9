"""My own history on SQLite: opt-ins, per-day tag keys and the pending buffer, in tables of
their own (none of the tally's)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Sequence

import orjson

from lrs.space.history import OptIn, PendingCopy, PendingRow, tag_of
from statements.stores.sqlite_db import SqliteDatabase, transaction


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE history_opt_ins (owner TEXT PRIMARY KEY, agents BLOB NOT NULL,"
                 " public_key BLOB NOT NULL, space TEXT NOT NULL, since_ms INTEGER NOT NULL)")
    conn.execute("CREATE TABLE history_day_keys (day INTEGER PRIMARY KEY, key BLOB NOT NULL)")
    # Keyed by a random id, without a rowid: the rows are stored in no order that follows
    # their arrival, so none can be matched to the fingerprint written in the same commit.
    conn.execute("CREATE TABLE history_pending (id TEXT PRIMARY KEY, day INTEGER NOT NULL,"
                 " tag BLOB NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID")
    conn.execute("CREATE INDEX history_pending_day ON history_pending(day, tag)")
    conn.execute("CREATE TABLE history_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")


MIGRATIONS = [_schema_v1]


def write_pending_in(conn: sqlite3.Connection, copies: Sequence[PendingCopy],
                     today: int) -> None:
    """Write sealed copies into the buffer in the caller's transaction (the engine's commit,
    the one that writes the tally's hits): both or neither. Each is tagged under the key of
    the first day not flushed yet, read in the same transaction: a flush that closes the
    day meanwhile cannot leave a copy under a forgotten key."""
    if copies:
        day, key = _copy_key_in(conn, today)
        conn.executemany(
            "INSERT INTO history_pending(id, day, tag, sealed) VALUES (?, ?, ?, ?)",
            [(str(uuid.uuid4()), day, tag_of(key, c.owner), c.sealed) for c in copies])


def _copy_key_in(conn: sqlite3.Connection, today: int) -> tuple[int, bytes]:
    day = max(today, _flushed(conn) + 1)
    conn.execute("INSERT OR IGNORE INTO history_day_keys(day, key) VALUES (?, ?)",
                 (day, os.urandom(32)))
    (key,) = conn.execute("SELECT key FROM history_day_keys WHERE day = ?", (day,)).fetchone()
    return day, bytes(key)


class SqliteHistoryStore:
    """HistoryStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the tables."""
        await self._db.migrate(MIGRATIONS, name="history")

    async def opt_in(self, entry: OptIn) -> None:
        await self._db.write(lambda conn: conn.execute(
            "INSERT OR REPLACE INTO history_opt_ins(owner, agents, public_key, space,"
            " since_ms) VALUES (?, ?, ?, ?, ?)", (entry.owner, orjson.dumps(sorted(entry.agents)),
                                                  entry.public_key, entry.space,
                                                  entry.since_ms)))

    async def opt_out(self, owner: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM history_opt_ins WHERE owner = ?",
                                (owner,)).rowcount > 0

        return await self._db.write(run)

    async def get(self, owner: str) -> OptIn | None:
        found = [o for o in await self._select("WHERE owner = ?", (owner,))]
        return found[0] if found else None

    async def opted_in(self) -> list[OptIn]:
        return await self._select("ORDER BY owner", ())

    async def _select(self, where: str, args: tuple[str, ...]) -> list[OptIn]:
        def run(conn: sqlite3.Connection) -> list[OptIn]:
            return [OptIn(owner, frozenset(orjson.loads(agents)), bytes(key), space, since)
                    for owner, agents, key, space, since in conn.execute(
                        "SELECT owner, agents, public_key, space, since_ms FROM history_opt_ins "
                        + where, args)]

        return await self._db.read(run)

    async def day_key(self, day: int, *, create: bool = False) -> bytes | None:
        def read(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute("SELECT key FROM history_day_keys WHERE day = ?",
                               (day,)).fetchone()
            return bytes(row[0]) if row else None

        def make(conn: sqlite3.Connection) -> bytes | None:
            def work(c: sqlite3.Connection) -> bytes | None:
                if day <= _flushed(c):
                    return None  # a closed day never gets a key again
                c.execute("INSERT OR IGNORE INTO history_day_keys(day, key) VALUES (?, ?)",
                          (day, os.urandom(32)))
                return read(c)

            return transaction(conn, work)

        found = await self._db.read(read)
        if found is not None or not create:
            return found
        return await self._db.write(make)

    async def copy_key(self, today: int) -> tuple[int, bytes]:
        return await self._db.write(
            lambda conn: transaction(conn, lambda c: _copy_key_in(c, today)))

    async def pending(self, day: int | None = None) -> list[PendingRow]:
        def run(conn: sqlite3.Connection) -> list[PendingRow]:
            sql = "SELECT id, day, tag, sealed FROM history_pending"
            rows = conn.execute(sql + " WHERE day = ? ORDER BY id", (day,)) \
                if day is not None else conn.execute(sql + " ORDER BY day, id")
            return [PendingRow(i, d, bytes(t), bytes(s)) for i, d, t, s in rows]

        return await self._db.read(run)

    async def move(self, rows: Sequence[str], day: int, tags: Sequence[bytes]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.executemany("UPDATE history_pending SET day = ?, tag = ? WHERE id = ?",
                             [(day, tag, row) for row, tag in zip(rows, tags, strict=True)])

        await self._db.write(lambda conn: transaction(conn, run))

    async def delete_pending(self, row_ids: Sequence[str]) -> int:
        ids = list(row_ids)

        def run(conn: sqlite3.Connection) -> int:
            return sum(conn.execute("DELETE FROM history_pending WHERE id = ?", (i,)).rowcount
                       for i in ids)

        return await self._db.write(lambda conn: transaction(conn, run)) if ids else 0

    async def close_day(self, day: int) -> int:
        def run(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM history_day_keys WHERE day <= ?", (day,))
            deleted = conn.execute("DELETE FROM history_pending WHERE day <= ?",
                                   (day,)).rowcount
            conn.execute("INSERT INTO history_state(name, value) VALUES ('flushed', ?)"
                         " ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
                         (day,))
            return int(deleted)

        return await self._db.write(lambda conn: transaction(conn, run))

    async def flushed_through(self) -> int | None:
        def run(conn: sqlite3.Connection) -> int | None:
            row = conn.execute("SELECT value FROM history_state WHERE name = 'flushed'"
                               ).fetchone()
            return int(row[0]) if row else None

        return await self._db.read(run)


    async def lease_flush(self, *, now_ms: int, until_ms: int) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute(
                "INSERT INTO history_state(name, value) VALUES ('lease', ?) ON CONFLICT(name)"
                " DO UPDATE SET value = excluded.value WHERE value < ?",
                (until_ms, now_ms)).rowcount > 0

        return await self._db.write(run)

    async def end_lease(self) -> None:
        await self._db.write(lambda conn: conn.execute(
            "UPDATE history_state SET value = 0 WHERE name = 'lease'"))


def _flushed(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM history_state WHERE name = 'flushed'").fetchone()
    return int(row[0]) if row else -1
