"""The compliance catalogue on MongoDB (collection `catalogue`, `_id` = {kind, value})."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from plugins.catalogue import CatalogueEntry, rules_json, with_rules
from statements.stores.mongo_kernel import translate


class MongoCatalogueStore:
    """CatalogueStore on a MongoDB database."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._catalogue = db["catalogue"]

    async def open(self) -> None:
        """Nothing to index beyond `_id`."""

    async def entries(self) -> list[CatalogueEntry]:
        try:
            docs = await self._catalogue.find().sort([("_id.kind", 1), ("_id.value", 1)]
                                                     ).to_list(None)
        except PyMongoError as exc:
            raise translate(exc) from exc
        # `rules` is absent from entries written before rules existed: the defaults.
        return [with_rules(CatalogueEntry(kind=d["_id"]["kind"], value=d["_id"]["value"],
                                          name=d.get("name"),
                                          retention_days=d.get("retention_days")),
                           d.get("rules"))
                for d in docs]

    async def add(self, entries: Sequence[CatalogueEntry]) -> None:
        if not entries:
            return
        try:
            await self._catalogue.bulk_write([ReplaceOne(
                {"_id": {"kind": e.kind, "value": e.value}},
                _fields(e), upsert=True)
                for e in entries])
        except PyMongoError as exc:
            raise translate(exc) from exc

    async def remove(self, kind: str, value: str) -> bool:
        try:
            result = await self._catalogue.delete_one({"_id": {"kind": kind, "value": value}})
        except PyMongoError as exc:
            raise translate(exc) from exc
        return result.deleted_count == 1

    async def replace(self, entries: Sequence[CatalogueEntry]) -> None:
        # Not one transaction: a reader may briefly see an empty catalogue on a standalone
        # server; on a replica set the delete and the inserts commit together.
        client = self._catalogue.database.client
        try:
            async with client.start_session() as session:
                async def run(s: Any) -> None:
                    await self._catalogue.delete_many({}, session=s)
                    if entries:
                        await self._catalogue.insert_many([
                            {"_id": {"kind": e.kind, "value": e.value}, **_fields(e)}
                            for e in entries], session=s)

                hello = await client.admin.command("hello")
                if hello.get("setName") or hello.get("msg") == "isdbgrid":
                    await session.with_transaction(run)
                else:
                    await run(None)
        except PyMongoError as exc:
            raise translate(exc) from exc


def _fields(entry: CatalogueEntry) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": entry.name, "retention_days": entry.retention_days}
    rules = rules_json(entry)
    if rules:
        fields["rules"] = rules
    return fields
