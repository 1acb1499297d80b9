"""Opening the configured engine: every domain store over one SQLite file or MongoDB database.

The engines are found by the store URL's scheme (`lrs.engines.REGISTRY`); nothing here
names one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aggregation.plan import Batch, Plan
from aggregation.store import TallyStore
from lrs.config import Settings
from lrs.credentials import CredentialStore
from lrs.engines import SIZED_TABLES, BatchStore, Engine, open_engine
from lrs.forwarding import ForwardingStore
from lrs.objectives import FrameworkStore
from lrs.people.sessions import SessionStore
from lrs.sharing import GrantStore
from lrs.space import SpaceStore
from lrs.space.history import HistoryStore, PendingCopy
from plugins.catalogue_store import CatalogueStore
from statements.activities import ActivityStore
from statements.compliance import ComplianceStore
from statements.documents import DocumentStore
from statements.erasure import ErasureStore
from statements.marks import MarkStore
from statements.quarantine import QuarantineStore
from statements.store import StatementStore

__all__ = ["SIZED_TABLES", "Storage", "open_storage"]


@dataclass
class Storage:
    """The stores of one engine, opened together and closed together."""

    engine: str
    statements: StatementStore
    documents: DocumentStore
    activities: ActivityStore
    tally: TallyStore
    catalogue: CatalogueStore
    credentials: CredentialStore
    erasure: ErasureStore
    compliance: ComplianceStore
    batches: BatchStore
    sessions: SessionStore  # people signed in (lrs.people)
    forwarding: ForwardingStore  # destinations, rules and the outbox (lrs.forwarding)
    quarantine: QuarantineStore  # rejected statements kept a while (docs/quarantine.md)
    _engine: Engine
    _layout: frozenset[str] = frozenset()  # the schema as opening (migrating) left it

    @property
    def _resource(self) -> Any:
        """The engine's own handle (for that engine's tests and tools)."""
        return self._engine.resource

    @property
    def marks(self) -> MarkStore:
        """The findings of flag-mode door checks kept beside statements (lrs.door)."""
        return self._engine.marks

    @property
    def frameworks(self) -> FrameworkStore:
        """Frameworks of objectives and their assignment to groups (lrs.objectives)."""
        return self._engine.frameworks

    @property
    def space(self) -> SpaceStore:
        """The learners' spaces: encrypted blobs, and the keyring kept apart (lrs.space)."""
        return self._engine.space

    @property
    def grants(self) -> GrantStore:
        """Learners' grants, share links and their read log (lrs.sharing)."""
        return self._engine.grants

    @property
    def history(self) -> HistoryStore:
        """My own history: opt-ins, day keys, the pending buffer (lrs.space.history)."""
        return self._engine.history

    async def commit(self, batch: Batch, history: Sequence[PendingCopy] = ()) -> Plan:
        """Plan and write one request's statements in one transaction (BatchStore.commit),
        with the sealed copies of My own history (lrs.space.history) in it."""
        return await self.batches.commit(batch, history)

    async def missing_layout(self) -> list[str]:
        """What the schema had when this process opened (and migrated) the store and has
        lost since: a dropped index or table, a schema version older than this code's.

        A store migrated further by a newer version is not missing anything: migrations
        only add, so older processes keep working through a rolling upgrade.
        """
        now = await self._engine.layout()
        return sorted(self._layout - now)

    async def close(self) -> None:
        """Close the engine's connections."""
        await self._engine.close()

    async def ping(self) -> None:
        """Return once the engine has answered a cheap query; StoreUnavailable otherwise."""
        await self._engine.ping()

    async def table_sizes(self) -> dict[str, int]:
        """Rows (documents) in the tables that grow with traffic, for the metrics.

        SQLite counts them (a scan of the smallest index); MongoDB answers from collection
        metadata (`estimatedDocumentCount`), so its figures may lag after a crash.
        """
        return await self._engine.table_sizes()


async def open_storage(settings: Settings) -> Storage:
    """Open (and create or migrate) the store named by `settings.store_url()`."""
    engine = await open_engine(settings.store_url(), settings)
    storage = Storage(engine.name, engine.statements, engine.documents, engine.activities,
                      engine.tally, engine.catalogue, engine.credentials, engine.erasure,
                      engine.compliance, engine.batches, engine.sessions, engine.forwarding,
                      engine.quarantine, engine)
    storage._layout = await engine.layout()
    return storage
