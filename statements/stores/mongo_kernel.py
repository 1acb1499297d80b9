"""The MongoDB kernel: the client, sessions, transactions and their retries, and the one
table that maps driver errors to ours (pymongo never reaches `lrs/`).

Every MongoDB store of every domain runs its database calls through `guard` and its
multi-document writes through `MongoKernel.run`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pymongo
from bson.errors import BSONError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DocumentTooLarge, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from statements.errors import Problem, StoreUnavailable, TooLarge

T = TypeVar("T")
Document = dict[str, Any]
DUPLICATE_KEY = 11000
_ATTEMPTS = 10


class Raced(Exception):
    """A concurrent writer took an id this write meant to take: plan and write again."""


def _too_large(exc: Exception) -> Exception:
    return TooLarge("a statement is too large for the store (16 MB per document)",
                    (Problem("$", "too large to store"),))


def _unavailable(exc: Exception) -> Exception:
    return StoreUnavailable(f"MongoDB error: {exc}")


# The one table from driver errors to ours, most specific first.
ERRORS: tuple[tuple[type[Exception], Callable[[Exception], Exception]], ...] = (
    (DocumentTooLarge, _too_large),
    (PyMongoError, _unavailable),
    (BSONError, _unavailable),
)


def translate(exc: Exception) -> Exception:
    """Our error for a driver error (a store that cannot answer, unless the table says)."""
    return next((make(exc) for kind, make in ERRORS if isinstance(exc, kind)),
                _unavailable(exc))


async def guard(work: Awaitable[T]) -> T:
    """Await `work`, driver errors translated through `ERRORS`."""
    try:
        return await work
    except (PyMongoError, BSONError) as exc:
        raise translate(exc) from exc


def is_duplicate(exc: Exception) -> bool:
    """Whether a write failed only because an `_id` (or unique key) is taken."""
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)
    return False


class MongoKernel:
    """One client and its database, shared by every MongoDB store of an engine.

    `transactions` says whether the deployment runs multi-document transactions (a replica
    set or a sharded cluster); None asks the server when first needed. `timeout` bounds,
    in seconds, a transactional write with its retries.
    """

    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], *,
                 transactions: bool | None = None, timeout: float = 30.0) -> None:
        self.client = client
        self.db = db
        self._transactions = transactions
        self._timeout = timeout
        self.attempts = _ATTEMPTS  # of `run`, each after a Raced

    async def transactions(self) -> bool:
        """Whether the deployment runs multi-document transactions."""
        if self._transactions is None:
            hello = await guard(self.client.admin.command("hello"))
            sessions = hello.get("logicalSessionTimeoutMinutes") is not None
            self._transactions = sessions and (hello.get("setName") is not None
                                               or hello.get("msg") == "isdbgrid")
        return self._transactions

    async def run(self, work: Callable[[AsyncClientSession | None], Awaitable[T]], *,
                  timeout: float | None = None) -> T:
        """Run `work` in one snapshot transaction with majority write concern (on a
        deployment without transactions, with None for the session), driver errors
        translated.

        `with_transaction` retries the whole of `work` on TransientTransactionError (a
        write conflict with a concurrent transaction, a network error, no primary) and the
        commit on an unknown result, within `timeout`; `work` raising Raced (an id taken
        by a concurrent writer meanwhile: a duplicate key is not transient) runs it again,
        so that it sees the other writer's result.
        """
        for _ in range(self.attempts):
            try:
                if not await self.transactions():
                    return await guard(work(None))
                return await guard(self._in_transaction(work, timeout or self._timeout))
            except Raced:
                continue
        raise StoreUnavailable(f"writes kept colliding with concurrent writers "
                               f"({self.attempts} attempts)")

    async def _in_transaction(self, work: Callable[[AsyncClientSession | None], Awaitable[T]],
                              timeout: float) -> T:
        async def callback(session: AsyncClientSession) -> T:
            return await work(session)

        with pymongo.timeout(timeout):
            async with self.client.start_session() as session:
                return await session.with_transaction(
                    callback, read_concern=ReadConcern("snapshot"),
                    write_concern=WriteConcern("majority"))

    async def close(self) -> None:
        """Close the client."""
        await guard(self.client.close())
