"""The MongoDB engine beyond the shared contract: without transactions, writers racing at
the worst moment, indexes, driver errors. Runs on SecantusDB (MongoDB wire protocol, not
mongod) like the `mongodb` engine of the contract suite."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from lrs.config import Settings
from lrs.credentials.mongo import MongoCredentialStore
from lrs.storage import open_storage
from statements.errors import Conflict, StoreUnavailable
from statements.query import StatementQuery
from statements.stores import mongo
from statements.stores.mongo import MongoStatementStore
from tests.factories import make_statement, voiding
from tests.statements.test_store_contract import prepared

Document = dict[str, Any]
Hook = Callable[[], Awaitable[None]]


class Interleaved(MongoStatementStore):
    """A store that lets another writer in just before its next insert: after it has read
    which ids are held, before it writes (the worst moment for a race)."""

    hook: Hook | None = None

    async def _insert(self, documents: list[Document], session: AsyncClientSession | None,
                      written: list[str] | None) -> None:
        hook, self.hook = self.hook, None
        if hook is not None:
            await hook()
        await super()._insert(documents, session, written)


@pytest.fixture
async def client(secantus_url: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    opened: AsyncMongoClient[Document] = AsyncMongoClient(secantus_url, w="majority")
    yield opened
    await opened.close()


async def open_store(client: AsyncMongoClient[Document], database: str, *,
                     transactions: bool) -> Interleaved:
    store = Interleaved(client, client[database], transactions=transactions)
    await store.open()
    return store


@pytest.fixture(params=[True, False], ids=["transactions", "no-transactions"])
async def pair(request: pytest.FixtureRequest, client: AsyncMongoClient[Document],
               ) -> tuple[Interleaved, Interleaved]:
    """Two stores on one database: the one under test and the concurrent writer."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    return (await open_store(client, database, transactions=request.param),
            await open_store(client, database, transactions=request.param))


async def ids(store: MongoStatementStore) -> list[str]:
    page = await store.query(StatementQuery(limit=100))
    return sorted(orjson.loads(b)["id"] for b in page.statements)


async def test_a_concurrent_equal_insert_is_skipped(pair: tuple[Interleaved, Interleaved]) -> None:
    store, other = pair
    statement, fresh = prepared(make_statement()), prepared(make_statement())

    async def race() -> None:
        await other.save([statement])

    store.hook = race
    outcome = await store.save([fresh, statement])
    assert outcome.stored_ids == [fresh.id]
    assert await ids(store) == sorted([fresh.id, statement.id])


async def test_a_concurrent_different_insert_conflicts_and_nothing_is_left(
    pair: tuple[Interleaved, Interleaved],
) -> None:
    store, other = pair
    statement, fresh = make_statement(), prepared(make_statement())
    changed = prepared({**statement, "verb": {"id": "http://example.com/verbs/failed"}})

    async def race() -> None:
        await other.save([changed])

    store.hook = race
    with pytest.raises(Conflict) as caught:
        await store.save([fresh, prepared(statement)])
    assert caught.value.problems[0].path == "$[1].id"
    assert await ids(store) == [changed.id]  # `fresh`, inserted first, was undone or aborted


@pytest.mark.parametrize("target_first", [False, True],
                         ids=["target-arrives-during-void", "void-arrives-during-target"])
async def test_a_voiding_statement_and_its_target_racing_end_voided(
    pair: tuple[Interleaved, Interleaved], target_first: bool,
) -> None:
    store, other = pair
    target = prepared(make_statement())
    void = prepared(voiding(target.id))
    saved, racing = (target, void) if target_first else (void, target)

    async def race() -> None:
        await other.save([racing])

    store.hook = race
    assert (await store.save([saved])).stored_ids == [saved.id]
    assert await store.get(target.id, voided=True) is not None
    assert await ids(store) == [void.id]


async def test_a_save_that_keeps_losing_races_ends_whole_or_absent(
    pair: tuple[Interleaved, Interleaved], monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, other = pair
    monkeypatch.setattr(store.kernel, "attempts", 2)
    statements = [prepared(make_statement()) for _ in range(3)]
    remaining = list(statements)

    async def race() -> None:
        # Before each of our inserts, someone voids the last statement not yet raced for:
        # its stub takes the id, after the ones before it were inserted.
        if remaining:
            await other.save([prepared(voiding(remaining.pop().id))])
            store.hook = race

    store.hook = race
    if await store.kernel.transactions():
        # Each stub commits inside our open transaction: a write conflict, which
        # with_transaction retries until no one races any more; then all are stored voided.
        assert (await store.save(statements)).stored_ids == [s.id for s in statements]
        for statement in statements:
            assert await store.get(statement.id, voided=True) is not None
    else:
        # Each attempt inserts the statements before the raced one, then undoes them.
        with pytest.raises(StoreUnavailable):
            await store.save(statements)
        for statement in statements:
            for voided in (False, True):
                assert await store.get(statement.id, voided=voided) is None


async def test_open_twice_keeps_one_set_of_indexes(client: AsyncMongoClient[Document]) -> None:
    database = f"t_{uuid.uuid4().hex[:12]}"
    await open_store(client, database, transactions=True)
    await open_store(client, database, transactions=True)
    names = [i["name"] async for i in await client[database]["statements"].list_indexes()]
    assert sorted(names) == sorted(["_id_", *(m.document["name"] for m in mongo.INDEXES)])


async def test_open_finds_out_that_the_replica_set_runs_transactions(
    client: AsyncMongoClient[Document],
) -> None:
    store = MongoStatementStore(client, client[f"t_{uuid.uuid4().hex[:12]}"])
    await store.open()
    assert await store.kernel.transactions() is True


async def test_driver_errors_become_store_unavailable(secantus_url: str) -> None:
    client: AsyncMongoClient[Document] = AsyncMongoClient(secantus_url)
    database = client[f"t_{uuid.uuid4().hex[:12]}"]
    store = MongoStatementStore(client, database)
    credentials = MongoCredentialStore(database)
    await store.open()
    # Every call now raises pymongo's InvalidOperation; not save: start_session on a closed
    # client reopens it and waits for a server (see the test below for saves).
    await client.close()
    with pytest.raises(StoreUnavailable):
        await store.open()
    with pytest.raises(StoreUnavailable):
        await store.get(str(uuid.uuid4()), voided=False)
    with pytest.raises(StoreUnavailable):
        await store.query(StatementQuery(limit=1, verb="http://x.org/v"))
    with pytest.raises(StoreUnavailable):
        await credentials.get("key")
    with pytest.raises(StoreUnavailable):
        await credentials.open()


async def test_a_transactional_save_gives_up_within_its_timeout(tmp_path: Path) -> None:
    # No server: a Unix socket path that does not exist, so that every connection attempt
    # fails at once. (A TCP port with no listener also leaked a socket: PyMongo 4.20 closes
    # it on OSError and TimeoutError, not when close() cancels the attempt in flight,
    # PYTHON-5867.) with_transaction alone would retry its TransientTransactionError for 120 s.
    nowhere = quote(str(tmp_path / "nothing.sock"), safe="")
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        f"mongodb://{nowhere}/", serverSelectionTimeoutMS=100, connectTimeoutMS=100)
    store = MongoStatementStore(client, client["t"], transactions=True, save_timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailable):
            await store.save([prepared(make_statement())])
    finally:
        await store.close()
    assert time.monotonic() - started < 5


async def test_mongo_attachment_chunks_are_read_through_an_index(secantus_url: str) -> None:
    database = f"t_{uuid.uuid4().hex[:12]}"
    storage = await open_storage(Settings(store=secantus_url, mongodb_database=database))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(secantus_url)
    try:
        indexes = await client[database]["attachment_chunks"].index_information()
    finally:
        await client.close()
        await storage.close()
    assert [key for key, _ in indexes["sha2_n"]["key"]] == ["sha2", "n"]
