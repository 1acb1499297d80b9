"""Attachment bytes on MongoDB: one copy per SHA-2, split into chunks under the 16 MB limit.

Attachments are written before the statements that refer to them: if the statements then
fail, what is left is unreferenced, content-addressed bytes, never a statement without its
attachment.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from bson import Binary
from pymongo.asynchronous.database import AsyncDatabase

from statements.attachments import RawAttachment

CHUNK = 8 * 1024 * 1024


async def put_attachments(db: AsyncDatabase[dict[str, Any]],
                          attachments: Sequence[RawAttachment]) -> None:
    """Store the attachments not stored yet (chunks first, then the entry naming them)."""
    if not attachments:
        return
    held = {doc["_id"] async for doc in db["attachments"].find(
        {"_id": {"$in": [a.sha2 for a in attachments]}}, {"_id": 1})}
    for attachment in attachments:
        if attachment.sha2 in held:
            continue
        pieces = [attachment.data[i:i + CHUNK]
                  for i in range(0, max(len(attachment.data), 1), CHUNK)]
        for number, piece in enumerate(pieces):
            await db["attachment_chunks"].replace_one(
                {"_id": f"{attachment.sha2}:{number}"},
                {"sha2": attachment.sha2, "n": number, "data": Binary(piece)}, upsert=True)
        await db["attachments"].replace_one(
            {"_id": attachment.sha2},
            {"content_type": attachment.content_type, "chunks": len(pieces)}, upsert=True)


async def get_attachments(db: AsyncDatabase[dict[str, Any]],
                          sha2s: Collection[str]) -> list[RawAttachment]:
    """The stored attachments among these hashes."""
    found = []
    async for entry in db["attachments"].find({"_id": {"$in": sorted(sha2s)}}):
        cursor = db["attachment_chunks"].find({"sha2": entry["_id"]}).sort("n", 1)
        data = b"".join([bytes(chunk["data"]) async for chunk in cursor])
        found.append(RawAttachment(entry["_id"], entry["content_type"], data))
    return found
