"""SpaceStore on SQLite: the blobs in the main database file, the keyring in a database file of
its own (`<store>.keyring` beside it: `lrs.db.keyring`), so operators can back the two up on
different schedules."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from pathlib import Path

from lrs.space import Blob, KeyRecord, Mode, SpaceChanged, SpaceExists, SpaceNotFound
from statements.stores.sqlite_db import SqliteDatabase, transaction

_KEY_COLUMNS = ("owner, space, mode, created_ms, kek_id, wrapped_data_key, public_key, "
                "by_passphrase, by_recovery")


def keyring_path(database: Path) -> Path:
    """Where the keyring of the store at `database` lives: beside it, its name starting with
    the store's, so that erasure treats it as the store's own file (erased through the
    store, never rewritten line by line: lrs.erasure_files)."""
    return database.with_name(f"{database.name}.keyring")


def _blobs_v1(conn: sqlite3.Connection) -> None:
    # No time, no owner: the main database says only that some space holds some blobs.
    conn.execute("""
        CREATE TABLE space_blobs (
            space TEXT NOT NULL,
            id TEXT NOT NULL,
            kind TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (space, id)
        ) WITHOUT ROWID""")


def _keyring_v1(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE space_keys (
            owner TEXT PRIMARY KEY,
            space TEXT NOT NULL UNIQUE,
            mode TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            kek_id TEXT,
            wrapped_data_key BLOB,
            public_key BLOB,
            by_passphrase BLOB,
            by_recovery BLOB
        )""")


def _row(record: KeyRecord) -> tuple[object, ...]:
    return (record.owner, record.space, record.mode.value, record.created_ms, record.kek_id,
            record.wrapped_data_key, record.public_key, record.by_passphrase,
            record.by_recovery)


def _record(row: tuple[object, ...]) -> KeyRecord:
    owner, space, mode, created_ms, kek_id, wrapped, public, by_pass, by_rec = row
    return KeyRecord(str(owner), str(space), Mode(str(mode)), int(str(created_ms)),
                     kek_id if isinstance(kek_id, str) else None,
                     *(bytes(v) if isinstance(v, bytes) else None
                       for v in (wrapped, public, by_pass, by_rec)))


def _secure(conn: sqlite3.Connection) -> None:
    # Deleted key records are overwritten with zeros, not left in free pages.
    conn.execute("PRAGMA secure_delete=ON")


class SqliteSpaceStore:
    """SpaceStore over the engine's database (blobs) and a keyring database of its own."""

    def __init__(self, db: SqliteDatabase, keyring: Path) -> None:
        self._db = db
        # FULL: a key is written rarely and is worth more than anything it opens (a blob
        # whose key a power cut lost would be unreadable for good).
        self._keys = SqliteDatabase(keyring, synchronous="FULL")

    async def open(self) -> None:
        """Create or upgrade both schemas."""
        await self._db.migrate([_blobs_v1], name="space")
        await self._keys.migrate([_keyring_v1], name="keyring")

    async def close(self) -> None:
        await self._keys.close()

    async def create_key(self, record: KeyRecord) -> None:
        def run(conn: sqlite3.Connection) -> bool:
            _secure(conn)
            return conn.execute(f"INSERT INTO space_keys({_KEY_COLUMNS}) VALUES "
                                "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(owner) DO NOTHING",
                                _row(record)).rowcount == 1

        if not await self._keys.write(lambda conn: transaction(conn, run)):
            raise SpaceExists()

    async def key_of(self, owner: str) -> KeyRecord | None:
        def run(conn: sqlite3.Connection) -> KeyRecord | None:
            row = conn.execute(f"SELECT {_KEY_COLUMNS} FROM space_keys WHERE owner=?",
                               (owner,)).fetchone()
            return _record(row) if row is not None else None

        return await self._keys.read(run)

    async def replace_key(self, record: KeyRecord) -> None:
        def run(conn: sqlite3.Connection) -> str | None:
            _secure(conn)
            if conn.execute(
                    "UPDATE space_keys SET mode=?, kek_id=?, wrapped_data_key=?, public_key=?, "
                    "by_passphrase=?, by_recovery=? WHERE owner=? AND space=? "
                    "AND (public_key IS NULL OR public_key=?)",
                    (*_row(record)[2:3], *_row(record)[4:], record.owner, record.space,
                     record.public_key)).rowcount == 1:
                return None
            held = conn.execute("SELECT 1 FROM space_keys WHERE owner=? AND space=?",
                                (record.owner, record.space)).fetchone()
            return "changed" if held else "missing"

        refused = await self._keys.write(lambda conn: transaction(conn, run))
        if refused == "missing":
            raise SpaceNotFound()
        if refused == "changed":
            raise SpaceChanged()
        await self._keys.write(_checkpoint)  # the old wrapped keys out of the log too

    async def put_blob(self, blob: Blob) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            "INSERT INTO space_blobs(space, id, kind, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(space, id) DO UPDATE SET kind=excluded.kind, data=excluded.data",
            (blob.space, blob.id, blob.kind, blob.data))))

    async def blob(self, space: str, blob_id: str) -> Blob | None:
        def run(conn: sqlite3.Connection) -> Blob | None:
            row = conn.execute("SELECT kind, data FROM space_blobs WHERE space=? AND id=?",
                               (space, blob_id)).fetchone()
            return Blob(space, blob_id, row[0], bytes(row[1])) if row is not None else None

        return await self._db.read(run)

    async def blobs(self, space: str, kind: str | None = None) -> list[Blob]:
        def run(conn: sqlite3.Connection) -> list[Blob]:
            sql = "SELECT id, kind, data FROM space_blobs WHERE space=?"
            args: tuple[str, ...] = (space,)
            if kind is not None:
                sql, args = sql + " AND kind=?", (space, kind)
            return [Blob(space, i, k, bytes(d)) for i, k, d in conn.execute(sql, args)]

        return await self._db.read(run)

    async def count_blobs(self, space: str, kind: str | None = None) -> int:
        def run(conn: sqlite3.Connection) -> int:
            if kind is None:
                row = conn.execute("SELECT COUNT(*) FROM space_blobs WHERE space=?", (space,))
            else:
                row = conn.execute("SELECT COUNT(*) FROM space_blobs WHERE space=? AND kind=?",
                                   (space, kind))
            return int(row.fetchone()[0])

        return await self._db.read(run)

    async def delete_blobs(self, space: str, ids: Collection[str] | None = None, *,
                           kind: str | None = None) -> int:
        def run(conn: sqlite3.Connection) -> int:
            if ids is not None:
                return sum(conn.execute(
                    "DELETE FROM space_blobs WHERE space=? AND id=?" + (
                        " AND kind=?" if kind is not None else ""),
                    (space, i, kind) if kind is not None else (space, i)).rowcount
                    for i in ids)
            if kind is not None:
                return conn.execute("DELETE FROM space_blobs WHERE space=? AND kind=?",
                                    (space, kind)).rowcount
            return conn.execute("DELETE FROM space_blobs WHERE space=?", (space,)).rowcount

        return await self._db.write(lambda conn: transaction(conn, run))

    async def destroy(self, owner: str) -> bool:
        def forget_key(conn: sqlite3.Connection) -> str | None:
            _secure(conn)
            row = conn.execute("SELECT space FROM space_keys WHERE owner=?",
                               (owner,)).fetchone()
            conn.execute("DELETE FROM space_keys WHERE owner=?", (owner,))
            return str(row[0]) if row is not None else None

        space = await self._keys.write(lambda conn: transaction(conn, forget_key))
        # The key's old pages out of the write-ahead log too, not only out of the table.
        await self._keys.write(_checkpoint)
        if space is None:
            return False
        await self.delete_blobs(space)
        return True


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
