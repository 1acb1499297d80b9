"""My own history on MongoDB: collections `history_opt_ins`, `history_day_keys`,
`history_pending` and `history_state`, none of them the tally's."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from typing import Any

from bson import Binary
from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from lrs.space.history import OptIn, PendingCopy, PendingRow, tag_of
from statements.stores.mongo_kernel import guard, is_duplicate, translate


class MongoHistoryStore:
    """HistoryStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._opt_ins = db.get_collection("history_opt_ins")
        self._keys = db.get_collection("history_day_keys")
        self._pending = db.get_collection("history_pending")
        self._state = db.get_collection("history_state")

    async def open(self) -> None:
        """Create the indexes."""
        await guard(self._pending.create_indexes(
            [IndexModel([("day", ASCENDING), ("tag", ASCENDING)], name="day")]))

    async def write_pending(self, copies: Sequence[PendingCopy], today: int,
                            session: AsyncClientSession | None) -> None:
        """Write sealed copies into the buffer in the commit's transaction (`session`), the
        one that writes the tally's hits, tagged under the key of the first day not flushed
        yet (read in it too). Without transactions (a standalone server) they are written
        just after the hits, as the outbox is (docs/forwarding.md)."""
        if copies:
            day, key = await self._copy_key(today, session)
            await self._pending.insert_many(
                [{"_id": str(uuid.uuid4()), "day": day, "tag": Binary(tag_of(key, c.owner)),
                  "sealed": Binary(c.sealed)} for c in copies], session=session)

    async def opt_in(self, entry: OptIn) -> None:
        await guard(self._opt_ins.replace_one(
            {"_id": entry.owner},
            {"agents": sorted(entry.agents), "public_key": Binary(entry.public_key),
             "space": entry.space, "since_ms": entry.since_ms}, upsert=True))

    async def opt_out(self, owner: str) -> bool:
        result = await guard(self._opt_ins.delete_one({"_id": owner}))
        return bool(result.deleted_count)

    async def get(self, owner: str) -> OptIn | None:
        found = await guard(self._opt_ins.find_one({"_id": owner}))
        return _opt_in(found) if found else None

    async def opted_in(self) -> list[OptIn]:
        found = await guard(self._opt_ins.find().sort("_id", ASCENDING).to_list(None))
        return [_opt_in(d) for d in found]

    async def day_key(self, day: int, *, create: bool = False) -> bytes | None:
        found = await guard(self._keys.find_one({"_id": day}))
        if found is not None:
            return bytes(found["key"])
        if not create or day <= await self._flushed():
            return None
        # One key per day however many processes ask at once: the first insert wins.
        made = await guard(self._keys.find_one_and_update(
            {"_id": day}, {"$setOnInsert": {"key": Binary(os.urandom(32))}}, upsert=True,
            return_document=ReturnDocument.AFTER))
        return bytes(made["key"]) if made is not None else None

    async def copy_key(self, today: int) -> tuple[int, bytes]:
        return await guard(self._copy_key(today, None))

    async def _copy_key(self, today: int, session: AsyncClientSession | None
                        ) -> tuple[int, bytes]:
        # A key made just as its day is closed elsewhere outlives the close by at most a
        # day: the next close deletes every key (and row) up to its day.
        state = await self._state.find_one({"_id": "flushed"}, session=session)
        day = max(today, (int(state["value"]) if state else -1) + 1)
        made = await self._keys.find_one_and_update(
            {"_id": day}, {"$setOnInsert": {"key": Binary(os.urandom(32))}}, upsert=True,
            return_document=ReturnDocument.AFTER, session=session)
        assert made is not None  # an upsert answers the document
        return day, bytes(made["key"])

    async def pending(self, day: int | None = None) -> list[PendingRow]:
        query = {"day": day} if day is not None else {}
        found = await guard(self._pending.find(query).sort(
            [("day", ASCENDING), ("_id", ASCENDING)]).to_list(None))
        return [PendingRow(d["_id"], d["day"], bytes(d["tag"]), bytes(d["sealed"]))
                for d in found]

    async def move(self, rows: Sequence[str], day: int, tags: Sequence[bytes]) -> None:
        if rows:
            await guard(self._pending.bulk_write(
                [UpdateOne({"_id": row}, {"$set": {"day": day, "tag": Binary(tag)}})
                 for row, tag in zip(rows, tags, strict=True)]))

    async def delete_pending(self, row_ids: Sequence[str]) -> int:
        if not row_ids:
            return 0
        result = await guard(self._pending.delete_many({"_id": {"$in": list(row_ids)}}))
        return int(result.deleted_count)

    async def close_day(self, day: int) -> int:
        # The state first: from here no process makes a key for the day again.
        await guard(self._state.update_one({"_id": "flushed"}, {"$max": {"value": day}},
                                           upsert=True))
        await guard(self._keys.delete_many({"_id": {"$lte": day}}))
        result = await guard(self._pending.delete_many({"day": {"$lte": day}}))
        return int(result.deleted_count)

    async def flushed_through(self) -> int | None:
        found = await guard(self._state.find_one({"_id": "flushed"}))
        return int(found["value"]) if found else None

    async def lease_flush(self, *, now_ms: int, until_ms: int) -> bool:
        try:
            await self._state.update_one({"_id": "lease", "value": {"$lt": now_ms}},
                                         {"$set": {"value": until_ms}}, upsert=True)
        except PyMongoError as exc:
            if is_duplicate(exc):  # held by another process: the upsert met its document
                return False
            raise translate(exc) from exc
        return True

    async def end_lease(self) -> None:
        await guard(self._state.update_one({"_id": "lease"}, {"$set": {"value": 0}}))

    async def _flushed(self) -> int:
        found = await self.flushed_through()
        return -1 if found is None else found


def _opt_in(doc: dict[str, Any]) -> OptIn:
    return OptIn(doc["_id"], frozenset(doc["agents"]), bytes(doc["public_key"]), doc["space"],
                 doc["since_ms"])
