"""The statement store on MongoDB: one document per statement, denormalised filter fields.

Document shape, collection `statements`:

    _id             the statement id (lower-case UUID string)
    statement       the enriched statement, a real subdocument we never query inside; keys
                    MongoDB cannot hold faithfully are escaped (see mongo_codec.encode_statement)
    escaped         true when `statement` was escaped (absent otherwise)
    stored          `stored` in epoch milliseconds
    verb, activity, registration, ref_target, authority
                    lookup keys (statements.indexing); absent when the statement has none
    voiding         whether this is a voiding statement
    voided          whether a voiding statement targets it
    hash            the content hash (statements.equivalence), for conflict detection
    agents, rel_agents, rel_activities
                    multikey arrays: StatementIndex.agents / related_agents /
                    related_activities

and one kind of placeholder, `{_id: X, stub: true}`: written when a voiding statement
targets an id not stored yet. It has no `voided` field, so no read ever returns it; the
statement that later arrives with that id replaces it and is stored voided. Why a document
and not just a look-up of the voiding statements at insert time: MongoDB transactions are
snapshot-isolated, not serialisable, so a voiding statement and its target saved at the
same moment by two requests would each miss the other (write skew) and the target would
stay live. Writing the target's `_id` from both sides makes them collide: one of the two
gets a write conflict or a duplicate key and is retried, and then sees the other.

Every pymongo error is translated by the kernel (`mongo_kernel.guard`) at this boundary.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.write_concern import WriteConcern

from statements.attachments import RawAttachment
from statements.enrich import StoredStatement
from statements.plan import Held, StatementPlan, plan_statements
from statements.query import StatementQuery
from statements.store import SaveOutcome, StatementPage
from statements.stores.mongo_attachments import get_attachments, put_attachments
from statements.stores.mongo_codec import (
    statement_document,
    statement_json,
)
from statements.stores.mongo_kernel import MongoKernel, Raced, guard, is_duplicate

T = TypeVar("T")
Document = dict[str, Any]

COLLECTION = "statements"
# Each filter field is indexed together with the sort key (stored, _id), so a filtered page
# is one index range read in order, in either direction, and never a blocking sort.
_ORDER = [("stored", DESCENDING), ("_id", DESCENDING)]
INDEXES = [
    IndexModel(_ORDER, name="stored"),
    *(IndexModel([(name, ASCENDING), *_ORDER], name=name)
      for name in ("verb", "activity", "registration", "agents", "rel_agents",
                   "rel_activities", "authority")),
    # Sparse: only StatementRef statements have one.
    IndexModel([("ref_target", ASCENDING)], name="ref_target", sparse=True),
]
# Chunks are read by their attachment's hash, in order (mongo_attachments.get_attachments).
ATTACHMENT_CHUNK_INDEXES = [IndexModel([("sha2", ASCENDING), ("n", ASCENDING)], name="sha2_n")]
_PAGE_FIELDS = {"statement": 1, "escaped": 1, "stored": 1}
# Ids per `$in` list, so no command nears MongoDB's 16 MB limit however many match.
IN_CHUNK = 10_000


# --- Queries (pure; tested without a database) --------------------------------------------

def match_filter(query: StatementQuery) -> Document | None:
    """The agent/verb/activity/registration part of `query`, or None when it has none.

    This is the part StatementRef targeting applies to (Communication §2.1.3.s3).
    """
    clauses: Document = {}
    if query.agent is not None:
        clauses["rel_agents" if query.related_agents else "agents"] = query.agent
    if query.verb is not None:
        clauses["verb"] = query.verb
    if query.activity is not None:
        clauses["rel_activities" if query.related_activities else "activity"] = query.activity
    if query.registration is not None:
        clauses["registration"] = query.registration
    return clauses or None


def window_clauses(query: StatementQuery) -> list[Document]:
    """What every listed statement must satisfy: live, in the time window, of the
    authority asked for, and after the page already returned."""
    # Communication §2.1.4.s1.b1: voided statements are never listed. Stubs have no
    # `voided` field, so `voided: false` leaves them out too.
    clauses: list[Document] = [{"voided": False}]
    if query.since_ms is not None:
        clauses.append({"stored": {"$gt": query.since_ms}})
    if query.until_ms is not None:
        clauses.append({"stored": {"$lte": query.until_ms}})
    if query.authority is not None:
        clauses.append({"authority": query.authority})
    if query.mine is not None:
        clauses.append({"$or": [{"authority": query.mine}, {"agents": query.mine}]})
    if query.after is not None:
        # (stored, _id) beyond `after`, written as a bound on `stored` the index can use,
        # minus the ties not beyond it.
        stored, tiebreak = query.after
        if query.ascending:
            clauses.append({"stored": {"$gte": stored},
                            "$nor": [{"stored": stored, "_id": {"$lte": tiebreak}}]})
        else:
            clauses.append({"stored": {"$lte": stored},
                            "$nor": [{"stored": stored, "_id": {"$gte": tiebreak}}]})
    return clauses


def build_filter(query: StatementQuery, referring: Sequence[str] = ()) -> Document:
    """The find() filter of one page of `query`.

    `referring` holds ids of statements that refer (through StatementRef objects, maybe
    several hops) to a statement matching the filters; they match too.
    """
    clauses = window_clauses(query)
    match = match_filter(query)
    if match is not None:
        if referring:
            match = {"$or": [match, {"_id": {"$in": list(referring)}}]}
        clauses.insert(0, match)
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def sort_order(query: StatementQuery) -> list[tuple[str, int]]:
    """(stored, _id), newest first unless `ascending`."""
    direction = ASCENDING if query.ascending else DESCENDING
    return [("stored", direction), ("_id", direction)]


def seed_pipeline(match: Document, collection: str = COLLECTION) -> list[Document]:
    """Aggregation over `collection` giving the `_id`s of referenced statements (the target
    of some statement's StatementRef) that match `match`.

    Starting from the referring statements, not from the matches, bounds the work by how
    many statements are referenced however many match; the same plan as SQLite's.
    """
    return [
        {"$match": {"ref_target": {"$exists": True}}},
        {"$group": {"_id": "$ref_target"}},
        {"$lookup": {"from": collection, "localField": "_id", "foreignField": "_id",
                     "pipeline": [{"$match": match}, {"$project": {"_id": 1}}],
                     "as": "hit"}},
        {"$match": {"hit": {"$ne": []}}},
        {"$project": {"_id": 1}},
    ]


def chunks(ids: Sequence[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    """`ids` in lists of at most `size`."""
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


# --- The store ----------------------------------------------------------------------------

@dataclass
class _Journal:
    """What a write without a transaction has done so far, to undo it on failure."""

    inserted: list[str] = field(default_factory=list)
    replaced_stubs: list[str] = field(default_factory=list)
    new_stubs: list[str] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HeldStatements:
    """What the `statements` collection holds about a batch: the plan's `Held` (kept side)
    and the stubs among the batch's ids and targets (this engine's own mechanism)."""

    held: Held
    stubs: frozenset[str]


class MongoStatementStore:
    """StatementStore on a MongoDB database (PyMongo's AsyncMongoClient).

    `transactions` says whether the deployment runs multi-document transactions (a replica
    set or a sharded cluster); None asks the server at `open`. `save_timeout` bounds, in
    seconds, a transactional save with its retries after write conflicts.
    """

    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document],
                 *, transactions: bool | None = None, save_timeout: float = 30.0,
                 kernel: MongoKernel | None = None) -> None:
        self.kernel = kernel or MongoKernel(client, db, transactions=transactions,
                                            timeout=save_timeout)
        self._db = db
        self._statements: AsyncCollection[Document] = db.get_collection(
            COLLECTION, write_concern=WriteConcern("majority"))

    async def open(self) -> None:
        """Create the indexes (idempotent) and find out whether transactions are available."""
        await guard(self._statements.create_indexes(INDEXES))
        await guard(self._db["attachment_chunks"].create_indexes(ATTACHMENT_CHUNK_INDEXES))
        await self.kernel.transactions()

    # -- save: the plan of kept statements only; the engine's commit plans whole batches

    async def save(self, statements: Sequence[StoredStatement],
                   attachments: Sequence[RawAttachment] = ()) -> SaveOutcome:
        await guard(put_attachments(self._db, attachments))
        if not statements:
            return SaveOutcome([])
        ids = [s.id for s in statements]
        if len(set(ids)) != len(ids):
            raise ValueError("a batch must not hold one statement id twice")
        targets = sorted({s.voids for s in statements if s.voids})

        async def work(session: AsyncClientSession | None) -> list[str]:
            known = await self.held(ids, targets, session)
            plan = plan_statements(statements, known.held)
            await self.write_plan(plan, known.stubs, session)
            return [s.id for s in plan.insert]

        return SaveOutcome(await self.kernel.run(work, timeout=None))

    async def held(self, ids: Sequence[str], targets: Sequence[str],
                   session: AsyncClientSession | None) -> HeldStatements:
        """What the collection holds about a batch's `ids` and voiding `targets`."""
        coll = self._statements
        docs: dict[str, Document] = {}
        for chunk in chunks(sorted({*ids, *targets})):
            async for doc in coll.find({"_id": {"$in": chunk}},
                                       {"hash": 1, "stub": 1, "voiding": 1}, session=session):
                docs[doc["_id"]] = doc
        stubs = frozenset(i for i, doc in docs.items() if doc.get("stub"))
        kept = {i: docs[i]["hash"] for i in ids if i in docs and i not in stubs}
        # A stub is a voiding statement's mark on an id not stored yet (see the module doc).
        voided_before = {i for i in ids if i in stubs}
        fresh = [i for i in ids if i not in kept]
        for chunk in chunks(fresh):
            async for doc in coll.find({"ref_target": {"$in": chunk}, "voiding": True},
                                       {"ref_target": 1}, session=session):
                voided_before.add(doc["ref_target"])
        found = {t: bool(docs[t]["voiding"]) for t in targets if t in docs and t not in stubs}
        return HeldStatements(Held(kept=kept, voided_before=frozenset(voided_before),
                                   targets=found), stubs)

    async def write_plan(self, plan: StatementPlan, stubs: frozenset[str],
                         session: AsyncClientSession | None) -> None:
        """Write a StatementPlan in the caller's transaction (`session`); without one,
        step by step with a compensating undo on failure. Raises Raced when an id was
        taken meanwhile: plan again."""
        if session is not None:
            return await self._write(plan, stubs, session, None)
        # Without transactions (a standalone server) the batch is written step by step and
        # undone on failure: the inserted statements deleted, replaced stubs restored, new
        # stubs deleted, voided flags set by this save cleared. Readers can see a batch half
        # written meanwhile, and an undo that fails itself (the server gone) leaves it so.
        # Use a replica set (even a single node) for atomic batches.
        journal = _Journal()
        try:
            await self._write(plan, stubs, None, journal)
        except BaseException:
            await self._undo(journal)
            raise

    async def _write(self, plan: StatementPlan, stubs: frozenset[str],
                     session: AsyncClientSession | None, journal: _Journal | None) -> None:
        coll = self._statements
        documents = [statement_document(s, voided=s.id in plan.voided_on_arrival)
                     for s in plan.insert]
        new = [d for d in documents if d["_id"] not in stubs]
        if new:
            await self._insert(new, session, journal.inserted if journal else None)
        for document in documents:
            if document["_id"] in stubs:
                replaced = await coll.replace_one({"_id": document["_id"], "stub": True},
                                                  document, session=session)
                if replaced.matched_count != 1:
                    raise Raced
                if journal:
                    journal.replaced_stubs.append(document["_id"])
        awaited = [{"_id": t, "stub": True} for t in plan.awaited if t not in stubs]
        if awaited:
            await self._insert(awaited, session, journal.new_stubs if journal else None)
        live = plan.void
        if journal and live:
            live = [doc["_id"] async for doc in coll.find(
                {"_id": {"$in": live}, "voided": False}, {"_id": 1})]
            journal.voided.extend(live)
        for chunk in chunks(live):
            await coll.update_many({"_id": {"$in": chunk}}, {"$set": {"voided": True}},
                                   session=session)

    async def _insert(self, documents: list[Document], session: AsyncClientSession | None,
                      written: list[str] | None) -> None:
        """Ordered insert; an id taken meanwhile raises Raced. `written` gets the ids
        inserted (without a transaction, for the undo)."""
        try:
            await self._statements.insert_many(documents, ordered=True, session=session)
        except (BulkWriteError, DuplicateKeyError) as exc:
            if written is not None and isinstance(exc, BulkWriteError):
                written.extend(d["_id"] for d in documents[:exc.details.get("nInserted", 0)])
            if is_duplicate(exc):
                raise Raced from exc
            raise
        if written is not None:
            written.extend(d["_id"] for d in documents)

    async def _undo(self, journal: _Journal) -> None:
        coll = self._statements
        for chunk in chunks(journal.voided):
            await coll.update_many({"_id": {"$in": chunk}}, {"$set": {"voided": False}})
        for chunk in chunks(journal.inserted + journal.new_stubs):
            await coll.delete_many({"_id": {"$in": chunk}})
        for statement_id in journal.replaced_stubs:
            await coll.replace_one({"_id": statement_id}, {"_id": statement_id, "stub": True})

    # -- reads

    async def get(self, statement_id: str, *, voided: bool) -> bytes | None:
        document = await guard(self._statements.find_one(
            {"_id": statement_id, "voided": voided}, {"statement": 1, "escaped": 1}))
        return statement_json(document) if document is not None else None

    async def query(self, query: StatementQuery) -> StatementPage:
        documents = await guard(self._page(query, fetch=query.limit + 1))
        more = len(documents) > query.limit
        page = documents[:query.limit]
        return StatementPage(
            statements=[statement_json(d) for d in page],
            after=(page[-1]["stored"], page[-1]["_id"]) if more and page else None,
            last_stored_ms=max((d["stored"] for d in page), default=None),
        )

    async def _page(self, query: StatementQuery, *, fetch: int) -> list[Document]:
        match = match_filter(query)
        referring = await self._referring(match) if match is not None else []
        order = sort_order(query)
        parts = list(chunks(referring)) or [[]]
        documents: list[Document] = []
        for part in parts:
            cursor = self._statements.find(build_filter(query, part), _PAGE_FIELDS)
            documents += await cursor.sort(order).limit(fetch).to_list(None)
        if len(parts) == 1:
            return documents
        # Very many referring statements: one query per chunk of ids, merged here.
        unique = {d["_id"]: d for d in documents}.values()
        merged = sorted(unique, key=lambda d: (d["stored"], d["_id"]),
                        reverse=not query.ascending)
        return merged[:fetch]

    async def _referring(self, match: Document) -> list[str]:
        """Ids of statements referring, directly or through other StatementRefs, to a
        statement matching `match`, leaving out those that match `match` themselves."""
        coll = self._statements
        cursor = await coll.aggregate(seed_pipeline(match, coll.name), allowDiskUse=True)
        seen = {doc["_id"] async for doc in cursor}
        frontier = sorted(seen)
        found: list[str] = []
        while frontier:  # one hop per round; `seen` stops cycles (ids are client-chosen)
            reached: list[str] = []
            for chunk in chunks(frontier):
                async for doc in coll.find({"ref_target": {"$in": chunk}}, {"_id": 1}):
                    if doc["_id"] not in seen:
                        seen.add(doc["_id"])
                        reached.append(doc["_id"])
            found += reached
            frontier = reached
        return found

    async def get_attachments(self, sha2s: Collection[str]) -> list[RawAttachment]:
        return await guard(get_attachments(self._db, sha2s))

    async def close(self) -> None:
        await self.kernel.close()
