"""A SQLite database for async code: one writer thread, a few reader threads, WAL mode."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from statements.errors import StoreUnavailable

T = TypeVar("T")
Migration = Callable[[sqlite3.Connection], None]
_CHECKPOINT_SECONDS = 0.5
_WAL_BACKSTOP_PAGES = 16_384


class SqliteDatabase:
    """Runs blocking sqlite3 calls off the event loop.

    Writes go through a single thread (SQLite has one writer at a time anyway), so a
    request's writes are one transaction and never wait on a lock held by this process.
    Reads run on a small pool, each thread with its own connection, concurrently with
    writes thanks to WAL.
    """

    def __init__(self, path: Path, *, readers: int = 4, synchronous: str = "NORMAL") -> None:
        self.path = path
        self._synchronous = synchronous
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-write")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-read")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Checkpoints (copying the WAL back into the database file, with an fsync) run on a
        # thread of their own, so a commit never waits for one (see _checkpoints).
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoints, daemon=True,
                                              name="sqlite-checkpoint")
        self._checkpointer.start()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash; only an OS crash or power loss
            # can lose the last commits. LRS_SQLITE_SYNCHRONOUS=FULL closes that gap.
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA busy_timeout=30000")
            # Page cache: 64 MiB for the writer, whose B-tree pages are hot, 16 MiB for each
            # reader (the OS caches the file as well); the server's RSS stays bounded.
            writer = threading.current_thread().name.startswith("sqlite-write")
            conn.execute(f"PRAGMA cache_size=-{65536 if writer else 16384}")
            # The checkpoint thread keeps the WAL short; connections checkpoint themselves
            # only if it falls this far (64 MiB) behind.
            conn.execute(f"PRAGMA wal_autocheckpoint={_WAL_BACKSTOP_PAGES}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    async def migrate(self, migrations: Sequence[Migration], *, name: str) -> None:
        """Apply the migrations of one domain not yet applied, each in its own transaction.

        Versions are counted per domain in the `schema_versions` table, so each store owns
        its schema and the stores of several domains share one file.
        """

        def run() -> None:
            conn = self._connection()
            conn.execute("CREATE TABLE IF NOT EXISTS schema_versions"
                         "(domain TEXT PRIMARY KEY, version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_versions WHERE domain=?",
                               (name,)).fetchone()
            current = row[0] if row else 0
            for number, migration in enumerate(migrations[current:], start=current + 1):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    migration(conn)
                    conn.execute("INSERT INTO schema_versions(domain, version) VALUES (?, ?) "
                                 "ON CONFLICT(domain) DO UPDATE SET version=excluded.version",
                                 (name, number))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise

        await self.write(lambda _conn: run())

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the writer connection, inside no transaction: `work` opens its own."""
        return await self._run(self._writer, work)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on a reader connection."""
        return await self._run(self._readers, work)

    async def _run(self, pool: ThreadPoolExecutor, work: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            try:
                return work(self._connection())
            except sqlite3.Error as exc:  # translated here: sqlite3 never reaches lrs/
                raise StoreUnavailable(f"SQLite error: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(pool, call)

    def _checkpoints(self) -> None:
        """Every so often, copy what the WAL holds into the database file (PASSIVE: never
        blocks the writer or the readers; what it cannot copy yet waits for the next round)."""
        conn: sqlite3.Connection | None = None
        try:
            while not self._closing.wait(_CHECKPOINT_SECONDS):
                try:
                    if conn is None:
                        if not self.path.exists():
                            continue
                        conn = sqlite3.connect(self.path, isolation_level=None, timeout=1)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue  # busy or not yet in WAL mode: the next round will do
        finally:
            if conn is not None:
                conn.close()

    async def close(self) -> None:
        """Finish queued work, then close every connection."""
        self._closing.set()
        await asyncio.to_thread(self._checkpointer.join)
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


def transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` in one BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run `;`-separated DDL inside the current transaction (executescript would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def backup(source: Path, destination: Path, *, pages_per_step: int = 1024) -> None:
    """Copy the database at `source` into a new file `destination` with SQLite's online
    backup API: a consistent snapshot (WAL content included) taken while writers go on.

    Copies `pages_per_step` pages at a time, so a busy writer is never held up for long.
    """
    if not source.is_file():
        raise StoreUnavailable(f"no SQLite database at {source}")
    if destination.exists():
        raise StoreUnavailable(f"{destination} exists; a backup never overwrites a file")
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src, \
                closing(sqlite3.connect(destination)) as dst:
            src.backup(dst, pages=pages_per_step)
            (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        destination.unlink(missing_ok=True)
        raise StoreUnavailable(f"SQLite error: {exc}") from exc
    if verdict != "ok":
        destination.unlink(missing_ok=True)
        raise StoreUnavailable(f"the backup failed its integrity check: {verdict}")
