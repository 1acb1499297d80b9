"""An SQLite store made before credentials kept "last used" is upgraded in place."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from lrs.config import Settings
from lrs.storage import open_storage


async def test_sqlite_credentials_v1_gain_last_used_and_keep_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "lrs.db"
    with closing(sqlite3.connect(path)) as conn:  # the schema as version 1 left it
        conn.executescript("""
            CREATE TABLE schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL);
            INSERT INTO schema_versions VALUES ('credentials', 1);
            CREATE TABLE credentials (key TEXT PRIMARY KEY, name TEXT NOT NULL,
                secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, retention TEXT NOT NULL,
                authority TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT);
            CREATE INDEX credentials_name ON credentials(name);
            INSERT INTO credentials VALUES ('k1', 'lms', 'scrypt$x', 'all', 'full', '{}',
                '2026-01-01T00:00:00+00:00', NULL);
        """)
    storage = await open_storage(Settings(data_dir=tmp_path, store=f"sqlite:///{path}"))
    try:
        old = await storage.credentials.get("k1")
        assert old is not None and old.name == "lms" and old.last_used is None
        await storage.credentials.record_use("k1", datetime(2026, 2, 1, tzinfo=UTC))
        used = await storage.credentials.get("k1")
        assert used is not None and used.last_used == datetime(2026, 2, 1, tzinfo=UTC)
    finally:
        await storage.close()
