"""The credential store on MongoDB: collection `credentials`, `_id` = the credential key."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import orjson
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from lrs.credentials import CheckMode, Credential
from lrs.credentials.records import from_record, to_record
from statements.stores.mongo_kernel import guard as _guard

T = TypeVar("T")
Document = dict[str, Any]
Sort = list[tuple[str, int]]  # here: `list` is a method name inside the class

COLLECTION = "credentials"
INDEXES = [IndexModel([("name", ASCENDING), ("created", DESCENDING)], name="name")]


def to_document(credential: Credential) -> Document:
    """The stored document: the flat record, its key as `_id`."""
    record = to_record(credential)
    return {"_id": record.pop("key"), **record}


def from_document(document: Document) -> Credential:
    """The inverse of `to_document`."""
    record = {k: v for k, v in document.items() if k != "_id"}
    return from_record({"key": document["_id"], **record})


class MongoCredentialStore:
    """CredentialStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._credentials: AsyncCollection[Document] = db.get_collection(
            COLLECTION, write_concern=WriteConcern("majority"))

    async def open(self) -> None:
        """Create the indexes (idempotent)."""
        await _guard(self._credentials.create_indexes(INDEXES))

    async def add(self, credential: Credential) -> None:
        # A key already used raises DuplicateKeyError → StoreUnavailable, as SQLite's
        # IntegrityError does.
        await _guard(self._credentials.insert_one(to_document(credential)))

    async def get(self, key: str) -> Credential | None:
        return await self._one({"_id": key})

    async def find_by_name(self, name: str) -> Credential | None:
        # `revoked: None` matches null and absent; `created` is ISO 8601 text, ordered as
        # SQLite orders it.
        return await self._one({"name": name, "revoked": None}, sort=[("created", DESCENDING)])

    async def list(self) -> list[Credential]:
        cursor = self._credentials.find({}).sort([("created", ASCENDING), ("_id", ASCENDING)])
        documents = await _guard(cursor.to_list(None))
        return [from_document(d) for d in documents]

    async def revoke(self, key: str, when: datetime) -> bool:
        result = await _guard(self._credentials.update_one(
            {"_id": key, "revoked": None}, {"$set": {"revoked": when.isoformat()}}))
        return result.matched_count == 1

    async def replace_secret(self, key: str, secret_hash: str) -> None:
        await _guard(self._credentials.update_one(
            {"_id": key}, {"$set": {"secret_hash": secret_hash}}))

    async def record_use(self, key: str, when: datetime) -> None:
        await _guard(self._credentials.update_one(
            {"_id": key}, {"$set": {"last_used": when.isoformat()}}))

    async def erase(self, key: str, *, name: str, authority: dict[str, Any],
                    when: datetime) -> None:
        await _guard(self._credentials.update_one(
            {"_id": key, "revoked": None}, {"$set": {"revoked": when.isoformat()}}))
        await _guard(self._credentials.update_one({"_id": key}, {"$set": {
            "name": name, "authority": orjson.dumps(authority).decode()}}))
    async def set_checks(self, key: str, *, cmi5: CheckMode, profiles: CheckMode,
                         cmi5_lms: bool) -> None:
        await _guard(self._credentials.update_one({"_id": key}, {"$set": {
            "cmi5": cmi5.value, "profiles": profiles.value, "cmi5_lms": int(cmi5_lms)}}))

    async def _one(self, where: Document,
                   sort: Sort | None = None) -> Credential | None:
        document = await _guard(self._credentials.find_one(where, sort=sort))
        return from_document(document) if document is not None else None
