"""Erasure on MongoDB: deletes and rewrites of statement documents, and the audit log.

A change is one transaction on a replica set (a single node is enough). On a standalone
server there are none, and a change that fails part-way stays part-done: run it again
(purge and forget are idempotent).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from typing import Any

import pymongo
from bson import Binary
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from statements.erasure import AuditRecord, Change, KeptStatement
from statements.stores.mongo import MongoStatementStore, chunks
from statements.stores.mongo_codec import decode_statement, statement_document
from statements.stores.mongo_kernel import guard

Doc = dict[str, Any]
_FIELDS = {"statement": 1, "escaped": 1, "stored": 1}
_OPTIONAL = ("activity", "registration", "ref_target", "authority", "escaped")


def _kept(doc: Doc) -> KeptStatement:
    return KeptStatement(doc["_id"], doc["stored"], decode_statement(
        doc["statement"], escaped=bool(doc.get("escaped"))))


class MongoErasureStore:
    """ErasureStore on the MongoDB database the statement store uses."""

    def __init__(self, statements: MongoStatementStore, db: AsyncDatabase[Doc]) -> None:
        self._statements = statements
        self._db = db.with_options(write_concern=WriteConcern("majority"))

    async def open(self) -> None:
        """Create the audit log's index."""
        await guard(self._db["audit_log"].create_indexes(
            [IndexModel([("subject", ASCENDING)], name="subject", sparse=True)]))

    async def involving(self, keys: Collection[str]) -> list[KeptStatement]:
        async def run() -> list[KeptStatement]:
            cursor = self._db["statements"].find(
                {"rel_agents": {"$in": sorted(keys)}, "stored": {"$exists": True}}, _FIELDS)
            return [_kept(doc) async for doc in cursor.sort("_id", ASCENDING)]

        return await guard(run())

    async def stored_before(self, before_ms: int, after: tuple[int, str] | None,
                            limit: int) -> list[KeptStatement]:
        query: Doc = {"stored": {"$lt": before_ms}}
        if after is not None:
            query = {"$and": [query, {"$or": [{"stored": {"$gt": after[0]}},
                                              {"stored": after[0], "_id": {"$gt": after[1]}}]}]}

        async def run() -> list[KeptStatement]:
            cursor = self._db["statements"].find(query, _FIELDS).sort(
                [("stored", ASCENDING), ("_id", ASCENDING)]).limit(limit)
            return [_kept(doc) async for doc in cursor]

        return await guard(run())

    async def apply(self, change: Change, audit: AuditRecord) -> dict[str, int]:
        async def once() -> dict[str, int]:
            if not await self._statements.kernel.transactions():
                return await self._apply(change, audit, None)

            async def write(session: AsyncClientSession) -> dict[str, int]:
                return await self._apply(change, audit, session)

            with pymongo.timeout(120):
                async with self._statements.kernel.client.start_session() as session:
                    result: dict[str, int] = await session.with_transaction(
                        write, read_concern=ReadConcern("snapshot"),
                        write_concern=WriteConcern("majority"))
                    return result

        return await guard(once())

    async def _apply(self, change: Change, audit: AuditRecord,
                     session: AsyncClientSession | None) -> dict[str, int]:
        statements = self._db["statements"]
        done = dict.fromkeys(("statements_deleted", "statements_rewritten", "documents_deleted",
                              "attachments_deleted"), 0)
        for chunk in chunks([k.id for k in change.delete]):
            done["statements_deleted"] += (await statements.delete_many(
                {"_id": {"$in": chunk}, "stored": {"$exists": True}}, session=session)
            ).deleted_count
            # Their door-check marks go with them (a finding may quote a value they held).
            await self._db["statement_marks"].delete_many({"_id": {"$in": chunk}},
                                                          session=session)
        for before, after in change.rewrite:
            document = statement_document(after, voided=False)
            for name in ("_id", "voided", "hash"):  # voided and the hash as received stay
                document.pop(name)
            unset = {name: "" for name in _OPTIONAL if name not in document}
            update: Doc = {"$set": document, **({"$unset": unset} if unset else {})}
            done["statements_rewritten"] += (await statements.update_one(
                {"_id": before.id, "stored": {"$exists": True}}, update, session=session)
            ).matched_count
        if change.document_agents:
            done["documents_deleted"] += (await self._db["documents"].delete_many(
                {"kind": {"$in": ["state", "agent_profile"]},
                 "agent": {"$in": sorted(change.document_agents)}}, session=session)
            ).deleted_count
        for sha2 in sorted(change.attachments):
            # No index on attachment hashes: a scan, run only for attachments whose
            # statement was just deleted.
            used = await statements.find_one(
                {"statement.attachments.sha2": {"$in": [sha2.lower(), sha2.upper()]}},
                {"_id": 1}, session=session)
            if used is None:
                done["attachments_deleted"] += (await self._db["attachments"].delete_one(
                    {"_id": sha2}, session=session)).deleted_count
                await self._db["attachment_chunks"].delete_many({"sha2": sha2}, session=session)
        await self._audit(audit, done, session)
        return done

    async def _audit(self, audit: AuditRecord, done: dict[str, int],
                     session: AsyncClientSession | None) -> None:
        # Read, add, write back in the transaction: count names (purge classes) hold IRIs,
        # whose dots `$inc` would take for paths. Stored as [name, count] pairs, and the
        # detail (catalogue entries are IRIs too) as [name, value] pairs.
        log = self._db["audit_log"]
        found = await log.find_one({"_id": audit.run_id}, session=session)
        counts: dict[str, int] = dict(found["counts"]) if found else {}
        for name, value in [*audit.counts.items(), *done.items()]:
            counts[name] = counts.get(name, 0) + value
        await log.replace_one({"_id": audit.run_id}, {
            "action": audit.action, "at": audit.at_ms, "operator": audit.operator,
            **({"subject": audit.subject} if audit.subject else {}),
            "counts": [[name, value] for name, value in counts.items()],
            **({"detail": [[k, v] for k, v in audit.detail.items()]} if audit.detail else {})},
            upsert=True, session=session)

    async def record(self, audit: AuditRecord) -> None:
        await guard(self._audit(audit, {}, None))

    async def audit_log(self, subject: str | None = None) -> list[AuditRecord]:
        async def run() -> list[AuditRecord]:
            cursor = self._db["audit_log"].find({"subject": subject} if subject else {})
            return [AuditRecord(d["_id"], d["action"], d["at"], d["operator"],
                                d.get("subject"), {n: v for n, v in d["counts"]},
                                {n: v for n, v in d.get("detail", ())})
                    async for d in cursor.sort([("at", ASCENDING), ("_id", ASCENDING)])]

        return await guard(run())

    async def secret(self) -> bytes:
        async def run() -> bytes:
            await self._db["audit_secret"].update_one(
                {"_id": "hmac"}, {"$setOnInsert": {"key": Binary(secrets.token_bytes(32))}},
                upsert=True)
            found = await self._db["audit_secret"].find_one({"_id": "hmac"})
            assert found is not None
            return bytes(found["key"])

        return await guard(run())

    async def documents_of(self, keys: Collection[str]) -> int:
        return int(await guard(self._db["documents"].count_documents(
            {"kind": {"$in": ["state", "agent_profile"]}, "agent": {"$in": sorted(keys)}})))

    async def rewrite_audit(self, records: Sequence[AuditRecord]) -> None:
        for r in records:
            update: Doc = {"$set": {"operator": r.operator}}
            if r.detail:
                update["$set"]["detail"] = [[k, v] for k, v in r.detail.items()]
            else:
                update["$unset"] = {"detail": ""}
            await guard(self._db["audit_log"].update_one({"_id": r.run_id}, update))

    async def compact(self) -> None:
        # Deleted documents are gone from every query and dump; the storage engine reuses
        # their space (docs/retention.md says what that means for backups and disks).
        return None
