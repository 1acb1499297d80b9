"""The StatementStore contract, written once and run over every reachable engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from lrs.storage import Storage
from statements.datatypes import timestamp_ms
from statements.enrich import StoredStatement, enrich
from statements.errors import Conflict
from statements.indexing import agent_key
from statements.query import StatementQuery
from statements.versions import XapiVersion
from tests.factories import COURSE, make_agent, make_statement, voiding

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "k1"}}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


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
