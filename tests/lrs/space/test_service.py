"""The Spaces service (lrs.space.service) on every engine: create, append, read, seal,
unlock, recover, destroy; and the key-encryption key's file."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from lrs.config import Settings
from lrs.space import Blob, Mode, SpaceExists, SpaceLocked, SpaceNotFound, Tampered, WrongSecret
from lrs.space.keys import owner_key
from lrs.space.service import Spaces, open_spaces
from lrs.space.unlocked import Unlocked
from lrs.storage import Storage
from statements.errors import Conflict, InvalidRequest

OWNER = owner_key({"mbox": "mailto:Ada@Example.org"})
PASSPHRASE = "a long enough passphrase"


@pytest.fixture
def spaces(settings: Settings, storage: Storage) -> Spaces:
    return open_spaces(settings, storage.space, storage.engine)


def test_space_owner_key_is_the_canonical_agent_key() -> None:
    # An mbox and its SHA1 sum are one person (Data §2.4.2.3): one owner key.
    assert OWNER.startswith("mbox_sha1sum:")
    assert owner_key({"mbox": "mailto:Ada@EXAMPLE.org"}) == OWNER
    assert owner_key({"account": {"homePage": "https://idp", "name": "ada"}}) \
        == "account:https://idp|ada"


async def test_space_envelope_append_then_read(spaces: Spaces) -> None:
    with pytest.raises(SpaceNotFound):
        await spaces.append(OWNER, "entry", b"too early")
    record = await spaces.create(OWNER)
    assert record.mode is Mode.ENVELOPE
    with pytest.raises(SpaceExists):
        await spaces.create(OWNER)
    first = await spaces.append(OWNER, "entry", b"first")
    await spaces.append(OWNER, "file", b"\x00bytes")
    await spaces.append(OWNER, "entry", b"first, edited", blob_id=first)
    key = await spaces.unlock(OWNER)  # envelope: no passphrase
    assert sorted(o.plaintext for o in await spaces.read(key)) == [b"\x00bytes",
                                                                   b"first, edited"]
    assert [o.plaintext for o in await spaces.read(key, "file")] == [b"\x00bytes"]
    one = await spaces.read_one(key, first)
    assert one is not None and one.plaintext == b"first, edited"
    assert await spaces.remove(OWNER, [first]) == 1
    assert await spaces.read_one(key, first) is None


async def test_space_seal_reseals_every_blob_and_drops_the_data_key(spaces: Spaces) -> None:
    await spaces.create(OWNER)
    before = await spaces.append(OWNER, "entry", b"written before sealing")
    with pytest.raises(InvalidRequest, match="at least 10"):
        await spaces.seal(OWNER, "short")
    code = await spaces.seal(OWNER, PASSPHRASE)
    record = await spaces.record_of(OWNER)
    assert record is not None and record.mode is Mode.SEALED
    assert record.wrapped_data_key is None and record.kek_id is None
    assert all(b.data[:2] == b"S1" for b in await spaces.store.blobs(record.space))
    after = await spaces.append(OWNER, "history", b"appended while locked")
    with pytest.raises(SpaceLocked):
        await spaces.unlock(OWNER)
    with pytest.raises(WrongSecret) as wrong:
        await spaces.unlock(OWNER, "not the passphrase at all")
    assert wrong.value.problems[0].path == "$.passphrase"
    key = await spaces.unlock(OWNER, PASSPHRASE)
    assert {o.id: o.plaintext for o in await spaces.read(key)} == {
        before: b"written before sealing", after: b"appended while locked"}
    with pytest.raises(Conflict, match="sealed already"):
        await spaces.seal(OWNER, PASSPHRASE)
    assert PASSPHRASE not in repr(key) and "private" not in repr(key)
    assert len(code) == 39


async def test_space_two_sealings_at_once_one_wins_and_nothing_is_lost(spaces: Spaces) -> None:
    await spaces.create(OWNER)
    before = [await spaces.append(OWNER, "entry", f"entry {n}".encode()) for n in range(5)]
    results = await asyncio.gather(
        spaces.seal(OWNER, "first passphrase!"), spaces.seal(OWNER, "second passphrase"),
        *(spaces.append(OWNER, "entry", f"during {n}".encode()) for n in range(20)),
        return_exceptions=True)
    seals = results[:2]
    assert sum(isinstance(r, str) for r in seals) == 1, seals
    assert all(isinstance(r, Conflict) for r in seals if not isinstance(r, str))
    won = "first passphrase!" if isinstance(seals[0], str) else "second passphrase"
    key = await spaces.unlock(OWNER, won)
    opened = {o.id: o.plaintext for o in await spaces.read(key)}  # every blob opens
    assert len(opened) == 25 and all(opened[b].startswith(b"entry") for b in before)
    record = await spaces.record_of(OWNER)
    assert record is not None and record.wrapped_data_key is None


class HeldBack:
    """The engine's real store, holding back the write of one envelope blob until told: the
    interleaving of an append that read the space before it was sealed and writes after."""

    def __init__(self, store: Any, blob_id: str) -> None:
        self._store, self._blob_id = store, blob_id
        self.waiting, self.release = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def put_blob(self, blob: Blob) -> None:
        if blob.id == self._blob_id and blob.data[:2] == b"E1":
            self.waiting.set()
            await self.release.wait()
        await self._store.put_blob(blob)


async def test_space_append_that_read_the_space_before_sealing_is_sealed(
        spaces: Spaces) -> None:
    await spaces.create(OWNER)
    held = HeldBack(spaces.store, "late")
    slow = Spaces(held, spaces._kek_source)  # type: ignore[arg-type]
    append = asyncio.create_task(slow.append(OWNER, "entry", b"late words", blob_id="late"))
    await held.waiting.wait()
    await spaces.seal(OWNER, PASSPHRASE)  # done, data key destroyed, before the write lands
    held.release.set()
    await append
    key = await spaces.unlock(OWNER, PASSPHRASE)
    assert [o.plaintext for o in await spaces.read(key)] == [b"late words"]


async def test_space_recovery_code_sets_a_new_passphrase_once(spaces: Spaces) -> None:
    await spaces.create(OWNER)
    await spaces.append(OWNER, "entry", b"kept")
    code = await spaces.seal(OWNER, PASSPHRASE)
    with pytest.raises(WrongSecret) as wrong:
        await spaces.recover(OWNER, "AAAA-" * 7 + "AAAA", "a brand new passphrase")
    assert wrong.value.problems[0].path == "$.recovery_code"
    key, new_code = await spaces.recover(OWNER, code.lower(), "a brand new passphrase")
    assert [o.plaintext for o in await spaces.read(key)] == [b"kept"]
    assert new_code != code
    with pytest.raises(WrongSecret):  # spent
        await spaces.recover(OWNER, code, "yet another passphrase")
    with pytest.raises(WrongSecret):  # the old passphrase no longer opens it
        await spaces.unlock(OWNER, PASSPHRASE)
    await spaces.unlock(OWNER, "a brand new passphrase")
    await spaces.recover(OWNER, new_code, "the third passphrase")


async def test_space_passphrase_changes_and_the_recovery_code_stays(spaces: Spaces) -> None:
    await spaces.create(OWNER)
    await spaces.append(OWNER, "entry", b"kept")
    with pytest.raises(Conflict, match="not sealed"):
        await spaces.change_passphrase(OWNER, PASSPHRASE, "another passphrase")
    code = await spaces.seal(OWNER, PASSPHRASE)
    with pytest.raises(WrongSecret) as wrong:
        await spaces.change_passphrase(OWNER, "not the passphrase", "another passphrase")
    assert wrong.value.problems[0].path == "$.passphrase"
    with pytest.raises(InvalidRequest) as short:
        await spaces.change_passphrase(OWNER, PASSPHRASE, "short")
    assert short.value.problems[0].path == "$.new_passphrase"
    key = await spaces.change_passphrase(OWNER, PASSPHRASE, "another passphrase")
    assert [o.plaintext for o in await spaces.read(key)] == [b"kept"]
    with pytest.raises(WrongSecret):
        await spaces.unlock(OWNER, PASSPHRASE)
    await spaces.unlock(OWNER, "another passphrase")
    await spaces.recover(OWNER, code, "a third passphrase")  # the code still works


async def test_space_recover_an_envelope_space_is_a_conflict(spaces: Spaces) -> None:
    await spaces.create(OWNER)
    with pytest.raises(Conflict, match="not sealed"):
        await spaces.recover(OWNER, "AAAA", PASSPHRASE)


async def test_space_destroy_leaves_an_unlocked_key_opening_nothing(spaces: Spaces) -> None:
    await spaces.create(OWNER)
    await spaces.append(OWNER, "entry", b"gone soon")
    key = await spaces.unlock(OWNER)
    assert await spaces.destroy(OWNER) is True
    with pytest.raises(SpaceNotFound):
        await spaces.read(key)
    assert await spaces.destroy(OWNER) is False


async def test_space_another_kek_cannot_open_a_space(settings: Settings,
                                                     storage: Storage) -> None:
    first = open_spaces(settings.model_copy(update={"space_key": SecretStr("a" * 40)}),
                        storage.space, storage.engine)
    await first.create(OWNER)
    await first.append(OWNER, "entry", b"x")
    other = open_spaces(settings.model_copy(update={"space_key": SecretStr("b" * 40)}),
                        storage.space, storage.engine)
    with pytest.raises(Tampered, match="LRS_SPACE_KEY"):
        await other.unlock(OWNER)


def test_space_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = open_spaces(settings, None, "sqlite")  # type: ignore[arg-type]
    path = tmp_path / "data" / "space.key"
    assert not path.exists()  # made when first needed
    assert first._kek
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = open_spaces(settings, None, "sqlite")  # type: ignore[arg-type]
    assert first._kek == again._kek and first._kek_id == again._kek_id


def test_space_unlocked_keys_expire_when_idle_and_lock_per_session() -> None:
    now = [0.0]
    unlocked = Unlocked(60, clock=lambda: now[0])
    from lrs.space.service import SpaceKey

    key = SpaceKey(OWNER, "s", Mode.SEALED)
    unlocked.hold("session-1", key)
    now[0] = 59
    assert unlocked.get("session-1", OWNER) is key  # use counts as activity
    assert unlocked.get("session-1", "someone else") is None
    assert unlocked.get("session-2", OWNER) is None
    now[0] = 59 + 59
    assert unlocked.get("session-1", OWNER) is key
    now[0] += 60
    assert unlocked.get("session-1", OWNER) is None and len(unlocked) == 0
    unlocked.hold("a", key)
    unlocked.hold("b", key)
    assert unlocked.drop("a") and not unlocked.drop("a")
    assert unlocked.drop_owner(OWNER) == 1 and len(unlocked) == 0


def test_space_key_setting_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings(space_key=SecretStr("too short"))
