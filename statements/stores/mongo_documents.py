"""Documents and canonical Activity definitions on MongoDB, written by compare-and-swap.

Each write reads the current document, applies the domain's mutation, then replaces it only
if nobody changed it meanwhile (filtered on its ETag, or inserted under a unique index);
on a lost race it starts again, so concurrent conditional requests behave as if serial.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from bson import Binary
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from statements.activities import merge_definition
from statements.documents import Document, DocumentScope, Mutation
from statements.errors import StoreUnavailable
from statements.stores.mongo_codec import decode_statement, encode_statement
from statements.stores.mongo_kernel import guard as translated

T = TypeVar("T")
_ATTEMPTS = 20
_SCOPE_FIELDS = ("kind", "activity", "agent", "registration")


def _scope_filter(scope: DocumentScope) -> dict[str, str]:
    return {"kind": scope.kind.value, "activity": scope.activity, "agent": scope.agent,
            "registration": scope.registration}


class MongoDocumentStore:
    """DocumentStore on a MongoDB database (collection `documents`)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._documents = db["documents"]

    async def open(self) -> None:
        """Create the indexes: one document per key, listings by update time."""
        await translated(self._documents.create_indexes([
            IndexModel([*((f, ASCENDING) for f in _SCOPE_FIELDS), ("doc_id", ASCENDING)],
                       name="key", unique=True),
            IndexModel([*((f, ASCENDING) for f in _SCOPE_FIELDS), ("updated", ASCENDING)],
                       name="updated"),
        ]))

    async def get(self, scope: DocumentScope, document_id: str) -> Document | None:
        found = await translated(self._documents.find_one(
            {**_scope_filter(scope), "doc_id": document_id}))
        return _document(found) if found else None

    async def ids(self, scope: DocumentScope, since_ms: int | None) -> tuple[list[str], int | None]:
        query: dict[str, Any] = _scope_filter(scope)
        if since_ms is not None:
            query["updated"] = {"$gt": since_ms}

        async def run() -> list[dict[str, Any]]:
            cursor = self._documents.find(query, {"doc_id": 1, "updated": 1})
            return await cursor.sort("doc_id", ASCENDING).to_list(None)

        rows = await translated(run())
        return [r["doc_id"] for r in rows], max((r["updated"] for r in rows), default=None)

    async def mutate(self, scope: DocumentScope, document_id: str, mutation: Mutation) -> None:
        key = {**_scope_filter(scope), "doc_id": document_id}
        for _ in range(_ATTEMPTS):
            found = await translated(self._documents.find_one(key))
            current = _document(found) if found else None
            new = mutation(current)  # raises the domain's 4xx errors
            guard = {**key, "etag": current.etag} if current else key
            if new is None:
                if current is None:
                    return
                deleted = await translated(self._documents.delete_one(guard))
                if deleted.deleted_count == 1:
                    return
                continue
            fields = {**key, "content": Binary(new.content), "content_type": new.content_type,
                      "etag": new.etag, "updated": new.updated_ms}
            if current is None:
                try:
                    await translated(self._documents.insert_one(fields))
                    return
                except StoreUnavailable as exc:
                    if isinstance(exc.__cause__, DuplicateKeyError):
                        continue  # created meanwhile: decide again against it
                    raise
            replaced = await translated(self._documents.replace_one(guard, fields))
            if replaced.matched_count == 1:
                return
        raise StoreUnavailable("the document kept changing under this write; try again")

    async def delete_all(self, scope: DocumentScope) -> None:
        await translated(self._documents.delete_many(_scope_filter(scope)))


def _document(found: dict[str, Any]) -> Document:
    return Document(bytes(found["content"]), found["content_type"], found["etag"],
                    found["updated"])


class MongoActivityStore:
    """ActivityStore on a MongoDB database (collection `activities`, `_id` the IRI)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._activities = db["activities"]

    async def open(self) -> None:
        """Nothing to index beyond `_id`."""

    async def definitions(self, activity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = sorted(set(activity_ids))

        async def run() -> list[dict[str, Any]]:
            return await self._activities.find({"_id": {"$in": ids}}).to_list(None)

        return {row["_id"]: _definition(row) for row in await translated(run())}

    async def merge(self, definitions: dict[str, dict[str, Any]]) -> None:
        for activity_id, new in definitions.items():
            await self._merge_one(activity_id, new)

    async def _merge_one(self, activity_id: str, new: dict[str, Any]) -> None:
        for _ in range(_ATTEMPTS):
            found = await translated(self._activities.find_one({"_id": activity_id}))
            if found is None:
                try:
                    await translated(self._activities.insert_one(
                        {"_id": activity_id, **_encoded(new), "rev": 1}))
                    return
                except StoreUnavailable as exc:
                    if isinstance(exc.__cause__, DuplicateKeyError):
                        continue
                    raise
            held = _definition(found)
            merged = merge_definition(held, new)
            if merged == held:
                return
            replaced = await translated(self._activities.replace_one(
                {"_id": activity_id, "rev": found["rev"]},
                {**_encoded(merged), "rev": found["rev"] + 1}))
            if replaced.matched_count == 1:
                return
        raise StoreUnavailable("the activity definition kept changing under this write")


def _encoded(definition: dict[str, Any]) -> dict[str, Any]:
    # Extensions may hold keys BSON cannot (NUL, a leading `$`): escaped as in statements.
    body, escaped = encode_statement(definition)
    return {"definition": body, "escaped": True} if escaped else {"definition": body}


def _definition(row: dict[str, Any]) -> dict[str, Any]:
    return decode_statement(row["definition"], escaped=row.get("escaped", False))
