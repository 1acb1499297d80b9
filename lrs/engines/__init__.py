"""The storage engines (DESIGN §5): each a module here, found by the store URL's scheme.

`lrs.storage` knows an engine only through `Engine`; adding an engine is adding a module
that defines `open_engine(url, settings)` and a line in `REGISTRY`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Protocol

from aggregation.plan import Batch, Plan
from aggregation.store import TallyStore
from lrs.config import Settings
from lrs.credentials import CredentialStore
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

# URL scheme → the module that opens it (imported only when used: no driver loaded for
# an engine nobody asked for).
REGISTRY = {
    "sqlite": "lrs.engines.sqlite",
    "mongodb": "lrs.engines.mongodb",
    "mongodb+srv": "lrs.engines.mongodb",
}


class BatchStore(Protocol):
    """The one writer of statement requests: commits a batch's plan in one transaction."""

    async def commit(self, batch: Batch, history: Sequence[PendingCopy] = ()) -> Plan:
        """Read what the store holds about `batch`, plan it (`aggregation.plan.plan_batch`)
        and write the plan, atomically; return the plan written. Raises
        `statements.errors.Conflict` (nothing written) for an id held with other content.
        `history`: sealed copies for My own history (lrs.space.history), written in the
        same transaction, each only if its statement is tallied for the first time."""
        ...


class Engine(Protocol):
    """An opened (and migrated) store: its domain stores, and what operations ask of it."""

    name: str  # for health answers and metric labels
    resource: Any  # the engine's own handle (tests and tools of that engine only)
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
    forwarding: ForwardingStore  # destinations, rules, outbox (lrs.forwarding)
    quarantine: QuarantineStore  # rejected statements kept a while (docs/quarantine.md)

    @property
    def marks(self) -> MarkStore:
        """The marks of flagged statements (lrs.door)."""
        ...

    @property
    def frameworks(self) -> FrameworkStore:
        """Frameworks of objectives and their assignment to groups (lrs.objectives)."""
        ...

    @property
    def history(self) -> HistoryStore:
        """My own history's opt-ins, day keys and pending buffer (lrs.space.history)."""
        ...

    @property
    def space(self) -> SpaceStore:
        """The learners' spaces: the blobs and the keyring kept apart (lrs.space)."""
        ...

    @property
    def grants(self) -> GrantStore:
        """Learners' grants, share links and their read log (lrs.sharing)."""
        ...

    async def ping(self) -> None:
        """Return once the engine answered a cheap query; StoreUnavailable otherwise."""
        ...

    async def table_sizes(self) -> dict[str, int]:
        """Rows (documents) of the tables that grow with traffic."""
        ...

    async def layout(self) -> frozenset[str]:
        """The schema's parts as comparable names ("index statements.verb", "schema tally
        v1")."""
        ...

    async def close(self) -> None:
        """Close the engine's connections."""
        ...


# The tables (collections) that grow with traffic; every engine names them alike.
SIZED_TABLES = ("statements", "attachments", "fingerprints", "tally_hours", "tally_days",
                "tally_learners")


async def open_engine(url: str, settings: Settings) -> Engine:
    """Open (create or migrate) the engine that `url`'s scheme names."""
    scheme = url.partition(":")[0]
    module = REGISTRY.get(scheme) if "://" in url else None
    if module is None:
        raise ValueError(f"unsupported store URL {url!r}: use one of "
                         f"{', '.join(f'{s}://…' for s in REGISTRY)}")
    opener: Any = importlib.import_module(module).open_engine
    engine: Engine = await opener(url, settings)
    return engine
