"""SpaceStore on MongoDB: the blobs in collection `space_blobs` of the store's database, the
keyring in collection `space_keys` of a database of its own (`<database>_keyring`), so it can
be dumped and kept on a schedule of its own."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bson.binary import Binary
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from lrs.space import Blob, KeyRecord, Mode, SpaceChanged, SpaceExists, SpaceNotFound
from statements.errors import StoreUnavailable
from statements.stores.mongo_kernel import guard, is_duplicate

Document = dict[str, Any]
_SECRETS = ("wrapped_data_key", "public_key", "by_passphrase", "by_recovery")


def keyring_database(name: str) -> str:
    """The name of the keyring's database beside the store's database `name`."""
    return f"{name}_keyring"


def _document(record: KeyRecord) -> Document:
    document: Document = {"_id": record.owner, "space": record.space,
                          "mode": record.mode.value, "created_ms": record.created_ms,
                          "kek_id": record.kek_id}
    for name in _SECRETS:
        value = getattr(record, name)
        document[name] = Binary(value) if value is not None else None
    return document


def _record(document: Document) -> KeyRecord:
    return KeyRecord(document["_id"], document["space"], Mode(document["mode"]),
                     int(document["created_ms"]), document.get("kek_id"),
                     *(bytes(document[n]) if document.get(n) is not None else None
                       for n in _SECRETS))


class MongoSpaceStore:
    """SpaceStore over the store's database (blobs) and the keyring's database."""

    def __init__(self, db: AsyncDatabase[Document], keyring: AsyncDatabase[Document]) -> None:
        # Majority: a key destroyed on one node must not come back from another.
        majority = WriteConcern("majority")
        self._blobs: AsyncCollection[Document] = db.get_collection(
            "space_blobs", write_concern=majority)
        self._keys: AsyncCollection[Document] = keyring.get_collection(
            "space_keys", write_concern=majority)

    async def open(self) -> None:
        """Create the indexes (idempotent)."""
        await guard(self._blobs.create_indexes([
            IndexModel([("space", 1), ("kind", 1)], name="space_kind")]))
        await guard(self._keys.create_indexes([
            IndexModel([("space", 1)], name="space", unique=True)]))

    async def close(self) -> None:
        """Nothing of its own: the engine's client closes."""

    async def create_key(self, record: KeyRecord) -> None:
        try:
            await guard(self._keys.insert_one(_document(record)))
        except StoreUnavailable as exc:  # guard keeps the driver's error as the cause
            if isinstance(exc.__cause__, Exception) and is_duplicate(exc.__cause__):
                raise SpaceExists() from None
            raise

    async def key_of(self, owner: str) -> KeyRecord | None:
        document = await guard(self._keys.find_one({"_id": owner}))
        return _record(document) if document is not None else None

    async def replace_key(self, record: KeyRecord) -> None:
        document = _document(record)
        result = await guard(self._keys.replace_one(
            {"_id": record.owner, "space": record.space,
             "public_key": {"$in": [None, document["public_key"]]}}, document))
        if result.matched_count != 1:
            held = await guard(self._keys.find_one({"_id": record.owner,
                                                    "space": record.space}, {"_id": 1}))
            raise SpaceChanged() if held is not None else SpaceNotFound()

    async def put_blob(self, blob: Blob) -> None:
        await guard(self._blobs.replace_one(
            {"_id": _blob_id(blob.space, blob.id)},
            {"space": blob.space, "id": blob.id, "kind": blob.kind, "data": Binary(blob.data)},
            upsert=True))

    async def blob(self, space: str, blob_id: str) -> Blob | None:
        document = await guard(self._blobs.find_one({"_id": _blob_id(space, blob_id)}))
        return _blob(document) if document is not None else None

    async def blobs(self, space: str, kind: str | None = None) -> list[Blob]:
        query: Document = {"space": space} if kind is None else {"space": space, "kind": kind}
        return [_blob(d) for d in await guard(self._blobs.find(query).to_list())]

    async def count_blobs(self, space: str, kind: str | None = None) -> int:
        query: Document = {"space": space} if kind is None else {"space": space, "kind": kind}
        return await guard(self._blobs.count_documents(query))

    async def delete_blobs(self, space: str, ids: Collection[str] | None = None, *,
                           kind: str | None = None) -> int:
        query: Document = {"space": space}
        if ids is not None:
            query["_id"] = {"$in": [_blob_id(space, i) for i in ids]}
        if kind is not None:
            query["kind"] = kind
        result = await guard(self._blobs.delete_many(query))
        return result.deleted_count

    async def destroy(self, owner: str) -> bool:
        document = await guard(self._keys.find_one_and_delete({"_id": owner}))
        if document is None:
            return False
        await self.delete_blobs(document["space"])
        return True


def _blob_id(space: str, blob_id: str) -> str:
    return f"{space}/{blob_id}"


def _blob(document: Document) -> Blob:
    return Blob(document["space"], document["id"], document["kind"], bytes(document["data"]))
