"""The forwarding store on MongoDB: destinations, rules, and the outbox written in the commit.

A lease is a `find_one_and_update` per item, atomic on one document: two workers never hold
the same item at once, with or without transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from aggregation.plan import OutboxItem
from lrs.forwarding import DeadLetter, Destination, DestinationStatus, Leased, Rule
from lrs.forwarding.rules import hit_record
from statements.stores.mongo_kernel import guard

Document = dict[str, Any]
_MAJORITY = WriteConcern("majority")


class MongoForwardingStore:
    """ForwardingStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._destinations = db.get_collection("forwarding_destinations",
                                               write_concern=_MAJORITY)
        self._rules = db.get_collection("forwarding_rules", write_concern=_MAJORITY)
        self._outbox = db.get_collection("forwarding_outbox", write_concern=_MAJORITY)

    async def open(self) -> None:
        await guard(self._destinations.create_indexes(
            [IndexModel([("name", ASCENDING)], name="name", unique=True)]))
        await guard(self._outbox.create_indexes([
            IndexModel([("dead", ASCENDING), ("due_ms", ASCENDING)], name="due"),
            IndexModel([("destination", ASCENDING), ("dead", ASCENDING),
                        ("created_ms", ASCENDING)], name="destination")]))

    async def write_outbox(self, items: Sequence[OutboxItem], now_ms: int,
                           session: AsyncClientSession | None) -> None:
        """Write a plan's outbox items in the commit's transaction (`session`)."""
        if items:
            await self._outbox.insert_many([
                {"_id": i.key, "destination": i.destination, "statement_id": i.statement_id,
                 "hit": hit_record(i.hit) if i.hit is not None else None,
                 "created_ms": now_ms, "due_ms": now_ms, "lease_until_ms": 0, "owner": None,
                 "attempts": 0, "dead": False, "last_error": None} for i in items],
                session=session)

    async def add_destination(self, destination: Destination) -> None:
        record = asdict(destination)
        await guard(self._destinations.insert_one(
            {"_id": record.pop("id"), **record, "delivered": 0}))

    async def destinations(self) -> list[Destination]:
        found = await guard(self._destinations.find().sort([("created", 1), ("_id", 1)])
                            .to_list())
        return [Destination(d["_id"], d["name"], d["kind"], d["url"], d["secret"],
                            d["username"], d["xapi_version"], d["created"]) for d in found]

    async def remove_destination(self, destination_id: str) -> bool:
        await guard(self._rules.delete_many({"destination": destination_id}))
        await guard(self._outbox.delete_many({"destination": destination_id}))
        done = await guard(self._destinations.delete_one({"_id": destination_id}))
        return bool(done.deleted_count)

    async def add_rule(self, rule: Rule) -> None:
        record = asdict(rule)
        await guard(self._rules.insert_one({"_id": record.pop("id"), **record}))

    async def rules(self) -> list[Rule]:
        found = await guard(self._rules.find().sort([("created", 1), ("_id", 1)]).to_list())
        return [Rule(r["_id"], r["destination"], r["decision"], tuple(r["verbs"]),
                     r["activity"], tuple(r["credentials"]), r["created"]) for r in found]

    async def remove_rule(self, rule_id: str) -> bool:
        done = await guard(self._rules.delete_one({"_id": rule_id}))
        return bool(done.deleted_count)

    async def lease(self, owner: str, *, now_ms: int, lease_ms: int, limit: int
                    ) -> list[Leased]:
        out: list[Leased] = []
        for _ in range(limit):
            doc = await guard(self._outbox.find_one_and_update(
                {"dead": False, "due_ms": {"$lte": now_ms}, "lease_until_ms": {"$lte": now_ms}},
                {"$set": {"owner": owner, "lease_until_ms": now_ms + lease_ms}},
                sort=[("created_ms", 1), ("_id", 1)], return_document=ReturnDocument.AFTER))
            if doc is None:
                break
            out.append(Leased(doc["_id"], doc["destination"], doc["statement_id"], doc["hit"],
                              doc["attempts"], doc["created_ms"]))
        return out

    async def delivered(self, destination: str, keys: Sequence[str], owner: str, *,
                        now_ms: int) -> None:
        done = await guard(self._outbox.delete_many({"_id": {"$in": list(keys)},
                                                     "owner": owner}))
        await guard(self._destinations.update_one(
            {"_id": destination}, {"$inc": {"delivered": done.deleted_count},
                                   "$set": {"last_delivered_ms": now_ms}}))

    async def failed(self, destination: str, items: Sequence[Leased], owner: str, *,
                     error: str, now_ms: int, due_ms: Sequence[int], max_attempts: int) -> None:
        for item, due in zip(items, due_ms, strict=True):
            await guard(self._outbox.update_one(
                {"_id": item.key, "owner": owner},
                {"$inc": {"attempts": 1},
                 "$set": {"dead": item.attempts + 1 >= max_attempts, "due_ms": due,
                          "lease_until_ms": 0, "owner": None, "last_error": error}}))
        await guard(self._destinations.update_one(
            {"_id": destination}, {"$set": {"last_error": error, "last_error_ms": now_ms}}))

    async def status(self) -> list[DestinationStatus]:
        async def counts() -> dict[tuple[str, bool], tuple[int, int]]:
            cursor = await self._outbox.aggregate([{"$group": {
                "_id": {"d": "$destination", "dead": "$dead"}, "n": {"$sum": 1},
                "oldest": {"$min": "$created_ms"}}}])
            return {(g["_id"]["d"], g["_id"]["dead"]): (g["n"], g["oldest"])
                    async for g in cursor}

        grouped = await guard(counts())
        found = await guard(self._destinations.find().sort([("created", 1), ("_id", 1)])
                            .to_list())
        out = []
        for d in found:
            queued, oldest_q = grouped.get((d["_id"], False), (0, None))
            dead, oldest_d = grouped.get((d["_id"], True), (0, None))
            oldest = min((o for o in (oldest_q, oldest_d) if o is not None), default=None)
            out.append(DestinationStatus(d["_id"], queued, dead, oldest, d.get("delivered", 0),
                                         d.get("last_error"), d.get("last_error_ms"),
                                         d.get("last_delivered_ms")))
        return out

    async def dead_letters(self, destination: str, *, limit: int = 100) -> list[DeadLetter]:
        found = await guard(self._outbox.find({"destination": destination, "dead": True})
                            .sort([("created_ms", 1), ("_id", 1)]).limit(limit).to_list())
        return [DeadLetter(d["_id"], d["statement_id"], d["attempts"], d["created_ms"],
                           d["last_error"], d["hit"]) for d in found]

    def _dead(self, destination: str, keys: Sequence[str] | None) -> Document:
        where: Document = {"destination": destination, "dead": True}
        if keys is not None:
            where["_id"] = {"$in": list(keys)}
        return where

    async def replay(self, destination: str, keys: Sequence[str] | None, *, now_ms: int
                     ) -> int:
        done = await guard(self._outbox.update_many(self._dead(destination, keys), {"$set": {
            "dead": False, "attempts": 0, "due_ms": now_ms, "lease_until_ms": 0,
            "owner": None}}))
        return int(done.modified_count)

    async def discard(self, destination: str, keys: Sequence[str] | None) -> int:
        done = await guard(self._outbox.delete_many(self._dead(destination, keys)))
        return int(done.deleted_count)
