"""The MongoDB engine: every domain store over one database through one kernel
(statements.stores.mongo_kernel), and its one-transaction commit."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from aggregation.plan import Batch, Known, Plan, plan_batch
from aggregation.stores.mongo import MongoTallyStore
from lrs.config import Settings
from lrs.credentials.mongo import MongoCredentialStore
from lrs.credentials.mongo_sessions import MongoSessionStore
from lrs.engines import SIZED_TABLES
from lrs.forwarding.mongo import MongoForwardingStore
from lrs.objectives.mongo import MongoFrameworkStore
from lrs.sharing.mongo import MongoGrantStore
from lrs.space.history import PendingCopy
from lrs.space.history_mongo import MongoHistoryStore
from lrs.space.mongo import MongoSpaceStore, keyring_database
from plugins.stores.mongo import MongoCatalogueStore
from statements.plan import Held
from statements.stores.mongo import MongoStatementStore
from statements.stores.mongo_attachments import put_attachments
from statements.stores.mongo_compliance import MongoComplianceStore
from statements.stores.mongo_documents import MongoActivityStore, MongoDocumentStore
from statements.stores.mongo_erasure import MongoErasureStore
from statements.stores.mongo_kernel import MongoKernel, guard
from statements.stores.mongo_marks import MongoMarkStore
from statements.stores.mongo_quarantine import MongoQuarantineStore


class MongoBatches:
    """BatchStore on MongoDB: a batch's plan made and written in one transaction."""

    def __init__(self, kernel: MongoKernel, statements: MongoStatementStore,
                 tally: MongoTallyStore, forwarding: MongoForwardingStore) -> None:
        self._kernel = kernel
        self._forwarding = forwarding
        self._statements = statements
        self._tally = tally
        self.marks = MongoMarkStore(kernel.db)
        self.history = MongoHistoryStore(kernel.db)

    async def commit(self, batch: Batch, history: Sequence[PendingCopy] = ()) -> Plan:
        # Attachment bytes first, outside the transaction (they may be large): kept once
        # per SHA-2, so a failed batch leaves at most unreferenced, reusable chunks.
        await guard(put_attachments(self._kernel.db, batch.attachments))

        async def work(session: AsyncClientSession | None) -> Plan:
            # Read in the transaction that writes: a concurrent writer of the same ids
            # makes one of the two conflict and plan again (MongoKernel.run).
            kept = await self._statements.held(batch.ids, batch.targets, session)
            tallied, takeable = await self._tally.known(batch, session)
            held = kept.held
            plan = plan_batch(batch, Known(Held(held.kept, tallied, held.voided_before,
                                                held.targets), takeable))
            await self._statements.write_plan(plan.statements, kept.stubs, session)
            await guard(self.marks.write(plan.marks, session))
            await self._tally.write_plan(plan, session)
            if history:  # My own history: copies of the statements tallied now, not retries
                new = {t.statement_id for t in plan.fingerprints}
                await self.history.write_pending(
                    [c for c in history if c.statement_id in new], batch.day, session)
            # In the same transaction as the statements it forwards. Without transactions
            # (a standalone server) it is written just after them: docs/forwarding.md.
            await self._forwarding.write_outbox(plan.outbox, int(time.time() * 1000), session)
            return plan

        plan = await self._kernel.run(work)
        await self._tally.count_decisions(plan)
        return plan


@dataclass
class MongoEngine:
    """The stores of one MongoDB database."""

    kernel: MongoKernel
    statements: MongoStatementStore
    documents: MongoDocumentStore
    activities: MongoActivityStore
    tally: MongoTallyStore
    catalogue: MongoCatalogueStore
    credentials: MongoCredentialStore
    erasure: MongoErasureStore
    compliance: MongoComplianceStore
    batches: MongoBatches
    sessions: MongoSessionStore
    forwarding: MongoForwardingStore
    quarantine: MongoQuarantineStore
    name: str = "mongodb"

    @property
    def marks(self) -> MongoMarkStore:
        """The marks of flagged statements (lrs.door), written by the batches' commit."""
        return self.batches.marks

    @functools.cached_property
    def frameworks(self) -> MongoFrameworkStore:
        """Frameworks of objectives and their assignment to groups (lrs.objectives)."""
        return MongoFrameworkStore(self.kernel.db)

    @functools.cached_property
    def space(self) -> MongoSpaceStore:
        """The learners' spaces; the keyring in a database of its own."""
        db = self.kernel.db
        return MongoSpaceStore(db, self.kernel.client[keyring_database(db.name)])

    @property
    def history(self) -> MongoHistoryStore:
        """My own history's opt-ins, day keys and pending buffer (lrs.space.history)."""
        return self.batches.history

    @functools.cached_property
    def grants(self) -> MongoGrantStore:
        """Learners' grants, share links and their read log (lrs.sharing)."""
        return MongoGrantStore(self.kernel.db)

    @property
    def resource(self) -> Any:
        """The client (for this engine's tests and tools)."""
        return self.kernel.client

    async def ping(self) -> None:
        await guard(self.kernel.client.admin.command("ping"))

    async def table_sizes(self) -> dict[str, int]:
        db = self.kernel.db
        return {table: await guard(db[table].estimated_document_count())
                for table in SIZED_TABLES}

    async def layout(self) -> frozenset[str]:
        db = self.kernel.db

        async def read() -> frozenset[str]:
            parts = set()
            for collection in await db.list_collection_names():
                async for index in await db[collection].list_indexes():
                    parts.add(f"index {collection}.{index['name']}")
            return frozenset(parts)

        return await guard(read())

    async def close(self) -> None:
        await self.kernel.close()


async def open_engine(url: str, settings: Settings) -> MongoEngine:
    """Connect to `mongodb://…` (or `mongodb+srv://…`) and create the indexes."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, tz_aware=True, w="majority", appname="tally-lrs")
    db = client.get_default_database(default=settings.mongodb_database)
    kernel = MongoKernel(client, db)
    statements = MongoStatementStore(client, db, kernel=kernel)
    tally = MongoTallyStore(statements, db)
    forwarding = MongoForwardingStore(db)
    engine = MongoEngine(
        kernel, statements, MongoDocumentStore(db), MongoActivityStore(db), tally,
        MongoCatalogueStore(db), MongoCredentialStore(db), MongoErasureStore(statements, db),
        MongoComplianceStore(db), MongoBatches(kernel, statements, tally, forwarding),
        MongoSessionStore(db), forwarding, MongoQuarantineStore(db))
    for store in (statements, engine.documents, engine.activities, tally, engine.catalogue,
                  engine.credentials, engine.erasure, engine.compliance, engine.sessions,
                  forwarding, engine.quarantine, engine.frameworks, engine.space,
                  engine.history,
                  engine.grants):
        await store.open()
    return engine
