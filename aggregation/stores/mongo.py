"""The tally on MongoDB, written in the same transaction as the kept statements of a batch.

Collections: `tally_hours` and `tally_days` (one counter document per bucket and
dimensions, `$inc`), `tally_learners` (one document per activity and day whose field `r`
maps register → rank, `$max`), `tally_decisions`, `day_keys`, and `fingerprints`
(`_id` the statement id; a TTL index on `expires_at` removes them).

The engine's commit (lrs.engines.mongodb) writes a batch's plan through `write_plan` in the
same transaction as the kept statements. On a replica set (a single node is enough) that is
one transaction; on a standalone server there are none: kept statements are written first
(undone on failure by the statement store), then the counters; a failure between the two
leaves the counters short, which a retry of the request repairs (the fingerprints make it
idempotent).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from bson import Binary
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.write_concern import WriteConcern

from aggregation.hits import DAY_HOURS, Hit
from aggregation.plan import Batch, Plan
from aggregation.sketch import estimate, merge
from aggregation.store import NO_FILTERS, ActivityCount, Filters, Summary, Where
from statements.stores.mongo import MongoStatementStore, chunks
from statements.stores.mongo_kernel import Raced, guard, is_duplicate

Doc = dict[str, Any]
_DIMS = ("activity", "verb", "activity_type", "platform", "credential")


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
        await guard(db["tally_hours"].create_indexes([IndexModel(
            [("activity", ASCENDING), ("hour", ASCENDING), ("verb", ASCENDING),
             ("activity_type", ASCENDING), ("platform", ASCENDING), ("credential", ASCENDING)],
            unique=True, name="bucket")]))
        await guard(db["tally_days"].create_indexes([
            IndexModel([("day", ASCENDING), ("activity", ASCENDING), ("verb", ASCENDING),
                        ("activity_type", ASCENDING), ("platform", ASCENDING),
                        ("credential", ASCENDING)], unique=True, name="bucket"),
            IndexModel([("activity", ASCENDING), ("day", ASCENDING)], name="activity_day")]))
        await guard(db["tally_learners"].create_indexes([IndexModel(
            [("day", ASCENDING), ("activity", ASCENDING)], unique=True, name="sketch")]))
        await guard(db["fingerprints"].create_indexes([IndexModel(
            [("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry")]))

    async def known(self, batch: Batch, session: AsyncClientSession | None
                    ) -> tuple[dict[str, str], dict[str, Hit]]:
        """The tally's side of what the store holds about `batch`: id → content hash of
        the batch's ids that have a fingerprint, and the hit of each voiding target that is
        a tallied statement not voided yet."""
        held = await self._hashes("fingerprints", batch.ids, session)
        takeable: dict[str, Hit] = {}
        for chunk in chunks(batch.targets):
            async for doc in self._db["fingerprints"].find(
                    {"_id": {"$in": chunk}, "voided": False, "hour": {"$exists": True}},
                    session=session):
                takeable[doc["_id"]] = Hit(doc["activity"], doc["verb"], doc["activity_type"],
                                           doc["platform"], doc["credential"], doc["hour"])
        return held, takeable

    async def write_plan(self, plan: Plan, session: AsyncClientSession | None) -> None:
        """Write the tally's part of a plan in the caller's transaction (`session`)."""
        if plan.fingerprints:
            expires_at = datetime.fromtimestamp(plan.fingerprint_expires_ms / 1000, UTC)
            voided = set(plan.take_back)
            try:
                await self._db["fingerprints"].insert_many([{
                    "_id": t.statement_id, "hash": t.content_hash, "expires_at": expires_at,
                    "voided": t.statement_id in voided,
                    **({"hour": t.hit.hour, **{d: getattr(t.hit, d) for d in _DIMS}}
                       if t.hit else {}),
                } for t in plan.fingerprints], session=session)
            except (BulkWriteError, DuplicateKeyError) as exc:
                if is_duplicate(exc):
                    raise Raced from exc  # a concurrent writer fingerprinted one: plan again
                raise
        for target in plan.take_back_held:
            # In a transaction, two taking the same hit back conflict and one is retried,
            # then plans without it; without one, the condition keeps it to one.
            taken = await self._db["fingerprints"].update_one(
                {"_id": target, "voided": False}, {"$set": {"voided": True}}, session=session)
            if taken.modified_count != 1:
                raise Raced
        await self._bump(plan.hits, session)
        learners = [UpdateOne({"day": hit.day, "activity": hit.activity},
                              {"$max": {f"r.{register}": rank}}, upsert=True)
                    for hit, register, rank in plan.learners]
        if learners:
            await self._db["tally_learners"].bulk_write(learners, session=session)

    async def count_decisions(self, plan: Plan) -> None:
        """Add a committed plan's decisions to the day's counters.

        After the commit, outside its transaction: every request updates these few
        documents, and inside transactions they would make concurrent batches conflict.
        """
        counts = [UpdateOne({"_id": {"day": plan.day, "decision": d}}, {"$inc": {"count": n}},
                            upsert=True) for d, n in plan.decisions.items()]
        if counts:
            await guard(self._db["tally_decisions"].bulk_write(counts))

    async def _hashes(self, collection: str, ids: Sequence[str],
                      session: AsyncClientSession | None) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(list(ids)):
            async for doc in self._db[collection].find(
                    {"_id": {"$in": chunk}, "hash": {"$exists": True}}, {"hash": 1},
                    session=session):
                found[doc["_id"]] = doc["hash"]
        return found

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

        return await guard(run())

    async def day_key(self, day: int, *, today: int) -> bytes | None:
        keys = self._db["day_keys"]
        if day >= today:
            await guard(keys.update_one(
                {"_id": day}, {"$setOnInsert": {"key": Binary(secrets.token_bytes(32))}},
                upsert=True))
        doc = await guard(keys.find_one({"_id": day}))
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

        return await guard(run())

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

        return await guard(run())

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

        return await guard(run())

    async def seen(self, first_day: int, last_day: int, filters: Filters = NO_FILTERS
                   ) -> set[str]:
        async def run() -> set[str]:
            cursor = await self._db["tally_days"].aggregate([
                {"$match": {"day": {"$gte": first_day, "$lte": last_day},
                            **_filter_match(filters)}},
                {"$group": {"_id": "$activity", "hits": {"$sum": "$hits"}}},
                {"$match": {"hits": {"$gt": 0}}}])
            return {row["_id"] async for row in cursor}

        return await guard(run())

    async def bound_contributions(self, period: int, pairs: Sequence[tuple[bytes, bytes]],
                                  *, per_bucket: int, buckets: int) -> list[bool]:
        # Conditional upserts, so concurrent writers never let a learner past a bound: a
        # pair's count grows only while under per_bucket, a learner's number of activities
        # only while under buckets (a duplicate-key error on the upsert means the bound is
        # reached by the condition).
        contributions = self._db["dp_contributions"]

        async def bump(digest: bytes, bound: int) -> bool:
            try:
                await contributions.update_one(
                    {"_id": {"p": period, "d": Binary(digest)}, "n": {"$lt": bound}},
                    {"$inc": {"n": 1}}, upsert=True)
            except DuplicateKeyError:
                return False
            return True

        async def run() -> list[bool]:
            counted = []
            for person, pair in pairs:
                known = await contributions.find_one({"_id": {"p": period, "d": Binary(pair)}})
                if known is not None or await bump(person, buckets):
                    counted.append(await bump(pair, per_bucket))
                else:
                    counted.append(False)
            return counted

        return await guard(run())

    async def released(self, keys: Collection[str]) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            found: dict[str, Any] = {}
            for chunk in chunks(sorted(keys)):
                async for doc in self._db["dp_releases"].find({"_id": {"$in": chunk}}):
                    found[doc["_id"]] = doc["value"]
            return found

        return await guard(run())

    async def release(self, key: str, day: int, epsilon: float, budget: float, value: Any
                      ) -> Any | None:
        releases, budgets = self._db["dp_releases"], self._db["dp_budget"]

        async def run() -> Any | None:
            held = await releases.find_one({"_id": key})
            if held is not None:
                return held["value"]
            # Spend first, with a condition that keeps the day within its budget; then the
            # release; if another request released the same key meanwhile, its figure
            # stands and this spending is given back.
            try:
                await budgets.update_one(
                    {"_id": day, "spent": {"$lte": budget * (1 + 1e-9) - epsilon}},
                    {"$inc": {"spent": epsilon}}, upsert=True)
            except DuplicateKeyError:
                return None
            try:
                await releases.insert_one({"_id": key, "day": day, "epsilon": epsilon,
                                           "value": value})
            except DuplicateKeyError:
                await budgets.update_one({"_id": day}, {"$inc": {"spent": -epsilon}})
                held = await releases.find_one({"_id": key})
                return held["value"] if held else None
            return value

        if epsilon > budget * (1 + 1e-9):
            return None
        return await guard(run())

    async def spent(self, first_day: int, last_day: int) -> dict[int, float]:
        async def run() -> dict[int, float]:
            return {doc["_id"]: float(doc["spent"]) async for doc in self._db["dp_budget"].find(
                {"_id": {"$gte": first_day, "$lte": last_day}})}

        return await guard(run())

    async def purge(self, *, now_ms: int, today: int) -> None:
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        await guard(
            self._db["fingerprints"].delete_many({"expires_at": {"$lt": now}}))
        await guard(self._db["day_keys"].delete_many({"_id": {"$lt": today}}))
        await guard(self._db["dp_contributions"].delete_many({"_id.p": {"$lt": today}}))


def _filter_match(filters: Filters) -> Doc:
    """The exact-match conditions of `filters` on the counter documents."""
    return {name: getattr(filters, name)
            for name in ("verb", "activity_type", "platform", "credential")
            if getattr(filters, name) is not None}
