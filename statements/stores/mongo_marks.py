"""The marks of flagged statements on MongoDB: collection `statement_marks`, `_id` = the
statement id, `findings` = their JSON text."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import orjson
from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from statements.stores.mongo_kernel import guard

COLLECTION = "statement_marks"


class MongoMarkStore:
    """MarkStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._marks = db.get_collection(COLLECTION)

    async def write(self, marks: Mapping[str, bytes],
                    session: AsyncClientSession | None) -> None:
        """Write a plan's marks in the caller's transaction (upserts: a commit planned
        again after a race writes the same)."""
        if marks:
            await self._marks.bulk_write(
                [UpdateOne({"_id": i}, {"$set": {"findings": f.decode()}}, upsert=True)
                 for i, f in marks.items()], ordered=False, session=session)

    async def of(self, statement_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        if not statement_ids:
            return {}
        found = await guard(self._marks.find(
            {"_id": {"$in": list(statement_ids)}}).to_list(None))
        return {d["_id"]: orjson.loads(d["findings"]) for d in found}
