"""The grant store (lrs.sharing.GrantStore) on MongoDB: collections `grants` (`_id` = the
grant's id) and `grant_reads`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from lrs.sharing import Grant, Read, grant_from_record, grant_to_record
from statements.stores.mongo_kernel import guard

Document = dict[str, Any]

GRANTS = "grants"
READS = "grant_reads"
GRANT_INDEXES = [
    IndexModel([("learner", ASCENDING), ("created", DESCENDING)], name="learner"),
    IndexModel([("grantee", ASCENDING), ("created", DESCENDING)], name="grantee"),
    IndexModel([("expires", ASCENDING)], name="expires"),
    # Only links carry a token hash: unique among them, absent from person grants.
    IndexModel([("token_hash", ASCENDING)], name="token_hash", unique=True,
               partialFilterExpression={"token_hash": {"$type": "string"}}),
]
READ_INDEXES = [IndexModel([("learner", ASCENDING), ("at", DESCENDING)], name="learner")]


def _grant(document: Document) -> Grant:
    return grant_from_record({**document, "id": document["_id"]})


class MongoGrantStore:
    """GrantStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        # Majority: a revocation acknowledged by one node must hold on every other.
        concern = WriteConcern("majority")
        self._grants: AsyncCollection[Document] = db.get_collection(
            GRANTS, write_concern=concern)
        self._reads: AsyncCollection[Document] = db.get_collection(
            READS, write_concern=concern)

    async def open(self) -> None:
        """Create the indexes (idempotent)."""
        await guard(self._grants.create_indexes(GRANT_INDEXES))
        await guard(self._reads.create_indexes(READ_INDEXES))

    async def add(self, grant: Grant) -> None:
        record = grant_to_record(grant)
        document = {"_id": record.pop("id"), **record}
        if document["token_hash"] is None:  # so the partial unique index ignores it
            del document["token_hash"]
        await guard(self._grants.insert_one(document))

    async def get(self, grant_id: str) -> Grant | None:
        document = await guard(self._grants.find_one({"_id": grant_id}))
        return _grant(_with_token(document)) if document is not None else None

    async def find_token(self, token_hash: str) -> Grant | None:
        document = await guard(self._grants.find_one({"token_hash": token_hash}))
        return _grant(_with_token(document)) if document is not None else None

    async def _many(self, query: Document) -> list[Grant]:
        found = await guard(self._grants.find(query).sort(
            [("created", DESCENDING), ("_id", ASCENDING)]).to_list())
        return [_grant(_with_token(d)) for d in found]

    async def of_learner(self, learner: str) -> list[Grant]:
        return await self._many({"learner": learner})

    async def of_grantee(self, grantee: str) -> list[Grant]:
        return await self._many({"grantee": grantee})

    async def revoke(self, grant_id: str, learner: str, when: datetime) -> bool:
        result = await guard(self._grants.update_one(
            {"_id": grant_id, "learner": learner, "revoked": None},
            {"$set": {"revoked": when.timestamp(), "wrapped_key": None, "sealed": None}}))
        return result.modified_count == 1

    async def destroy_expired(self, now: datetime) -> int:
        result = await guard(self._grants.update_many(
            {"expires": {"$lte": now.timestamp()},
             "$or": [{"wrapped_key": {"$ne": None}}, {"sealed": {"$ne": None}}]},
            {"$set": {"wrapped_key": None, "sealed": None}}))
        return result.modified_count

    async def log_read(self, read: Read) -> None:
        await guard(self._reads.insert_one({
            "_id": read.id, "grant": read.grant, "learner": read.learner,
            "reader": read.reader, "at": read.at.timestamp(), "what": read.what}))

    async def reads(self, learner: str, *, limit: int = 200) -> list[Read]:
        found = await guard(self._reads.find({"learner": learner}).sort(
            [("at", DESCENDING), ("_id", ASCENDING)]).limit(limit).to_list())
        return [Read(id=d["_id"], grant=d["grant"], learner=learner, reader=d["reader"],
                     at=datetime.fromtimestamp(d["at"], UTC), what=d["what"]) for d in found]

    async def erase_person(self, identity: str, *, dry_run: bool = False) -> int:
        mine = {"$or": [{"learner": identity}, {"grantee": identity}]}
        ids = [d["_id"] for d in await guard(self._grants.find(mine, {"_id": 1}).to_list())]
        if not dry_run:
            # The reads first: a crash between the two leaves grants, found by a retry.
            await guard(self._reads.delete_many({"$or": [{"grant": {"$in": ids}},
                                                         {"learner": identity}]}))
            await guard(self._grants.delete_many({"_id": {"$in": ids}}))
        return len(ids)


def _with_token(document: Document) -> Document:
    return {"token_hash": None, **document}
