"""The SpaceStore contract (lrs.space), written once and run over every reachable engine."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing

import pytest

from lrs.space import Blob, KeyRecord, Mode, SpaceChanged, SpaceExists, SpaceNotFound
from lrs.storage import Storage


def key_record(owner: str = "mbox_sha1sum:abc", **overrides: object) -> KeyRecord:
    fields: dict[str, object] = {
        "owner": owner, "space": str(uuid.uuid4()), "mode": Mode.ENVELOPE,
        "created_ms": 1_700_000_000_000, "kek_id": "k1", "wrapped_data_key": b"K1\x00wrapped"}
    fields.update(overrides)
    return KeyRecord(**fields)  # type: ignore[arg-type]


async def test_space_keys_create_then_read_round_trips(storage: Storage) -> None:
    record = key_record(public_key=b"\x01" * 32, by_passphrase=b"P1pass",
                        by_recovery=b"P1rec")
    await storage.space.create_key(record)
    assert await storage.space.key_of(record.owner) == record
    assert await storage.space.key_of("mbox_sha1sum:nobody") is None


async def test_space_keys_one_space_per_owner(storage: Storage) -> None:
    await storage.space.create_key(key_record())
    with pytest.raises(SpaceExists):
        await storage.space.create_key(key_record())


async def test_space_keys_replace_changes_mode_and_secrets(storage: Storage) -> None:
    record = key_record()
    await storage.space.create_key(record)
    sealed = KeyRecord(record.owner, record.space, Mode.SEALED, record.created_ms,
                       public_key=b"\x02" * 32, by_passphrase=b"P1x", by_recovery=b"P1y")
    await storage.space.replace_key(sealed)
    assert await storage.space.key_of(record.owner) == sealed


async def test_space_keys_replace_without_a_space_is_not_found(storage: Storage) -> None:
    with pytest.raises(SpaceNotFound):
        await storage.space.replace_key(key_record())
    record = key_record()
    await storage.space.create_key(record)
    with pytest.raises(SpaceNotFound):  # another space id under the same owner: refused
        await storage.space.replace_key(key_record(record.owner))


async def test_space_keys_a_public_key_once_set_is_never_replaced(storage: Storage) -> None:
    record = key_record()
    await storage.space.create_key(record)
    first = KeyRecord(record.owner, record.space, Mode.SEALED, record.created_ms,
                      public_key=b"\x01" * 32, by_passphrase=b"P1a", by_recovery=b"P1b")
    await storage.space.replace_key(first)
    with pytest.raises(SpaceChanged):  # a second sealing that lost the race
        await storage.space.replace_key(KeyRecord(
            record.owner, record.space, Mode.SEALED, record.created_ms,
            public_key=b"\x02" * 32, by_passphrase=b"P1c", by_recovery=b"P1d"))
    again = KeyRecord(record.owner, record.space, Mode.SEALED, record.created_ms,
                      public_key=b"\x01" * 32, by_passphrase=b"P1new", by_recovery=b"P1b")
    await storage.space.replace_key(again)  # the same key pair: a new passphrase
    assert await storage.space.key_of(record.owner) == again


async def test_space_blobs_put_get_replace_and_filter_by_kind(storage: Storage) -> None:
    space = str(uuid.uuid4())
    await storage.space.put_blob(Blob(space, "a", "entry", b"one"))
    await storage.space.put_blob(Blob(space, "b", "file", b"two"))
    await storage.space.put_blob(Blob(str(uuid.uuid4()), "a", "entry", b"other space"))
    await storage.space.put_blob(Blob(space, "a", "entry", b"one, edited"))
    assert await storage.space.blob(space, "a") == Blob(space, "a", "entry", b"one, edited")
    assert await storage.space.blob(space, "zzz") is None
    assert sorted(b.id for b in await storage.space.blobs(space)) == ["a", "b"]
    assert [b.data for b in await storage.space.blobs(space, "file")] == [b"two"]


async def test_space_blobs_delete_by_id_kind_or_all(storage: Storage) -> None:
    space = str(uuid.uuid4())
    for blob_id, kind in (("e1", "entry"), ("e2", "entry"), ("f1", "file"), ("h1", "history"),
                          ("h2", "history")):
        await storage.space.put_blob(Blob(space, blob_id, kind, blob_id.encode()))
    assert await storage.space.count_blobs(space) == 5
    assert await storage.space.count_blobs(space, "history") == 2
    assert await storage.space.count_blobs("another space") == 0
    assert await storage.space.delete_blobs(space, ["e1", "missing"]) == 1
    assert await storage.space.delete_blobs(space, ["e2"], kind="file") == 0
    assert await storage.space.delete_blobs(space, kind="history") == 2
    assert sorted(b.id for b in await storage.space.blobs(space)) == ["e2", "f1"]
    assert await storage.space.delete_blobs(space) == 2
    assert await storage.space.blobs(space) == []


async def test_space_destroy_removes_the_key_then_the_blobs(storage: Storage) -> None:
    record, other = key_record("account:a|1"), key_record("account:b|2")
    for r in (record, other):
        await storage.space.create_key(r)
        await storage.space.put_blob(Blob(r.space, "e", "entry", b"x"))
    assert await storage.space.destroy(record.owner) is True
    assert await storage.space.key_of(record.owner) is None
    assert await storage.space.blobs(record.space) == []
    assert await storage.space.destroy(record.owner) is False
    assert await storage.space.key_of(other.owner) == other  # nobody else's
    assert len(await storage.space.blobs(other.space)) == 1
    await storage.space.create_key(key_record(record.owner))  # a new space may be made


async def test_space_keyring_is_kept_apart_from_the_blobs(storage: Storage) -> None:
    record = key_record()
    await storage.space.create_key(record)
    await storage.space.put_blob(Blob(record.space, "e", "entry", b"x"))
    if storage.engine == "sqlite":
        main = storage._resource.path
        keyring = main.with_name(f"{main.name}.keyring")
        with closing(sqlite3.connect(main)) as conn:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
        with closing(sqlite3.connect(keyring)) as conn:
            owners = [row[0] for row in conn.execute("SELECT owner FROM space_keys")]
    else:
        db = storage._engine.kernel.db
        tables = set(await db.list_collection_names())
        keyring = storage._resource[f"{db.name}_keyring"]["space_keys"]
        owners = [d["_id"] async for d in keyring.find({})]
    assert "space_blobs" in tables and not {"space_keys", "keyring"} & tables
    assert owners == [record.owner]
