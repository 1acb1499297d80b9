"""The quarantine on MongoDB: collection `quarantine`, one document per rejected statement."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from bson import Binary
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from statements.errors import Problem
from statements.quarantine import QuarantineEntry
from statements.stores.mongo_kernel import guard

Doc = dict[str, Any]
COLLECTION = "quarantine"


def _document(entry: QuarantineEntry) -> Doc:
    return {"_id": entry.id, "credential": entry.credential, "at": entry.at_ms,
            "expires": entry.expires_ms, "kind": entry.kind, "message": entry.message,
            "problems": [[p.path, p.message] for p in entry.problems],
            "body": Binary(entry.body), "agents": sorted(entry.agents),
            "version": entry.version}


def _entry(doc: Doc) -> QuarantineEntry:
    return QuarantineEntry(doc["_id"], doc["credential"], doc["at"], doc["expires"],
                           doc["kind"], doc["message"],
                           tuple(Problem(p, m) for p, m in doc["problems"]),
                           bytes(doc["body"]), frozenset(doc["agents"]), doc["version"])


class MongoQuarantineStore:
    """QuarantineStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._entries = db.get_collection(COLLECTION, write_concern=WriteConcern("majority"))

    async def open(self) -> None:
        """Create the indexes (idempotent)."""
        await guard(self._entries.create_indexes([
            IndexModel([("expires", ASCENDING)], name="expires"),
            IndexModel([("kind", ASCENDING), ("at", ASCENDING)], name="kind")]))

    async def add(self, entries: Sequence[QuarantineEntry]) -> None:
        if entries:
            await guard(self._entries.insert_many([_document(e) for e in entries]))

    async def get(self, entry_id: str) -> QuarantineEntry | None:
        found = await guard(self._entries.find_one({"_id": entry_id}))
        return _entry(found) if found is not None else None

    async def list(self, kind: str | None = None, credential: str | None = None,
                   limit: int | None = None) -> list[QuarantineEntry]:
        query: Doc = {name: value for name, value in (("kind", kind), ("credential", credential))
                      if value is not None}
        cursor = self._entries.find(query).sort([("at", ASCENDING), ("_id", ASCENDING)])
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_entry(d) for d in await guard(cursor.to_list(None))]

    async def kinds(self) -> dict[str, int]:
        cursor = await guard(self._entries.aggregate(
            [{"$group": {"_id": "$kind", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]))
        return {d["_id"]: d["n"] for d in await guard(cursor.to_list(None))}

    async def remove(self, entry_ids: Collection[str]) -> int:
        if not entry_ids:
            return 0
        result = await guard(self._entries.delete_many({"_id": {"$in": sorted(entry_ids)}}))
        return int(result.deleted_count)

    async def purge(self, now_ms: int, *, dry_run: bool = False) -> int:
        expired = {"expires": {"$lte": now_ms}}
        if dry_run:
            return int(await guard(self._entries.count_documents(expired)))
        return int((await guard(self._entries.delete_many(expired))).deleted_count)
