"""Compliance reads on MongoDB: an aggregation over the statements collection, read in batches.

The `$match` uses the `compliance` index (activity, agents, timestamp); the agents of a
statement are unwound (the actor, or each member of a Group actor: with an Activity object
those are the statement's `agents`) and sorted by the server, which may spill to disk
(`allowDiskUse`), so this process holds one batch at a time whatever the report's size.
Bodies are fetched by id a batch at a time, so the sort never carries them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from statements.compliance import ResultRow, Target, Window
from statements.stores.mongo import COLLECTION
from statements.stores.mongo_codec import statement_json
from statements.stores.mongo_kernel import guard, translate

Document = dict[str, Any]
INDEXES = [IndexModel([("activity", ASCENDING), ("agents", ASCENDING),
                       ("statement.timestamp", DESCENDING)], name="compliance")]
BATCH = 1000
AGENTS_PER_PAGE = 500


def results_pipeline(target: Target, window: Window, agents: Sequence[str] | None
                     ) -> list[Document]:
    """The aggregation giving (activity, agent, ts, _id, completed) rows in report order
    (pure; tested without a database)."""
    low, high = target.bounds()
    match: Document = {
        "activity": target.activity if target.activity is not None
        else {"$gte": low, "$lt": high},
        # Communication §2.1.4.s1.b1: voided statements are never reported.
        "voided": False,
    }
    if agents is not None:
        match["agents"] = {"$in": list(agents)}
    times: Document = {}
    if window.since is not None:
        times["$gt"] = window.since
    if window.until is not None:
        times["$lte"] = window.until
    if times:
        match["statement.timestamp"] = times
    pipeline: list[Document] = [
        {"$match": match},
        {"$project": {
            "activity": 1, "agents": 1, "ts": "$statement.timestamp",
            "completed": {"$or": [{"$eq": ["$statement.result.completion", True]},
                                  {"$eq": ["$statement.result.success", True]}]}}},
        {"$unwind": "$agents"},
    ]
    if agents is not None:
        pipeline.append({"$match": {"agents": {"$in": list(agents)}}})
        order = [("agents", 1), ("activity", 1)]
    else:
        order = [("activity", 1), ("agents", 1)]
    pipeline.append({"$sort": dict([*order, ("ts", -1), ("_id", -1)])})
    return pipeline


class MongoComplianceStore:
    """ComplianceStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._statements = db[COLLECTION]

    async def open(self) -> None:
        """Create the report index (idempotent)."""
        await guard(self._statements.create_indexes(INDEXES))

    async def results(self, target: Target, window: Window, *,
                      agents: Sequence[str] | None = None) -> AsyncIterator[ResultRow]:
        try:
            if agents is None:
                async for row in self._run(results_pipeline(target, window, None)):
                    yield row
                return
            for start in range(0, len(agents), AGENTS_PER_PAGE):
                chunk = agents[start:start + AGENTS_PER_PAGE]
                async for row in self._run(results_pipeline(target, window, chunk)):
                    yield row
        except (PyMongoError, BSONError) as exc:  # an iterator: translated by the same table
            raise translate(exc) from exc

    async def _run(self, pipeline: list[Document]) -> AsyncIterator[ResultRow]:
        cursor = await self._statements.aggregate(pipeline, allowDiskUse=True, batchSize=BATCH)
        batch: list[Document] = []
        async for doc in cursor:
            batch.append(doc)
            if len(batch) == BATCH:
                for row in await self._with_bodies(batch):
                    yield row
                batch = []
        for row in await self._with_bodies(batch):
            yield row

    async def _with_bodies(self, batch: list[Document]) -> list[ResultRow]:
        if not batch:
            return []
        ids = list({doc["_id"] for doc in batch})
        bodies = {doc["_id"]: statement_json(doc) async for doc in self._statements.find(
            {"_id": {"$in": ids}}, {"statement": 1, "escaped": 1})}
        return [ResultRow(doc["activity"], doc["agents"], doc["ts"], doc["_id"],
                          bool(doc["completed"]), bodies[doc["_id"]])
                for doc in batch if doc["_id"] in bodies]
