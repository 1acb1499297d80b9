"""What a learner does with the entries of their space: record, list, edit, delete, attach
and detach files. Every write goes through `Spaces.append`, so a sealed space is written to
its public key and stays unreadable to the server."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from lrs.space.entries import (
    ENTRY,
    FILE,
    Entry,
    EntryInput,
    FileInfo,
    build_entry,
    entry_bytes,
    entry_of,
    input_of,
    new_file,
)
from lrs.space.service import SpaceKey, Spaces
from statements.errors import Conflict, NotFound, Problem, TooLarge


class EntryNotFound(NotFound):
    """No such entry (or file) in the learner's space."""


async def record(spaces: Spaces, owner: str, agent: dict[str, Any], data: EntryInput, *,
                 now: datetime, limit: int) -> Entry:
    """Record a new entry (no unlocking needed: the server can write to a sealed space)."""
    record_ = await spaces.record_of(owner)
    if record_ is not None and await spaces.store.count_blobs(record_.space, ENTRY) >= limit:
        raise Conflict(f"your space holds {limit} entries, the most it may: delete some "
                       "first", (Problem("$", "too many entries"),))
    entry = build_entry(data, agent, entry_id=str(uuid.uuid4()), created=now, now=now, files=[])
    await spaces.append(owner, ENTRY, entry_bytes(entry), blob_id=entry.id)
    return entry


async def entries(spaces: Spaces, key: SpaceKey) -> list[Entry]:
    """Every entry, the latest first (by when it happened, then when recorded)."""
    found = [entry_of(o.plaintext) for o in await spaces.read(key, ENTRY)]
    return sorted(found, key=lambda e: (e.occurred or e.created.date(), e.created),
                  reverse=True)


async def entry(spaces: Spaces, key: SpaceKey, entry_id: str) -> Entry:
    """One entry; EntryNotFound when the space has none with that id."""
    opened = await spaces.read_one(key, entry_id)
    if opened is None or opened.kind != ENTRY:
        raise EntryNotFound(f"your space has no entry {entry_id}")
    return entry_of(opened.plaintext)


async def edit(spaces: Spaces, key: SpaceKey, agent: dict[str, Any], entry_id: str,
               data: EntryInput, *, now: datetime) -> Entry:
    """Replace what the learner wrote of an entry; its files stay."""
    old = await entry(spaces, key, entry_id)
    return await _write(spaces, key, agent, old, data, old.files, now)


async def delete(spaces: Spaces, key: SpaceKey, entry_id: str) -> None:
    """Delete an entry and its files."""
    old = await entry(spaces, key, entry_id)
    await spaces.remove(key.owner, [old.id])
    await spaces.remove(key.owner, [f.id for f in old.files], kind=FILE)


async def attach(spaces: Spaces, key: SpaceKey, agent: dict[str, Any], entry_id: str, *,
                 name: str, media_type: str, data: bytes, now: datetime,
                 max_bytes: int) -> Entry:
    """Attach a file (its bytes a blob of their own, encrypted like the entry)."""
    if len(data) > max_bytes:
        raise TooLarge(f"a file may hold at most {max_bytes} bytes",
                       (Problem("$", f"{len(data)} bytes"),))
    old = await entry(spaces, key, entry_id)
    if len(old.files) >= 20:
        raise Conflict("an entry holds at most 20 files", (Problem("$", "too many files"),))
    info = new_file(name, media_type, data)
    await spaces.append(key.owner, FILE, data, blob_id=info.id)  # the file, then the entry
    return await _write(spaces, key, agent, old, input_of(old), [*old.files, info], now)


async def detach(spaces: Spaces, key: SpaceKey, agent: dict[str, Any], entry_id: str,
                 file_id: str, *, now: datetime) -> Entry:
    """Remove one file from an entry."""
    old = await entry(spaces, key, entry_id)
    kept = [f for f in old.files if f.id != file_id]
    if len(kept) == len(old.files):
        raise EntryNotFound(f"entry {entry_id} has no file {file_id}")
    updated = await _write(spaces, key, agent, old, input_of(old), kept, now)
    await spaces.remove(key.owner, [file_id], kind=FILE)
    return updated


async def file(spaces: Spaces, key: SpaceKey, entry_id: str, file_id: str
               ) -> tuple[FileInfo, bytes]:
    """A file of an entry: its description and its bytes."""
    old = await entry(spaces, key, entry_id)
    info = next((f for f in old.files if f.id == file_id), None)
    opened = await spaces.read_one(key, file_id) if info is not None else None
    if info is None or opened is None or opened.kind != FILE:
        raise EntryNotFound(f"entry {entry_id} has no file {file_id}")
    return info, opened.plaintext


async def _write(spaces: Spaces, key: SpaceKey, agent: dict[str, Any], old: Entry,
                 data: EntryInput, files: list[FileInfo], now: datetime) -> Entry:
    updated = build_entry(data, agent, entry_id=old.id, created=old.created, now=now,
                          files=files)
    await spaces.append(key.owner, ENTRY, entry_bytes(updated), blob_id=old.id)
    return updated
