"""The framework store (lrs.objectives.FrameworkStore) on MongoDB: collection `frameworks`,
`_id` the framework id, the framework whole in `body`, its objective IRIs in `iris` and its
groups in `groups` (both indexed)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from lrs.objectives import Assignment, Framework, Objective
from lrs.objectives.records import framework_from_record, framework_to_record
from statements.stores.mongo_kernel import guard

Document = dict[str, Any]

COLLECTION = "frameworks"
INDEXES = [IndexModel([("iris", ASCENDING)], name="iris"),
           IndexModel([("groups", ASCENDING)], name="groups"),
           IndexModel([("title", ASCENDING), ("_id", ASCENDING)], name="title")]
_SORT = [("title", ASCENDING), ("_id", ASCENDING)]


class MongoFrameworkStore:
    """FrameworkStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._frameworks: AsyncCollection[Document] = db.get_collection(
            COLLECTION, write_concern=WriteConcern("majority"))

    async def open(self) -> None:
        """Create the indexes (idempotent)."""
        await guard(self._frameworks.create_indexes(INDEXES))

    async def put(self, framework: Framework) -> bool:
        # One document: the framework and its IRIs replaced together; its groups kept.
        result = await guard(self._frameworks.update_one(
            {"_id": framework.id},
            {"$set": {"title": framework.title, "body": framework_to_record(framework),
                      "iris": [o.iri for o in framework.objectives]},
             "$setOnInsert": {"groups": []}}, upsert=True))
        return result.upserted_id is not None

    async def get(self, framework_id: str) -> Framework | None:
        found = await guard(self._frameworks.find_one({"_id": framework_id}, {"body": 1}))
        return framework_from_record(found["body"]) if found is not None else None

    async def all(self) -> list[Framework]:
        return await self._find({})

    async def delete(self, framework_id: str) -> bool:
        result = await guard(self._frameworks.delete_one({"_id": framework_id}))
        return result.deleted_count == 1

    async def assign(self, framework_id: str, groups: Collection[str]) -> bool:
        result = await guard(self._frameworks.update_one(
            {"_id": framework_id}, {"$set": {"groups": sorted(set(groups))}}))
        return result.matched_count == 1

    async def assignments(self) -> list[Assignment]:
        found = await guard(self._frameworks.find({}, {"groups": 1}).sort("_id").to_list())
        return [Assignment(d["_id"], frozenset(d.get("groups", ()))) for d in found]

    async def assigned_to(self, groups: Collection[str]) -> list[Framework]:
        wanted = sorted(set(groups))
        return await self._find({"groups": {"$in": wanted}}) if wanted else []

    async def find_objective(self, iri: str) -> list[tuple[Framework, Objective]]:
        found = await self._find({"iris": iri})
        return [(f, o) for f in found if (o := f.objective(iri)) is not None]

    async def _find(self, query: Document) -> list[Framework]:
        found = await guard(self._frameworks.find(query, {"body": 1}).sort(_SORT).to_list())
        return [framework_from_record(d["body"]) for d in found]
