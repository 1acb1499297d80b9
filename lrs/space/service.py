"""The spaces of learners, as the rest of the LRS uses them: create, append (the server can
always write, a sealed space included), unlock and read, seal, recover, destroy.

Reading needs a `SpaceKey`: for an envelope space the server unwraps it on request; for a
sealed one only the learner's passphrase (or recovery code) does, and the key then lives
in this process's memory only (lrs.space.unlocked), never in a store.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from lrs.config import Settings
from lrs.space import (
    Blob,
    KeyRecord,
    Mode,
    SpaceLocked,
    SpaceNotFound,
    SpaceStore,
    Tampered,
    WrongSecret,
)
from lrs.space import crypto as c
from lrs.space.keys import key_encryption_key
from statements.errors import Conflict, InvalidRequest, Problem

log = logging.getLogger("lrs.space")


@dataclass(frozen=True)
class SpaceKey:
    """What opens one space's blobs; in memory only, for as long as a request (envelope) or an
    unlocked session (sealed) needs it."""

    owner: str
    space: str
    mode: Mode
    data_key: bytes | None = None
    private_key: X25519PrivateKey | None = None

    def __repr__(self) -> str:  # never a key in a log line or a traceback
        return f"SpaceKey(space={self.space!r}, mode={self.mode.value!r})"


@dataclass(frozen=True)
class Opened:
    """One blob's plaintext."""

    id: str
    kind: str
    plaintext: bytes


def _now_ms() -> int:
    return int(time.time() * 1000)


class Spaces:
    """Every learner's space over one SpaceStore, with the server's key-encryption key."""

    def __init__(self, store: SpaceStore, kek: Callable[[], tuple[bytes, str]], *,
                 clock_ms: Callable[[], int] = _now_ms) -> None:
        """`kek` gives the key-encryption key and its id when first needed (so an LRS whose
        learners never use a space makes no key file)."""
        self.store = store
        self._kek_source = functools.cache(kek)
        self._clock_ms = clock_ms

    @property
    def _kek(self) -> bytes:
        return self._kek_source()[0]

    @property
    def _kek_id(self) -> str:
        return self._kek_source()[1]

    async def record_of(self, owner: str) -> KeyRecord | None:
        """The owner's key record (its mode, when it was made), or None: no space yet."""
        record = await self.store.key_of(owner)
        if record is not None and record.mode is Mode.SEALED and record.wrapped_data_key:
            record = await self._finish_sealing(record)
        return record

    async def create(self, owner: str) -> KeyRecord:
        """Make the owner's space, in envelope mode (SpaceExists when there is one)."""
        space = str(uuid.uuid4())
        record = KeyRecord(owner, space, Mode.ENVELOPE, self._clock_ms(), self._kek_id,
                           c.wrap_data_key(self._kek, c.new_data_key(), space))
        await self.store.create_key(record)
        return record

    async def append(self, owner: str, kind: str, plaintext: bytes, *,
                     blob_id: str | None = None) -> str:
        """Write one blob into the owner's space (a new one, or replacing `blob_id`) and
        return its id. Needs no unlocking: a sealed space is written to its public key,
        which the server holds; only reading needs the private key."""
        record = await self._record(owner)
        blob_id = blob_id or str(uuid.uuid4())
        await self.store.put_blob(Blob(record.space, blob_id, kind,
                                       self._encrypt(record, plaintext, blob_id, kind)))
        if record.mode is Mode.ENVELOPE:
            # Sealed meanwhile? Sealing reseals what it finds, but may have looked before
            # this blob was there, and then destroys the data key: seal it here too.
            now = await self.store.key_of(owner)
            if now is not None and now.space == record.space and now.mode is Mode.SEALED:
                await self.store.put_blob(Blob(record.space, blob_id, kind,
                                               self._encrypt(now, plaintext, blob_id, kind)))
        return blob_id

    async def unlock(self, owner: str, passphrase: str | None = None) -> SpaceKey:
        """The key of the owner's space: an envelope space's from the keyring; a sealed
        space's from its passphrase (SpaceLocked without one, WrongSecret for a wrong one)."""
        record = await self._record(owner)
        if record.mode is Mode.ENVELOPE:
            return SpaceKey(owner, record.space, record.mode, data_key=self._data_key(record))
        if passphrase is None:
            raise SpaceLocked()
        assert record.by_passphrase is not None
        raw = await self._unwrap(record.by_passphrase, passphrase, record.space,
                                 "$.passphrase", "passphrase")
        return SpaceKey(owner, record.space, record.mode, private_key=c.private_key(raw))

    async def read(self, key: SpaceKey, kind: str | None = None) -> list[Opened]:
        """Every blob of the space (of one kind), opened; Tampered if one fails to."""
        await self._current(key)
        return [self._open(key, blob) for blob in await self.store.blobs(key.space, kind)]

    async def read_one(self, key: SpaceKey, blob_id: str) -> Opened | None:
        """One blob opened, or None."""
        await self._current(key)
        blob = await self.store.blob(key.space, blob_id)
        return self._open(key, blob) if blob is not None else None

    async def remove(self, owner: str, ids: Collection[str] | None = None, *,
                     kind: str | None = None) -> int:
        """Delete blobs of the owner's space (those named, or of `kind`); no key needed."""
        record = await self._record(owner)
        return await self.store.delete_blobs(record.space, ids, kind=kind)

    async def seal(self, owner: str, passphrase: str) -> str:
        """Turn the owner's envelope space into a sealed one: a new X25519 key pair, its
        private key wrapped by `passphrase` and by a new recovery code, every blob sealed
        to the public key, the data key destroyed. Returns the recovery code (shown once:
        the LRS keeps only what it wraps)."""
        _check_passphrase(passphrase, "$.passphrase")
        record = await self._record(owner)
        if record.mode is Mode.SEALED:
            raise Conflict("your space is sealed already", (Problem("$", "already sealed"),))
        private, public = c.new_key_pair()
        code = c.new_recovery_code()
        by_passphrase, by_recovery = await self._wrap_both(private, passphrase, code,
                                                           record.space)
        sealing = replace(record, mode=Mode.SEALED, public_key=public,
                          by_passphrase=by_passphrase, by_recovery=by_recovery)
        await self.store.replace_key(sealing)  # appends from now on are sealed
        await self._finish_sealing(sealing)
        return code

    async def recover(self, owner: str, code: str, new_passphrase: str
                      ) -> tuple[SpaceKey, str]:
        """Open a sealed space with its recovery code and set `new_passphrase`. The code is
        spent: a new one is made and returned (shown once), with the key."""
        _check_passphrase(new_passphrase, "$.passphrase")
        record = await self._record(owner)
        if record.mode is not Mode.SEALED or record.by_recovery is None:
            raise Conflict("your space is not sealed: it needs no recovery",
                           (Problem("$", "not sealed"),))
        raw = await self._unwrap(record.by_recovery, c.normal_recovery_code(code),
                                 record.space, "$.recovery_code", "recovery code")
        private = c.private_key(raw)
        new_code = c.new_recovery_code()
        by_passphrase, by_recovery = await self._wrap_both(private, new_passphrase, new_code,
                                                           record.space)
        await self.store.replace_key(replace(record, by_passphrase=by_passphrase,
                                             by_recovery=by_recovery))
        return SpaceKey(owner, record.space, record.mode, private_key=private), new_code

    async def change_passphrase(self, owner: str, passphrase: str,
                                new_passphrase: str) -> SpaceKey:
        """Wrap a sealed space's private key under `new_passphrase` instead (the recovery
        code stays as it is); WrongSecret when `passphrase` is not the current one."""
        _check_passphrase(new_passphrase, "$.new_passphrase")
        record = await self._record(owner)
        if record.mode is not Mode.SEALED or record.by_passphrase is None:
            raise Conflict("your space is not sealed: it has no passphrase",
                           (Problem("$", "not sealed"),))
        raw = await self._unwrap(record.by_passphrase, passphrase, record.space,
                                 "$.passphrase", "passphrase")
        wrapped = await asyncio.to_thread(c.wrap_secret, raw, new_passphrase,
                                          f"space/{record.space}/private-key")
        await self.store.replace_key(replace(record, by_passphrase=wrapped))
        return SpaceKey(owner, record.space, record.mode, private_key=c.private_key(raw))

    async def destroy(self, owner: str) -> bool:
        """Crypto-shred the owner's space (SpaceStore.destroy); False when there was none."""
        return await self.store.destroy(owner)

    async def _record(self, owner: str) -> KeyRecord:
        record = await self.record_of(owner)
        if record is None:
            raise SpaceNotFound()
        return record

    async def _current(self, key: SpaceKey) -> None:
        # A key unlocked before the space was destroyed (an erasure) opens nothing after.
        record = await self.store.key_of(key.owner)
        if record is None or record.space != key.space:
            raise SpaceNotFound()

    def _data_key(self, record: KeyRecord) -> bytes:
        assert record.wrapped_data_key is not None
        return c.unwrap_data_key(self._kek, record.wrapped_data_key, record.space)

    def _encrypt(self, record: KeyRecord, plaintext: bytes, blob_id: str, kind: str) -> bytes:
        if record.mode is Mode.SEALED:
            assert record.public_key is not None
            return c.seal_blob(record.public_key, plaintext, space=record.space,
                               blob_id=blob_id, kind=kind)
        return c.encrypt_blob(self._data_key(record), plaintext, space=record.space,
                              blob_id=blob_id, kind=kind)

    @staticmethod
    def _open(key: SpaceKey, blob: Blob) -> Opened:
        try:
            plaintext = c.open_blob(blob.data, space=blob.space, blob_id=blob.id,
                                    kind=blob.kind, data_key=key.data_key,
                                    private_key=key.private_key)
        except Tampered as exc:  # the client sees a 503; the operator must see why
            log.error("a space blob does not open: %s", exc)
            raise
        return Opened(blob.id, blob.kind, plaintext)

    async def _finish_sealing(self, record: KeyRecord) -> KeyRecord:
        """Seal what is still under the data key, then drop the data key (idempotent: a
        sealing cut short finishes the next time the space is used)."""
        assert record.public_key is not None
        data_key = self._data_key(record)
        for blob in await self.store.blobs(record.space):
            if blob.data[:2] != b"E1":
                continue
            plaintext = c.open_blob(blob.data, space=blob.space, blob_id=blob.id,
                                    kind=blob.kind, data_key=data_key)
            await self.store.put_blob(replace(blob, data=c.seal_blob(
                record.public_key, plaintext, space=blob.space, blob_id=blob.id,
                kind=blob.kind)))
        # What a recovery may have changed meanwhile is kept: only the data key goes.
        current = await self.store.key_of(record.owner)
        if current is None or current.space != record.space:
            raise SpaceNotFound()
        sealed = replace(current, kek_id=None, wrapped_data_key=None)
        await self.store.replace_key(sealed)
        return sealed

    @staticmethod
    async def _wrap_both(private: X25519PrivateKey, passphrase: str, code: str,
                         space: str) -> tuple[bytes, bytes]:
        raw = c.private_bytes(private)
        context = f"space/{space}/private-key"
        return await asyncio.gather(  # scrypt off the event loop, the two at once
            asyncio.to_thread(c.wrap_secret, raw, passphrase, context),
            asyncio.to_thread(c.wrap_secret, raw, c.normal_recovery_code(code), context))

    @staticmethod
    async def _unwrap(wrapped: bytes, secret: str, space: str, path: str, what: str) -> bytes:
        try:
            return await asyncio.to_thread(c.unwrap_secret, wrapped, secret,
                                           f"space/{space}/private-key")
        except c.BadSecret:
            raise WrongSecret(path, what) from None


def _check_passphrase(passphrase: str, path: str) -> None:
    if len(passphrase) < c.MIN_PASSPHRASE:
        raise InvalidRequest(f"a passphrase needs at least {c.MIN_PASSPHRASE} characters",
                             (Problem(path, f"shorter than {c.MIN_PASSPHRASE} characters"),))


def open_spaces(settings: Settings, store: SpaceStore, engine: str) -> Spaces:
    """The spaces of the configured store, with the key-encryption key of the settings."""
    return Spaces(store, lambda: key_encryption_key(settings, engine))
