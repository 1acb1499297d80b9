"""The tally on MongoDB, written in the same transaction as the kept statements of a batch.

Collections: `tally_hours` and `tally_days` (one counter document per bucket and
dimensions, `$inc`), `tally_learners` (one document per activity and day whose field `r`
maps register → rank, `$max`), `tally_decisions`, `day_keys`, and `fingerprints`
(`_id` the statement id; a TTL index on `expires_at` removes them).

On a replica set (a single node is enough) a batch is one transaction. On a standalone
server there are none: kept statements are saved first (undone on failure by the statement
store), then the counters; a failure between the two leaves the counters short, which a
retry of the request repairs (the fingerprints make it idempotent).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import pymongo
from bson import Binary
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from aggregation.hits import DAY_HOURS, Hit
from aggregation.sketch import estimate, merge
from aggregation.store import NO_FILTERS, ActivityCount, Filters, Summary, Tallied, Where
from statements.attachments import RawAttachment
from statements.enrich import StoredStatement
from statements.errors import Conflict, Problem, StoreUnavailable
from statements.stores.mongo import MongoStatementStore, Raced, chunks
from statements.stores.mongo_attachments import put_attachments

Doc = dict[str, Any]
_DIMS = ("activity", "verb", "activity_type", "platform", "credential")
_ATTEMPTS = 10


def _hour_key(hit: Hit) -> Doc:
    return {"activity": hit.activity, "hour": hit.hour, "verb": hit.verb,
            "activity_type": hit.activity_type, "platform": hit.platform,
            "credential": hit.credential}


def _day_key(hit: Hit) -> Doc:
    return {"day": hit.day, "activity": hit.activity, "verb": hit.verb,
            "activity_type": hit.activity_type, "platform": hit.platform,
            "credential": hit.credential}


class MongoTallyStore:
    """TallyStore on the MongoDB database the statement store uses."""

    def __init__(self, statements: MongoStatementStore, db: AsyncDatabase[Doc]) -> None:
        self._statements = statements
        self._db = db.with_options(write_concern=WriteConcern("majority"))

    async def open(self) -> None:
        """Create the indexes (idempotent)."""
        db = self._db
        await self._statements._guard(db["tally_hours"].create_indexes([IndexModel(
            [("activity", ASCENDING), ("hour", ASCENDING), ("verb", ASCENDING),
             ("activity_type", ASCENDING), ("platform", ASCENDING), ("credential", ASCENDING)],
            unique=True, name="bucket")]))
        await self._statements._guard(db["tally_days"].create_indexes([
            IndexModel([("day", ASCENDING), ("activity", ASCENDING), ("verb", ASCENDING),
                        ("activity_type", ASCENDING), ("platform", ASCENDING),
                        ("credential", ASCENDING)], unique=True, name="bucket"),
            IndexModel([("activity", ASCENDING), ("day", ASCENDING)], name="activity_day")]))
        await self._statements._guard(db["tally_learners"].create_indexes([IndexModel(
            [("day", ASCENDING), ("activity", ASCENDING)], unique=True, name="sketch")]))
        await self._statements._guard(db["fingerprints"].create_indexes([IndexModel(
            [("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry")]))

    async def save(self, kept: Sequence[StoredStatement], attachments: Sequence[RawAttachment],
                   tallied: Sequence[Tallied], *, decisions: dict[str, int], day: int,
                   fingerprint_expires_ms: int) -> None:
        await self._statements._guard(put_attachments(self._db, attachments))
        await self._statements._guard(self._save(kept, tallied, day, fingerprint_expires_ms))
        # After the commit, outside the transaction: every request updates these few
        # documents, and inside transactions they would make concurrent batches conflict.
        counts = [UpdateOne({"_id": {"day": day, "decision": d}}, {"$inc": {"count": n}},
                            upsert=True) for d, n in decisions.items() if n]
        if counts:
            await self._statements._guard(self._db["tally_decisions"].bulk_write(counts))

    async def _save(self, kept: Sequence[StoredStatement], tallied: Sequence[Tallied],
                    day: int, expires_ms: int) -> None:
        for _ in range(_ATTEMPTS):
            try:
                return await self._save_once(kept, tallied, day, expires_ms)
            except Raced:
                continue  # an id was taken by a concurrent writer: decide again against it
        raise StoreUnavailable("saving kept colliding with concurrent writers")

    async def _save_once(self, kept: Sequence[StoredStatement], tallied: Sequence[Tallied],
                         day: int, expires_ms: int) -> None:
        if await self._statements.transactions():
            async def write(session: AsyncClientSession) -> None:
                await self._write(kept, tallied, day, expires_ms, session)

            with pymongo.timeout(30):
                async with self._statements.client.start_session() as session:
                    await session.with_transaction(
                        write, read_concern=ReadConcern("snapshot"),
                        write_concern=WriteConcern("majority"))
            return
        await self._write(kept, tallied, day, expires_ms, None)

    async def _write(self, kept: Sequence[StoredStatement], tallied: Sequence[Tallied],
                     day: int, expires_ms: int, session: AsyncClientSession | None) -> None:
        ids = [s.id for s in kept] + [t.statement_id for t in tallied]
        fingerprints = await self._hashes("fingerprints", ids, session)
        kept_before = await self._hashes("statements", [t.statement_id for t in tallied],
                                         session)
        for statement_id, content_hash in [(s.id, s.content_hash) for s in kept] + [
                (t.statement_id, t.content_hash) for t in tallied]:
            known = fingerprints.get(statement_id) or kept_before.get(statement_id)
            if known is not None and known != content_hash:
                # Communication §2.1.2.s2.b5: same id, other content → 409, tallied or kept.
                raise Conflict(f"statement {statement_id} already exists with different "
                               "content", (Problem("$.id", f"{statement_id} is already used"),))
        fresh_kept = [s for s in kept if s.id not in fingerprints]
        if fresh_kept:
            await self._statements.write_batch(fresh_kept, session)
        fresh = [t for t in tallied
                 if t.statement_id not in fingerprints and t.statement_id not in kept_before]
        if fresh:
            expires_at = datetime.fromtimestamp(expires_ms / 1000, UTC)
            await self._insert_fingerprints([{
                "_id": t.statement_id, "hash": t.content_hash, "expires_at": expires_at,
                "voided": False,
                **({"hour": t.hit.hour, **{d: getattr(t.hit, d) for d in _DIMS}}
                   if t.hit else {}),
            } for t in fresh], session)
        hits: Counter[Hit] = Counter(t.hit for t in fresh if t.hit is not None)
        hits.update(await self._take_back([t.voids for t in fresh if t.voids], session))
        await self._bump(hits, session)
        learners = [UpdateOne({"day": t.hit.day, "activity": t.hit.activity},
                              {"$max": {f"r.{t.learner[0]}": t.learner[1]}}, upsert=True)
                    for t in fresh if t.hit and t.learner]
        if learners:
            await self._db["tally_learners"].bulk_write(learners, session=session)

    async def _insert_fingerprints(self, documents: list[Doc],
                                   session: AsyncClientSession | None) -> None:
        try:
            await self._db["fingerprints"].insert_many(documents, session=session)
        except (BulkWriteError, DuplicateKeyError) as exc:
            raise Raced from exc  # a concurrent writer fingerprinted one: decide again

    async def _hashes(self, collection: str, ids: Sequence[str],
                      session: AsyncClientSession | None) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(list(ids)):
            async for doc in self._db[collection].find(
                    {"_id": {"$in": chunk}, "hash": {"$exists": True}}, {"hash": 1},
                    session=session):
                found[doc["_id"]] = doc["hash"]
        return found

    async def _take_back(self, targets: list[str], session: AsyncClientSession | None
                         ) -> Counter[Hit]:
        taken: Counter[Hit] = Counter()
        for target in targets:
            doc = await self._db["fingerprints"].find_one_and_update(
                {"_id": target, "voided": False, "hour": {"$exists": True}},
                {"$set": {"voided": True}}, session=session)
            if doc:
                taken[Hit(doc["activity"], doc["verb"], doc["activity_type"], doc["platform"],
                          doc["credential"], doc["hour"])] -= 1
        return taken

    async def _bump(self, hits: Counter[Hit], session: AsyncClientSession | None) -> None:
        by_day: Counter[tuple[Any, ...]] = Counter()
        hours = []
        for hit, n in hits.items():
            if n:
                hours.append(UpdateOne(_hour_key(hit), {"$inc": {"hits": n}}, upsert=True))
                by_day[tuple(_day_key(hit).items())] += n
        if hours:
            await self._db["tally_hours"].bulk_write(hours, ordered=False, session=session)
            await self._db["tally_days"].bulk_write(
                [UpdateOne(dict(key), {"$inc": {"hits": n}}, upsert=True)
                 for key, n in by_day.items() if n], ordered=False, session=session)

    async def where(self, statement_ids: Collection[str]) -> dict[str, Where]:
        ids = sorted(statement_ids)

        async def run() -> dict[str, Where]:
            found: dict[str, Where] = dict.fromkeys(
                await self._hashes("fingerprints", ids, None), "tally")
            found.update(dict.fromkeys(await self._hashes("statements", ids, None), "full"))
            return found

        return await self._statements._guard(run())

    async def day_key(self, day: int, *, today: int) -> bytes | None:
        keys = self._db["day_keys"]
        if day >= today:
            await self._statements._guard(keys.update_one(
                {"_id": day}, {"$setOnInsert": {"key": Binary(secrets.token_bytes(32))}},
                upsert=True))
        doc = await self._statements._guard(keys.find_one({"_id": day}))
        return bytes(doc["key"]) if doc else None

    async def popular(self, first_day: int, last_day: int, filters: Filters, *,
                      by: Literal["hits", "learners"], limit: int) -> list[ActivityCount]:
        match: Doc = {"day": {"$gte": first_day, "$lte": last_day}, **_filter_match(filters)}

        async def run() -> list[ActivityCount]:
            cursor = await self._db["tally_days"].aggregate([
                {"$match": match}, {"$group": {"_id": "$activity", "hits": {"$sum": "$hits"}}},
                {"$match": {"hits": {"$gt": 0}}}])
            totals = {row["_id"]: row["hits"] async for row in cursor}
            registers: dict[str, dict[int, int]] = {}
            async for doc in self._db["tally_learners"].find(
                    {"day": {"$gte": first_day, "$lte": last_day},
                     "activity": {"$in": sorted(totals)}}):
                registers[doc["activity"]] = merge(
                    registers.get(doc["activity"], {}),
                    {int(k): v for k, v in doc.get("r", {}).items()})
            counts = [ActivityCount(a, n, estimate(registers.get(a, {})))
                      for a, n in totals.items()]
            key = (lambda c: (c.hits, c.learners)) if by == "hits" else (
                lambda c: (c.learners, c.hits))
            return sorted(counts, key=key, reverse=True)[:limit]

        return await self._statements._guard(run())

    async def series(self, activity: str, first_hour: int, last_hour: int, *,
                     daily: bool, filters: Filters = NO_FILTERS) -> list[tuple[int, int]]:
        field, collection = ("day", "tally_days") if daily else ("hour", "tally_hours")
        span = (first_hour // DAY_HOURS, last_hour // DAY_HOURS) if daily else (
            first_hour, last_hour)

        async def run() -> list[tuple[int, int]]:
            cursor = await self._db[collection].aggregate([
                {"$match": {"activity": activity, field: {"$gte": span[0], "$lte": span[1]},
                            **_filter_match(filters)}},
                {"$group": {"_id": f"${field}", "hits": {"$sum": "$hits"}}},
                {"$match": {"hits": {"$gt": 0}}}, {"$sort": {"_id": 1}}])
            return [(row["_id"], row["hits"]) async for row in cursor]

        return await self._statements._guard(run())

    async def summary(self, first_day: int, last_day: int, filters: Filters = NO_FILTERS
                      ) -> Summary:
        window = {"$gte": first_day, "$lte": last_day}

        async def totals(field: str) -> dict[str, int]:
            cursor = await self._db["tally_days"].aggregate([
                {"$match": {"day": window, **_filter_match(filters)}},
                {"$group": {"_id": f"${field}", "hits": {"$sum": "$hits"}}},
                {"$match": {"hits": {"$gt": 0}}}])
            return {row["_id"]: row["hits"] async for row in cursor}

        async def run() -> Summary:
            by_verb, by_platform = await totals("verb"), await totals("platform")
            cursor = await self._db["tally_decisions"].aggregate([
                {"$match": {"_id.day": window}},
                {"$group": {"_id": "$_id.decision", "count": {"$sum": "$count"}}}])
            decisions = {row["_id"]: row["count"] async for row in cursor}
            return Summary(sum(by_verb.values()), by_verb, by_platform, decisions)

        return await self._statements._guard(run())

    async def seen(self, first_day: int, last_day: int, filters: Filters = NO_FILTERS
                   ) -> set[str]:
        async def run() -> set[str]:
            cursor = await self._db["tally_days"].aggregate([
                {"$match": {"day": {"$gte": first_day, "$lte": last_day},
                            **_filter_match(filters)}},
                {"$group": {"_id": "$activity", "hits": {"$sum": "$hits"}}},
                {"$match": {"hits": {"$gt": 0}}}])
            return {row["_id"] async for row in cursor}

        return await self._statements._guard(run())

    async def purge(self, *, now_ms: int, today: int) -> None:
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        await self._statements._guard(
            self._db["fingerprints"].delete_many({"expires_at": {"$lt": now}}))
        await self._statements._guard(self._db["day_keys"].delete_many({"_id": {"$lt": today}}))


def _filter_match(filters: Filters) -> Doc:
    """The exact-match conditions of `filters` on the counter documents."""
    return {name: getattr(filters, name)
            for name in ("verb", "activity_type", "platform", "credential")
            if getattr(filters, name) is not None}
