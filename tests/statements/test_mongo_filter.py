"""The MongoDB engine's pure parts: query translation and statements as BSON, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import bson
import orjson
import pytest
from bson.decimal128 import Decimal128

from statements.enrich import enrich
from statements.indexing import agent_key
from statements.query import StatementQuery
from statements.stores.mongo import (
    build_filter,
    chunks,
    match_filter,
    seed_pipeline,
    sort_order,
    window_clauses,
)
from statements.stores.mongo_codec import (
    decode_statement,
    encode_statement,
    statement_document,
    statement_json,
)
from statements.versions import XapiVersion
from tests.factories import COURSE, VERB_COMPLETED, make_agent, make_statement, voiding

BOB = agent_key(make_agent("bob"))
LIVE = {"voided": False}


def test_no_filter_is_only_live_statements() -> None:
    query = StatementQuery(limit=10)
    assert match_filter(query) is None
    assert build_filter(query) == LIVE
    assert build_filter(query, ["ignored-without-a-filter"]) == LIVE


@pytest.mark.parametrize(("query", "expected"), [
    (StatementQuery(agent=BOB), {"agents": BOB}),
    (StatementQuery(agent=BOB, related_agents=True), {"rel_agents": BOB}),
    (StatementQuery(verb=VERB_COMPLETED), {"verb": VERB_COMPLETED}),
    (StatementQuery(activity=COURSE), {"activity": COURSE}),
    (StatementQuery(activity=COURSE, related_activities=True), {"rel_activities": COURSE}),
    (StatementQuery(registration="0b7e2ac8-9d37-4bb4-9fd6-46e0f38d6a2e"),
     {"registration": "0b7e2ac8-9d37-4bb4-9fd6-46e0f38d6a2e"}),
    # related_* without the filter they widen changes nothing.
    (StatementQuery(verb=VERB_COMPLETED, related_agents=True, related_activities=True),
     {"verb": VERB_COMPLETED}),
    (StatementQuery(agent=BOB, verb=VERB_COMPLETED, activity=COURSE, registration="r"),
     {"agents": BOB, "verb": VERB_COMPLETED, "activity": COURSE, "registration": "r"}),
])
def test_match_filter_uses_one_indexed_field_per_filter(
    query: StatementQuery, expected: dict[str, Any],
) -> None:
    assert match_filter(query) == expected
    assert build_filter(query) == {"$and": [expected, LIVE]}


def test_referring_statements_match_beside_the_filter() -> None:
    query = StatementQuery(agent=BOB, limit=5)
    assert build_filter(query, ["a", "b"]) == {"$and": [
        {"$or": [{"agents": BOB}, {"_id": {"$in": ["a", "b"]}}]}, LIVE]}


def test_window_since_exclusive_until_inclusive_and_authority() -> None:
    query = StatementQuery(since_ms=100, until_ms=200, authority="account:x|k")
    assert window_clauses(query) == [LIVE, {"stored": {"$gt": 100}},
                                     {"stored": {"$lte": 200}}, {"authority": "account:x|k"}]
    assert build_filter(query) == {"$and": window_clauses(query)}


def test_window_applies_to_referring_statements_too() -> None:
    query = StatementQuery(verb=VERB_COMPLETED, since_ms=100)
    assert build_filter(query, ["a"]) == {"$and": [
        {"$or": [{"verb": VERB_COMPLETED}, {"_id": {"$in": ["a"]}}]},
        LIVE, {"stored": {"$gt": 100}}]}


def test_keyset_cursor_descending_and_ascending() -> None:
    down = StatementQuery(after=(500, "id-5"))
    assert window_clauses(down)[-1] == {
        "stored": {"$lte": 500}, "$nor": [{"stored": 500, "_id": {"$gte": "id-5"}}]}
    up = StatementQuery(after=(500, "id-5"), ascending=True)
    assert window_clauses(up)[-1] == {
        "stored": {"$gte": 500}, "$nor": [{"stored": 500, "_id": {"$lte": "id-5"}}]}


def _after(row: tuple[int, str], query: StatementQuery) -> bool:
    """What the keyset clause means, evaluated here to check the clause against it."""
    clause = window_clauses(query)[-1]
    stored, identifier = row
    bound = clause["stored"]
    if "$lte" in bound and not stored <= bound["$lte"]:
        return False
    if "$gte" in bound and not stored >= bound["$gte"]:
        return False
    (excluded,) = clause["$nor"]
    if stored == excluded["stored"]:
        op, value = next(iter(excluded["_id"].items()))
        return not (identifier >= value if op == "$gte" else identifier <= value)
    return True


@pytest.mark.parametrize("ascending", [False, True])
def test_keyset_clause_selects_exactly_the_rows_beyond_the_cursor(ascending: bool) -> None:
    rows = [(stored, f"id-{n}") for stored in (1, 2, 3) for n in range(3)]
    ordered = sorted(rows, reverse=not ascending)
    for position, cursor in enumerate(ordered):
        query = StatementQuery(after=cursor, ascending=ascending)
        assert [r for r in ordered if _after(r, query)] == ordered[position + 1:]


def test_sort_is_stored_then_id() -> None:
    assert sort_order(StatementQuery()) == [("stored", -1), ("_id", -1)]
    assert sort_order(StatementQuery(ascending=True)) == [("stored", 1), ("_id", 1)]


def test_seed_pipeline_looks_up_referenced_statements_matching_the_filter() -> None:
    pipeline = seed_pipeline({"verb": VERB_COMPLETED}, "statements")
    assert pipeline[0] == {"$match": {"ref_target": {"$exists": True}}}
    assert pipeline[1] == {"$group": {"_id": "$ref_target"}}
    lookup = pipeline[2]["$lookup"]
    assert (lookup["from"], lookup["localField"], lookup["foreignField"]) == (
        "statements", "_id", "_id")
    assert lookup["pipeline"][0] == {"$match": {"verb": VERB_COMPLETED}}


def test_chunks() -> None:
    assert list(chunks(["a", "b", "c"], 2)) == [["a", "b"], ["c"]]
    assert list(chunks([], 2)) == []


def _stored(statement: dict[str, Any]) -> Any:
    return enrich(statement, statement_id=statement["id"],
                  stored=datetime(2026, 3, 1, tzinfo=UTC),
                  authority={"objectType": "Agent", "mbox": "mailto:lrs@example.com"},
                  version=XapiVersion.V2)


def test_statement_document_holds_the_lookup_keys() -> None:
    bob = make_agent("bob")
    stored = _stored(make_statement(actor=bob, context={"registration": "R",
                                                        "instructor": make_agent("ann")}))
    document = statement_document(stored, voided=False)
    assert document["_id"] == stored.id
    assert document["stored"] == stored.stored_ms
    assert document["statement"] is stored.statement  # ordinary statements are not copied
    assert "escaped" not in document
    assert document["agents"] == [agent_key(bob)]
    assert document["rel_agents"] == sorted(stored.index.related_agents)
    assert document["rel_activities"] == [COURSE]
    assert (document["verb"], document["activity"], document["registration"]) == (
        VERB_COMPLETED, COURSE, "r")
    assert (document["voiding"], document["voided"], document["hash"]) == (
        False, False, stored.content_hash)
    assert document["authority"] == agent_key({"mbox": "mailto:lrs@example.com"})
    assert "ref_target" not in document


def test_statement_document_of_a_voiding_statement() -> None:
    stored = _stored(voiding("D1A3D2C8-52AB-4C36-9D4B-2B7B1E7A0F10"))
    document = statement_document(stored, voided=False)
    assert document["voiding"] is True
    assert document["ref_target"] == "d1a3d2c8-52ab-4c36-9d4b-2b7b1e7a0f10"
    assert "activity" not in document and "registration" not in document


ODD = {
    "$ref": "x", "$id": 1, "~": "~", "~~a": 1, "%": "%", "%25~": 2, "a\u0000%00": 3,
    "big": 2**64 - 1, "edge": 2**63, "int64": 2**63 - 1, "small": -(2**63), "f": 1.0,
    "list": [{"$x": [2**63]}, 2**63], "dots.ok": {"x.y": True},
}


def test_encode_statement_escapes_only_what_bson_cannot_keep() -> None:
    plain = {"a.b": 1, "x$": [1.5, None], "n": 2**63 - 1}
    assert encode_statement(plain) == (plain, False)
    encoded, escaped = encode_statement(ODD)
    assert escaped
    assert encoded["~$ref"] == "x" and encoded["~~"] == "~" and encoded["~~~a"] == 1
    assert encoded["~a%00%2500"] == 3  # `%` is escaped only in keys escaped anyway
    assert encoded["%"] == "%" and encoded["%25~"] == 2
    assert encoded["big"] == Decimal128(str(2**64 - 1))
    assert encoded["int64"] == 2**63 - 1 and encoded["dots.ok"] == {"x.y": True}


def test_encoded_statements_survive_bson_exactly() -> None:
    encoded, escaped = encode_statement(ODD)
    through_bson = bson.decode(bson.encode({"statement": encoded}))["statement"]
    decoded = decode_statement(through_bson, escaped=escaped)
    assert decoded == ODD
    assert orjson.dumps(decoded) == orjson.dumps(ODD)  # types and key order too


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1])
def test_integers_json_cannot_write_fail_as_in_sqlite(number: int) -> None:
    with pytest.raises(TypeError):
        orjson.dumps(number)
    with pytest.raises(TypeError):
        encode_statement({"n": number})


def test_statement_json_is_the_bytes_sqlite_keeps() -> None:
    stored = _stored(make_statement(result={"extensions": {"http://x.org/e": ODD}}))
    document = statement_document(stored, voided=False)
    through_bson = bson.decode(bson.encode(document))
    assert statement_json(through_bson) == orjson.dumps(stored.statement)
