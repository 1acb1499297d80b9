"""The StatementStore contract, written once and run over every reachable engine."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from lrs.config import Settings
from lrs.storage import Storage
from statements.datatypes import timestamp_ms
from statements.enrich import StoredStatement, enrich
from statements.errors import Conflict
from statements.indexing import agent_key
from statements.query import StatementQuery
from statements.stores.mongo import MongoStatementStore
from statements.versions import XapiVersion
from tests.conftest import ENGINES
from tests.factories import COURSE, make_agent, make_statement, voiding

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "k1"}}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


NO_TRANSACTIONS = "mongodb-without-transactions"


@pytest.fixture(params=[*ENGINES, NO_TRANSACTIONS])
def engine(request: pytest.FixtureRequest) -> str:
    """Every engine, and MongoDB once more told the deployment has no transactions (a
    standalone mongod: ordered inserts with a compensating undo instead)."""
    return str(request.param)


@pytest.fixture
async def storage(engine: str, settings: Settings, storage: Storage
                  ) -> AsyncIterator[Storage]:
    """conftest's storage; for NO_TRANSACTIONS, with a statement store that does without."""
    if engine != NO_TRANSACTIONS:
        yield storage
        return
    client = storage._resource
    statements = MongoStatementStore(client, client[settings.mongodb_database],
                                     transactions=False)
    await statements.open()
    yield replace(storage, engine=NO_TRANSACTIONS, statements=statements)


def prepared(statement: dict[str, Any], at: datetime = T0,
             authority: dict[str, Any] = AUTHORITY) -> StoredStatement:
    return enrich(statement, statement_id=statement["id"], stored=at, authority=authority,
                  version=XapiVersion.V2)


async def ids_of(storage: Storage, **query: Any) -> list[str]:
    page = await storage.statements.query(StatementQuery(limit=query.pop("limit", 100), **query))
    return [orjson.loads(body)["id"] for body in page.statements]


async def test_store_save_then_get_returns_the_enriched_statement(storage: Storage) -> None:
    statement = make_statement()
    await storage.statements.save([prepared(statement)])
    body = await storage.statements.get(statement["id"], voided=False)
    assert body is not None
    got = orjson.loads(body)
    assert got["id"] == statement["id"]
    assert got["stored"] == "2026-03-01T12:00:00.000Z"
    assert got["authority"] == AUTHORITY
    assert got["actor"] == statement["actor"]
    assert await storage.statements.get(statement["id"], voided=True) is None


async def test_store_save_same_id_same_content_is_a_no_op(storage: Storage) -> None:
    statement = make_statement()
    first = await storage.statements.save([prepared(statement)])
    again = await storage.statements.save([prepared(statement, T0 + timedelta(seconds=5))])
    assert first.stored_ids == [statement["id"]]
    assert again.stored_ids == []
    body = await storage.statements.get(statement["id"], voided=False)
    assert body is not None and orjson.loads(body)["stored"] == "2026-03-01T12:00:00.000Z"


async def test_store_save_same_id_other_content_conflicts_and_writes_nothing(
    storage: Storage,
) -> None:
    statement = make_statement()
    await storage.statements.save([prepared(statement)])
    fresh = make_statement()
    changed = {**statement, "verb": {"id": "http://example.com/verbs/failed"}}
    with pytest.raises(Conflict):
        await storage.statements.save([prepared(fresh), prepared(changed)])
    assert await storage.statements.get(fresh["id"], voided=False) is None


async def test_store_voiding_applies_whichever_arrives_first(storage: Storage) -> None:
    before, after, same_batch = make_statement(), make_statement(), make_statement()
    await storage.statements.save([prepared(before)])
    await storage.statements.save([prepared(voiding(before["id"]))])
    await storage.statements.save([prepared(voiding(after["id"]))])
    await storage.statements.save([prepared(after)])
    await storage.statements.save([prepared(voiding(same_batch["id"])), prepared(same_batch)])
    for statement in (before, after, same_batch):
        assert await storage.statements.get(statement["id"], voided=False) is None
        assert await storage.statements.get(statement["id"], voided=True) is not None
        assert statement["id"] not in await ids_of(storage)


async def test_store_a_voiding_statement_cannot_be_voided(storage: Storage) -> None:
    target = make_statement()
    void = voiding(target["id"])
    await storage.statements.save([prepared(target), prepared(void)])
    await storage.statements.save([prepared(voiding(void["id"]))])
    assert await storage.statements.get(void["id"], voided=False) is not None


async def test_store_query_filters_by_agent_in_actor_object_and_group_members(
    storage: Storage,
) -> None:
    bob = make_agent("bob")
    as_actor = make_statement(actor=bob)
    as_object = make_statement(object=bob, context=None)
    in_group = make_statement(actor={"objectType": "Group", "member": [make_agent("eve"), bob]})
    as_instructor = make_statement(context={"instructor": bob})
    other = make_statement()
    await storage.statements.save([prepared(s) for s in
                                   (as_actor, as_object, in_group, as_instructor, other)])
    key = agent_key(bob)
    assert set(await ids_of(storage, agent=key)) == {as_actor["id"], as_object["id"],
                                                     in_group["id"]}
    assert set(await ids_of(storage, agent=key, related_agents=True)) == {
        as_actor["id"], as_object["id"], in_group["id"], as_instructor["id"]}


async def test_store_query_related_agents_reaches_authority(storage: Storage) -> None:
    statement = make_statement()
    await storage.statements.save([prepared(statement)])
    key = agent_key(AUTHORITY)
    assert await ids_of(storage, agent=key) == []
    assert await ids_of(storage, agent=key, related_agents=True) == [statement["id"]]


async def test_store_query_filters_by_activity_verb_registration(storage: Storage) -> None:
    plain = make_statement()
    parent_only = make_statement(object={"id": "http://example.com/other"})
    sub = make_statement(object={
        "objectType": "SubStatement", "actor": make_agent("sam"), "verb": {"id": "http://x.org/v"},
        "object": {"id": COURSE}}, context=None)
    await storage.statements.save([prepared(s) for s in (plain, parent_only, sub)])
    assert await ids_of(storage, activity=COURSE) == [plain["id"]]
    assert set(await ids_of(storage, activity=COURSE, related_activities=True)) == {
        plain["id"], sub["id"]}
    assert set(await ids_of(storage, activity="http://example.com/programme",
                            related_activities=True)) == {plain["id"], parent_only["id"]}
    assert await ids_of(storage, verb="http://x.org/v") == []  # a SubStatement's verb is not
    assert len(await ids_of(storage, verb=plain["verb"]["id"])) == 3
    registration = plain["context"]["registration"]
    assert await ids_of(storage, registration=registration) == [plain["id"]]


async def test_store_query_matches_statements_referring_to_a_match(storage: Storage) -> None:
    # Communication §2.1.3.s3: a StatementRef object matches when its target does.
    target = make_statement(actor=make_agent("rita"))
    refers = make_statement(actor=make_agent("sam"),
                            object={"objectType": "StatementRef", "id": target["id"]},
                            context=None)
    refers_again = make_statement(actor=make_agent("tom"),
                                  object={"objectType": "StatementRef", "id": refers["id"]},
                                  context=None)
    await storage.statements.save([prepared(s) for s in (target, refers, refers_again)])
    got = await ids_of(storage, agent=agent_key(make_agent("rita")))
    assert set(got) == {target["id"], refers["id"], refers_again["id"]}


async def test_store_query_keeps_statements_targeting_voided_ones(storage: Storage) -> None:
    target = make_statement()
    void = voiding(target["id"])
    await storage.statements.save([prepared(target), prepared(void)])
    assert await ids_of(storage, agent=agent_key(target["actor"])) == [void["id"]]


async def test_store_query_orders_by_stored_and_filters_the_window(storage: Storage) -> None:
    statements = [make_statement() for _ in range(5)]
    for minute, statement in enumerate(statements):
        await storage.statements.save([prepared(statement, T0 + timedelta(minutes=minute))])
    ids = [s["id"] for s in statements]
    assert await ids_of(storage) == ids[::-1]
    assert await ids_of(storage, ascending=True) == ids
    since, until = timestamp_ms(T0 + timedelta(minutes=1)), timestamp_ms(T0 + timedelta(minutes=3))
    assert await ids_of(storage, since_ms=since, until_ms=until, ascending=True) == ids[2:4]


async def test_store_query_pages_stay_stable_while_statements_arrive(storage: Storage) -> None:
    batch = [make_statement() for _ in range(7)]
    await storage.statements.save([prepared(s) for s in batch])  # one `stored` for all
    seen: list[str] = []
    query = StatementQuery(limit=3, ascending=True)
    while True:
        page = await storage.statements.query(query)
        seen += [orjson.loads(b)["id"] for b in page.statements]
        await storage.statements.save([prepared(make_statement(), T0 + timedelta(hours=1))])
        if page.after is None or len(seen) >= 7:
            break
        query = StatementQuery(limit=3, ascending=True, after=page.after,
                               until_ms=timestamp_ms(T0))
    assert sorted(seen) == sorted(s["id"] for s in batch)


async def test_store_query_filters_by_authority(storage: Storage) -> None:
    mine, theirs = make_statement(), make_statement()
    other = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "k2"}}
    await storage.statements.save([prepared(mine), prepared(theirs, authority=other)])
    assert await ids_of(storage, authority=agent_key(other)) == [theirs["id"]]


async def test_store_keeps_extension_keys_with_dots(storage: Storage) -> None:
    extensions = {"http://example.com/ext.v1/score.detail": {"a.b": 1, "$odd": None}}
    statement = make_statement(result={"extensions": extensions})
    await storage.statements.save([prepared(statement)])
    body = await storage.statements.get(statement["id"], voided=False)
    assert body is not None and orjson.loads(body)["result"]["extensions"] == extensions


# Learned from the MongoDB engine: concurrent writers (transactions there are snapshot-
# isolated, not serialised), values JSON holds and BSON does not, StatementRef cycles.

async def test_store_concurrent_saves_of_one_statement_store_it_once(storage: Storage) -> None:
    for _ in range(5):
        statement = make_statement()
        outcomes = await asyncio.gather(*(storage.statements.save([prepared(statement)])
                                          for _ in range(3)))
        assert sorted(len(o.stored_ids) for o in outcomes) == [0, 0, 1]
        assert await ids_of(storage, registration=statement["context"]["registration"]) == [
            statement["id"]]


async def test_store_concurrent_saves_of_one_id_with_other_content_conflict(
    storage: Storage,
) -> None:
    for _ in range(5):
        statement = make_statement()
        changed = {**statement, "verb": {"id": "http://example.com/verbs/failed"}}
        results = await asyncio.gather(storage.statements.save([prepared(statement)]),
                                       storage.statements.save([prepared(changed)]),
                                       return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["Conflict", "SaveOutcome"]
        body = await storage.statements.get(statement["id"], voided=False)
        assert body is not None
        winner = next(s for s, r in zip((statement, changed), results, strict=True)
                      if not isinstance(r, BaseException))
        assert orjson.loads(body)["verb"] == winner["verb"]


async def test_store_voiding_saved_concurrently_with_its_target_voids_it(
    storage: Storage,
) -> None:
    # Two requests, neither seeing the other's write: the target must still end up voided.
    targets = [make_statement() for _ in range(8)]
    await asyncio.gather(*(job for target in targets for job in (
        storage.statements.save([prepared(voiding(target["id"]))]),
        storage.statements.save([prepared(target)]))))
    for target in targets:
        assert await storage.statements.get(target["id"], voided=False) is None
        assert await storage.statements.get(target["id"], voided=True) is not None
    assert not {t["id"] for t in targets} & set(await ids_of(storage))


async def test_store_voiding_an_absent_statement_lists_nothing_for_it(storage: Storage) -> None:
    absent = make_statement()
    void = voiding(absent["id"])
    await storage.statements.save([prepared(void)])
    assert await ids_of(storage) == [void["id"]]
    assert await ids_of(storage, agent=agent_key(absent["actor"])) == [void["id"]]
    for voided in (False, True):
        assert await storage.statements.get(absent["id"], voided=voided) is None


async def test_store_a_voiding_statement_arriving_after_one_voiding_it_stays_live(
    storage: Storage,
) -> None:
    target = make_statement()
    second = voiding(target["id"])
    await storage.statements.save([prepared(voiding(second["id"]))])
    await storage.statements.save([prepared(second)])
    assert await storage.statements.get(second["id"], voided=False) is not None
    assert await storage.statements.get(second["id"], voided=True) is None


async def test_store_conflict_leaves_voiding_unapplied(storage: Storage) -> None:
    target, held = make_statement(), make_statement()
    await storage.statements.save([prepared(target), prepared(held)])
    changed = {**held, "verb": {"id": "http://example.com/verbs/failed"}}
    with pytest.raises(Conflict):
        await storage.statements.save([prepared(voiding(target["id"])), prepared(changed)])
    assert await storage.statements.get(target["id"], voided=False) is not None


async def test_store_round_trips_json_values_bson_lacks(storage: Storage) -> None:
    extensions = {"http://example.com/ext": {
        "$ref": "x", "$id": 1, "$db": None,  # a DBRef to PyMongo, were it kept as is
        "~tilde": "~", "%25": "%00", "nul\u0000key": "nul\u0000value",
        "uint64": 2**64 - 1, "int64": -(2**63), "float": 1.0, "negative_zero": -0.0,
        "nested": [[{"$set": [1, 2.5, True, None]}], {}], "a.b": {"c.d": 1},
    }}
    statement = make_statement(result={"extensions": extensions})
    await storage.statements.save([prepared(statement)])
    body = await storage.statements.get(statement["id"], voided=False)
    assert body is not None
    got = orjson.loads(body)["result"]["extensions"]
    assert got == extensions
    assert repr(got) == repr(extensions)  # ints stay ints, floats floats, key order kept
    page = await storage.statements.query(StatementQuery(limit=10))
    assert page.statements == [body]


async def test_store_query_follows_statement_ref_chains_and_cycles(storage: Storage) -> None:
    rita = make_agent("rita")
    target = make_statement(actor=rita)
    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    # A cycle among statements that do not match, hanging off a match, and one that does not.
    first = make_statement(id=first_id, actor=make_agent("sam"), context=None,
                           object={"objectType": "StatementRef", "id": second_id})
    second = make_statement(id=second_id, actor=make_agent("tom"), context=None,
                            object={"objectType": "StatementRef", "id": first_id})
    hook = make_statement(actor=make_agent("ann"), context=None,
                          object={"objectType": "StatementRef", "id": target["id"]})
    into_cycle = make_statement(actor=make_agent("ann"), context=None,
                                object={"objectType": "StatementRef", "id": first_id})
    await storage.statements.save([prepared(s) for s in (target, first, second, hook,
                                                         into_cycle)])
    assert set(await ids_of(storage, agent=agent_key(rita))) == {target["id"], hook["id"]}
    assert set(await ids_of(storage, agent=agent_key(make_agent("sam")))) == {
        first_id, second_id, into_cycle["id"]}


async def test_store_query_pages_through_referring_statements(storage: Storage) -> None:
    rita = make_agent("rita")
    chain = [make_statement(actor=rita)]
    for _ in range(6):
        chain.append(make_statement(actor=make_agent("sam"), context=None,
                                    object={"objectType": "StatementRef", "id": chain[-1]["id"]}))
    await storage.statements.save([prepared(make_statement(actor=make_agent("sam")))])
    for minute, statement in enumerate(chain):
        await storage.statements.save([prepared(statement, T0 + timedelta(minutes=minute))])
    for ascending in (False, True):
        seen: list[str] = []
        query = StatementQuery(agent=agent_key(rita), limit=2, ascending=ascending)
        while True:
            page = await storage.statements.query(query)
            seen += [orjson.loads(b)["id"] for b in page.statements]
            if page.after is None:
                break
            query = replace(query, after=page.after)
        expected = [s["id"] for s in chain]
        assert seen == (expected if ascending else expected[::-1])
