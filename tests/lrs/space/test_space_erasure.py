"""Erasure destroys a person's space (lrs.erasure.forget): the key record first, then the
blobs; afterwards nothing opens the space, not even a copy of the database taken before the
erasure, because the key was in the keyring, elsewhere, and is gone from every file."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lrs.config import Settings
from lrs.erasure import forget
from lrs.space import SpaceNotFound, Tampered, crypto
from lrs.space import entry_ops as ops
from lrs.space.entries import parse_entry
from lrs.space.keys import owner_key
from lrs.space.service import Spaces, open_spaces
from lrs.storage import Storage, open_storage
from statements.indexing import agent_key
from statements.stores.sqlite_db import backup
from tests.lrs.space.scan import files_holding

ALICE = {"objectType": "Agent", "name": "Alice", "mbox": "mailto:alice.space@example.org"}
CAROL = {"objectType": "Agent", "name": "Carol", "mbox": "mailto:carol.space@example.org"}
MARKER = "Marker-Pangolin-5521"
SHA1 = hashlib.sha1(b"mailto:alice.space@example.org", usedforsecurity=False).hexdigest()


async def fill(spaces: Spaces, agent: dict[str, object], sealed: bool) -> None:
    owner = owner_key(agent)
    await spaces.create(owner)
    entry = await ops.record(spaces, owner, agent, parse_entry(
        b'{"kind": "plan", "title": "' + MARKER.encode() + b'"}'),
        now=datetime.now(UTC), limit=10)
    key = await spaces.unlock(owner)
    await ops.attach(spaces, key, agent, entry.id, name="f.txt", media_type="text/plain",
                     data=MARKER.encode() * 3, now=entry.created, max_bytes=1000)
    if sealed:
        await spaces.seal(owner, "a long enough passphrase")


@pytest.mark.parametrize("sealed", [False, True], ids=["envelope", "sealed"])
async def test_forget_destroys_the_space_and_leaves_old_copies_unreadable(
        settings: Settings, storage: Storage, tmp_path: Path, sealed: bool) -> None:
    spaces = open_spaces(settings, storage.space, storage.engine)
    await fill(spaces, ALICE, sealed)
    await fill(spaces, CAROL, sealed)
    alice, carol = owner_key(ALICE), owner_key(CAROL)
    record = await storage.space.key_of(alice)
    assert record is not None
    secrets = [s for s in (record.wrapped_data_key, record.by_passphrase, record.by_recovery)
               if s]
    blobs = await storage.space.blobs(record.space)
    assert len(blobs) == 2
    copy = tmp_path / "copy-before"
    copy.mkdir()
    if storage.engine == "sqlite":  # the main database as a backup would take it
        backup(storage._resource.path, copy / "lrs.db")
        data = storage._resource.path.parent
        assert files_holding(data, secrets) and files_holding(data, [SHA1.encode()])

    dry = await forget(storage, agent_key(ALICE) or "", now_ms=1, operator="dpo", dry_run=True)
    assert dry.done["spaces_destroyed"] == 1 and await storage.space.key_of(alice) == record
    report = await forget(storage, agent_key(ALICE) or "", now_ms=2, operator="dpo")
    assert report.done["spaces_destroyed"] == 1

    assert await storage.space.key_of(alice) is None
    assert await storage.space.blobs(record.space) == []
    with pytest.raises(SpaceNotFound):
        await spaces.unlock(alice, "a long enough passphrase" if sealed else None)
    # Carol's space is untouched.
    carol_key = await spaces.unlock(carol, "a long enough passphrase" if sealed else None)
    assert [e.title for e in await ops.entries(spaces, carol_key)] == [MARKER]

    if storage.engine != "sqlite":
        return  # (MongoDB's storage engine reuses the space of deleted documents in its time)
    # The copy taken before still holds Alice's blobs...
    kept = open_spaces(settings, None, "sqlite")  # type: ignore[arg-type]
    shutil.copy(storage._resource.path.with_name("lrs.db.keyring"), copy / "lrs.db.keyring")
    restored = await open_storage(Settings(data_dir=copy, store=f"sqlite:///{copy / 'lrs.db'}"))
    try:
        old = await restored.space.blobs(record.space)
        assert sorted(b.data for b in old) == sorted(b.data for b in blobs)
        # ...but with today's keyring (and the same server key) nothing opens them,
        assert await restored.space.key_of(alice) is None
        with pytest.raises(SpaceNotFound):
            await Spaces(restored.space, lambda: (kept._kek, kept._kek_id)).unlock(alice)
    finally:
        await restored.close()
    # ...the key is in no file any more: not the keyring, its log, nor anywhere else,
    assert files_holding(data, secrets) == []
    assert files_holding(data, [SHA1.encode()]) == []  # nor whose space it was
    # ...and the server key alone opens nothing: a blob needs the data key or private key.
    with pytest.raises(Tampered):
        crypto.open_blob(blobs[0].data, space=record.space, blob_id=blobs[0].id,
                         kind=blobs[0].kind, data_key=kept._kek)
