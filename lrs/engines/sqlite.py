"""The SQLite engine: every domain store over one database file, and its one-transaction commit."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregation.plan import Batch, Known, Plan, plan_batch
from aggregation.stores.sqlite import Dims, SqliteTallyStore, known_in
from lrs.config import Settings
from lrs.credentials.sqlite import SqliteCredentialStore
from lrs.credentials.sqlite_sessions import SqliteSessionStore
from lrs.engines import SIZED_TABLES
from lrs.forwarding.sqlite import SqliteForwardingStore, write_outbox_in
from lrs.objectives.sqlite import SqliteFrameworkStore
from lrs.sharing.sqlite import SqliteGrantStore
from lrs.space.history import PendingCopy
from lrs.space.history_sqlite import SqliteHistoryStore, write_pending_in
from lrs.space.sqlite import SqliteSpaceStore, keyring_path
from plugins.stores.sqlite import SqliteCatalogueStore
from statements.errors import StoreUnavailable, XapiError
from statements.plan import Held
from statements.stores.sqlite import SqliteStatementStore, held_in, write_in
from statements.stores.sqlite_activities import SqliteActivityStore
from statements.stores.sqlite_compliance import SqliteComplianceStore
from statements.stores.sqlite_db import SqliteDatabase, transaction
from statements.stores.sqlite_documents import SqliteDocumentStore
from statements.stores.sqlite_erasure import SqliteErasureStore
from statements.stores.sqlite_marks import SqliteMarkStore, write_marks_in
from statements.stores.sqlite_quarantine import SqliteQuarantineStore

# Hits journalled, not yet rolled up into counters: counted with the tables' sizes.
_BACKLOG = ("tally_journal",)
# Batches written in one transaction at most (a round holds the writer this long).
_GROUP_MAX = 64


class SqliteBatches:
    """BatchStore on SQLite: the batches of concurrent requests committed together.

    Group commit: while the writer thread is busy, the batches that arrive wait; the next
    round plans and writes all of them in one transaction (a batch the plan refuses, a 409,
    is refused before it writes anything and its request answered with the error), and
    answers every request once that transaction has committed. Batches of one
    round are planned in order, each against the store as the ones before it left it, so
    two requests carrying the same statement store and count it once.
    """

    def __init__(self, db: SqliteDatabase, tally: SqliteTallyStore) -> None:
        self._db = db
        self._tally = tally
        self._waiting: list[tuple[Batch, Sequence[PendingCopy], asyncio.Future[Plan]]] = []
        self._rounds: asyncio.Task[None] | None = None

    async def commit(self, batch: Batch, history: Sequence[PendingCopy] = ()) -> Plan:
        answer: asyncio.Future[Plan] = asyncio.get_running_loop().create_future()
        self._waiting.append((batch, history, answer))
        if self._rounds is None:
            # Its own task, so a request that goes away never stops the others' round.
            self._rounds = asyncio.create_task(self._run_rounds())
        return await asyncio.shield(answer)

    async def _run_rounds(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting[:_GROUP_MAX], self._waiting[_GROUP_MAX:]
                await self._round(group)
        finally:
            self._rounds = None

    async def _round(self, group: list[tuple[Batch, Sequence[PendingCopy],
                                            asyncio.Future[Plan]]]) -> None:
        roll_up = self._tally.roll_up_due(sum(len(b.tallied) for b, _, _ in group))

        def run(conn: sqlite3.Connection) -> list[tuple[Plan, dict[Dims, int]] | XapiError]:
            done = transaction(conn, lambda c: [_write(c, b, self._tally, h)
                                                for b, h, _ in group])
            if roll_up:  # after the round's commit, in a transaction of its own
                self._tally.roll_up_in(conn)
            return done

        try:
            results = await self._db.write(run)
        except BaseException as exc:  # the round's transaction failed: every batch of it
            for _, _, answer in group:
                if not answer.done():
                    answer.set_exception(exc if isinstance(exc, Exception)
                                         else StoreUnavailable("the write was cancelled"))
            if not isinstance(exc, Exception):
                raise
            return
        hits = 0
        for (_, _, answer), result in zip(group, results, strict=True):
            if isinstance(result, Exception):
                answer.set_exception(result)
                continue
            plan, numbered = result
            self._tally.remember(numbered)
            hits += len(plan.fingerprints)
            answer.set_result(plan)
        self._tally.journalled(hits, rolled=roll_up)


def _write(conn: sqlite3.Connection, batch: Batch, tally: SqliteTallyStore,
           history: Sequence[PendingCopy] = ()) -> tuple[Plan, dict[Dims, int]] | XapiError:
    """Plan `batch` against what the store holds and write the plan, in the caller's
    transaction: nothing can come between what the plan was made from and what it writes.

    A batch the plan refuses (a 409) is refused before it writes anything, so the other
    batches of the round go on without it and no savepoint is needed (one would cost a copy
    of every page the batch touches).
    """
    held = held_in(conn, batch.ids, batch.targets, [s.id for s in batch.kept])
    tallied, takeable = known_in(conn, batch)
    try:
        plan = plan_batch(batch, Known(Held(held.kept, tallied, held.voided_before,
                                            held.targets), takeable))
    except XapiError as exc:  # this batch's own fault: the others go on
        return exc
    write_in(conn, plan.statements, plan.attachments)
    # The outbox in the same transaction as the statements it forwards: both or neither.
    write_outbox_in(conn, plan.outbox, int(time.time() * 1000))
    write_marks_in(conn, plan.marks)
    if history:  # My own history: copies of the statements tallied now (never of a retry)
        new = {t.statement_id for t in plan.fingerprints}
        write_pending_in(conn, [c for c in history if c.statement_id in new], batch.day)
    return plan, tally.write_in(conn, plan)


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
    sessions: SqliteSessionStore
    forwarding: SqliteForwardingStore
    quarantine: SqliteQuarantineStore
    name: str = "sqlite"

    @functools.cached_property
    def marks(self) -> SqliteMarkStore:
        """The marks of flagged statements (lrs.door)."""
        return SqliteMarkStore(self.resource)

    @functools.cached_property
    def frameworks(self) -> SqliteFrameworkStore:
        """Frameworks of objectives and their assignment to groups (lrs.objectives)."""
        return SqliteFrameworkStore(self.resource)

    @functools.cached_property
    def history(self) -> SqliteHistoryStore:
        """My own history's opt-ins, day keys and pending buffer (lrs.space.history)."""
        return SqliteHistoryStore(self.resource)

    @functools.cached_property
    def space(self) -> SqliteSpaceStore:
        """The learners' spaces; the keyring in a file of its own beside the database."""
        return SqliteSpaceStore(self.resource, keyring_path(self.resource.path))

    @functools.cached_property
    def grants(self) -> SqliteGrantStore:
        """Learners' grants, share links and their read log (lrs.sharing)."""
        return SqliteGrantStore(self.resource)

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
        await self.space.close()
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
        SqliteComplianceStore(db), SqliteBatches(db, tally), SqliteSessionStore(db),
        SqliteForwardingStore(db), SqliteQuarantineStore(db))
    # The compliance store after the statements: it triggers on their tables.
    for store in (engine.statements, engine.documents, engine.activities, tally,
                  engine.catalogue, engine.credentials, engine.erasure, engine.compliance,
                  engine.sessions, engine.forwarding, engine.quarantine, engine.marks,
                  engine.frameworks, engine.space, engine.history,
                  engine.grants):
        await store.open()
    return engine
