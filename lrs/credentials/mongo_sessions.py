"""The session store of people signed in (lrs.people.sessions) on MongoDB: collection
`sessions`, `_id` = the session key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from lrs.people import Person
from lrs.people.sessions import SessionRecord, person_from_record, person_to_record
from statements.stores.mongo_kernel import guard as _guard

Document = dict[str, Any]

COLLECTION = "sessions"
# Seconds since the epoch, as in SQLite: numbers compare whatever their precision.
INDEXES = [IndexModel([("last_seen", ASCENDING)], name="last_seen"),
           IndexModel([("created", ASCENDING)], name="created")]


class MongoSessionStore:
    """SessionStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        # Majority: a sign-out acknowledged by one node must hold on every other.
        self._sessions: AsyncCollection[Document] = db.get_collection(
            COLLECTION, write_concern=WriteConcern("majority"))

    async def open(self) -> None:
        """Create the indexes (idempotent)."""
        await _guard(self._sessions.create_indexes(INDEXES))

    async def create(self, record: SessionRecord) -> None:
        await _guard(self._sessions.insert_one({
            "_id": record.key, "person": person_to_record(record.person),
            "id_token": record.id_token, "created": record.created.timestamp(),
            "last_seen": record.last_seen.timestamp()}))

    async def get(self, key: str) -> SessionRecord | None:
        document = await _guard(self._sessions.find_one({"_id": key}))
        if document is None:
            return None
        return SessionRecord(key=key, person=person_from_record(document["person"]),
                             created=datetime.fromtimestamp(document["created"], UTC),
                             last_seen=datetime.fromtimestamp(document["last_seen"], UTC),
                             id_token=document.get("id_token"))

    async def touch(self, key: str, when: datetime) -> None:
        await _guard(self._sessions.update_one(
            {"_id": key}, {"$max": {"last_seen": when.timestamp()}}))

    async def delete(self, key: str) -> bool:
        result = await _guard(self._sessions.delete_one({"_id": key}))
        return result.deleted_count == 1

    async def delete_expired(self, *, idle_before: datetime, created_before: datetime) -> int:
        result = await _guard(self._sessions.delete_many({"$or": [
            {"last_seen": {"$lt": idle_before.timestamp()}},
            {"created": {"$lt": created_before.timestamp()}}]}))
        return result.deleted_count

    async def delete_where(self, match: Callable[[Person], bool], *,
                           dry_run: bool = False) -> int:
        found = await _guard(self._sessions.find({}, {"person": 1}).to_list())
        ended = [d["_id"] for d in found if match(person_from_record(d["person"]))]
        if ended and not dry_run:
            await _guard(self._sessions.delete_many({"_id": {"$in": ended}}))
        return len(ended)
