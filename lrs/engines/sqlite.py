"""The SQLite engine: every domain store over one database file, and its one-transaction commit."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregation.plan import Batch, Known, Plan, plan_batch
from aggregation.stores.sqlite import Dims, SqliteTallyStore, known_in
from lrs.config import Settings
from lrs.credentials.sqlite import SqliteCredentialStore
from lrs.engines import SIZED_TABLES
from plugins.stores.sqlite import SqliteCatalogueStore
from statements.errors import StoreUnavailable
from statements.plan import Held
from statements.stores.sqlite import SqliteStatementStore, held_in, write_in
from statements.stores.sqlite_activities import SqliteActivityStore
from statements.stores.sqlite_compliance import SqliteComplianceStore
from statements.stores.sqlite_db import SqliteDatabase, transaction
from statements.stores.sqlite_documents import SqliteDocumentStore
from statements.stores.sqlite_erasure import SqliteErasureStore

# Hits journalled, not yet rolled up into counters: counted with the tables' sizes.
_BACKLOG = ("tally_journal",)


class SqliteBatches:
    """BatchStore on SQLite: one write transaction per batch, on the one writer thread."""

    def __init__(self, db: SqliteDatabase, tally: SqliteTallyStore) -> None:
        self._db = db
        self._tally = tally

    async def commit(self, batch: Batch) -> Plan:
        roll_up = self._tally.roll_up_due(len(batch.tallied))

        def write(conn: sqlite3.Connection) -> tuple[Plan, dict[Dims, int]]:
            # Read and written in one transaction on the one writer: nothing can come
            # between what the plan was made from and what it writes.
            held = held_in(conn, batch.ids, batch.targets, [s.id for s in batch.kept])
            tallied, takeable = known_in(conn, batch)
            plan = plan_batch(batch, Known(Held(held.kept, tallied, held.voided_before,
                                                held.targets), takeable))
            write_in(conn, plan.statements, plan.attachments)
            return plan, self._tally.write_in(conn, plan)

        def run(conn: sqlite3.Connection) -> tuple[Plan, dict[Dims, int]]:
            done = transaction(conn, write)
            if roll_up:  # after the batch's commit, in a transaction of its own
                self._tally.roll_up_in(conn)
            return done

        plan, numbered = await self._db.write(run)
        self._tally.committed(numbered, hits=len(plan.fingerprints), rolled=roll_up)
        return plan


@dataclass
class SqliteEngine:
    """The stores of one SQLite file."""

    resource: SqliteDatabase
    statements: SqliteStatementStore
    documents: SqliteDocumentStore
    activities: SqliteActivityStore
    tally: SqliteTallyStore
    catalogue: SqliteCatalogueStore
    credentials: SqliteCredentialStore
    erasure: SqliteErasureStore
    compliance: SqliteComplianceStore
    batches: SqliteBatches
    name: str = "sqlite"

    async def ping(self) -> None:
        # Through the read path, so a stuck reader pool shows as not ready too.
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def table_sizes(self) -> dict[str, int]:
        def count(conn: sqlite3.Connection) -> dict[str, int]:
            present = {name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                    for table in (*SIZED_TABLES, *_BACKLOG) if table in present}

        sizes: dict[str, int] = await self._read(count)
        return sizes

    async def layout(self) -> frozenset[str]:
        def read(conn: sqlite3.Connection) -> frozenset[str]:
            parts = {f"{kind} {name}" for kind, name in conn.execute(
                "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')")}
            for domain, version in conn.execute(
                    "SELECT domain, version FROM schema_versions"):
                parts.update(f"schema {domain} v{n}" for n in range(1, version + 1))
            return frozenset(parts)

        layout: frozenset[str] = await self._read(read)
        return layout

    async def close(self) -> None:
        await self.resource.close()

    async def _read(self, work: Any) -> Any:
        try:
            return await self.resource.read(work)
        except RuntimeError as exc:  # the pools were shut down: the database is closed
            raise StoreUnavailable("the SQLite database is closed") from exc


async def open_engine(url: str, settings: Settings) -> SqliteEngine:
    """Open (create, migrate) the SQLite file that `sqlite:///path` names."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"unsupported store URL {url!r}: use sqlite:///path")
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(path, synchronous=settings.sqlite_synchronous)
    tally = SqliteTallyStore(db)
    engine = SqliteEngine(
        db, SqliteStatementStore(db), SqliteDocumentStore(db), SqliteActivityStore(db), tally,
        SqliteCatalogueStore(db), SqliteCredentialStore(db), SqliteErasureStore(db),
        SqliteComplianceStore(db), SqliteBatches(db, tally))
    # The compliance store after the statements: it triggers on their tables.
    for store in (engine.statements, engine.documents, engine.activities, tally,
                  engine.catalogue, engine.credentials, engine.erasure, engine.compliance):
        await store.open()
    return engine
