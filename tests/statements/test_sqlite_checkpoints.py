"""SQLite's WAL is copied into the database file by a thread of its own, not by commits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from statements.stores.sqlite_db import SqliteDatabase, transaction


def fill(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE blobs (data BLOB)")
    conn.executemany("INSERT INTO blobs VALUES (?)", [(bytes(1024),) for _ in range(2048)])


async def test_commits_leave_the_checkpoint_to_the_checkpoint_thread(tmp_path: Path) -> None:
    path = tmp_path / "lrs.db"
    db = SqliteDatabase(path, readers=1)
    try:
        await db.write(lambda conn: transaction(conn, fill))  # 2 MiB, about 520 pages
        # Below the connections' own threshold, the commit left everything in the WAL...
        assert path.stat().st_size < 64 * 1024
        assert (tmp_path / "lrs.db-wal").stat().st_size > 2 * 1024 * 1024
        for _ in range(100):  # ...and the checkpoint thread copies it within a second or so
            if path.stat().st_size > 2 * 1024 * 1024:
                break
            await asyncio.sleep(0.1)
        assert path.stat().st_size > 2 * 1024 * 1024
        assert await db.read(lambda conn: conn.execute("SELECT COUNT(*) FROM blobs")
                             .fetchone()[0]) == 2048
    finally:
        await db.close()
