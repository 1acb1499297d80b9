"""A grant's snapshot sealed with a key of its own (AES-256-GCM, `cryptography`), that key
wrapped by the server's envelope key (the spaces'); destroying the wrapped key shreds the
snapshot."""

from __future__ import annotations

import os
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lrs.space import Tampered
from lrs.space.crypto import unwrap_data_key, wrap_data_key

_NONCE = 12  # bytes: AES-GCM's standard nonce, random per encryption (one per key here)


class KeyWrap(Protocol):
    """The server's envelope key: wraps and unwraps the data keys it protects."""

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        """`key` encrypted under the envelope key, bound to `context`."""
        ...

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """The key `wrap` was given; SnapshotUnreadable when it was not wrapped here or
        not for this `context`."""
        ...


class SnapshotUnreadable(Exception):
    """A sealed snapshot or wrapped key that does not decrypt (tampered, or another key)."""


class EnvelopeKeyWrap:
    """KeyWrap with the spaces' key-encryption key (lrs.space.crypto.wrap_data_key: AES-256-GCM,
    a nonce per wrap, bound to the grant), so one configured secret (LRS_SPACE_KEY) guards
    spaces and grants alike."""

    def __init__(self, kek: bytes) -> None:
        self._kek = kek

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        return wrap_data_key(self._kek, key, context.decode())

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        try:
            return unwrap_data_key(self._kek, wrapped, context.decode())
        except Tampered:
            raise SnapshotUnreadable("the grant key does not unwrap") from None


def _context(grant_id: str) -> bytes:
    # Binds key and snapshot to their grant: neither can be moved onto another grant.
    return f"tally-lrs grant {grant_id}".encode()


def seal(snapshot: dict[str, Any], grant_id: str, envelope: KeyWrap) -> tuple[bytes, bytes]:
    """(wrapped key, sealed snapshot): the snapshot as JSON under a fresh key of this grant
    alone, and that key wrapped by the envelope key."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    sealed = nonce + AESGCM(key).encrypt(nonce, orjson.dumps(snapshot), _context(grant_id))
    return envelope.wrap(key, context=_context(grant_id)), sealed


def unseal(wrapped_key: bytes, sealed: bytes, grant_id: str,
           envelope: KeyWrap) -> dict[str, Any]:
    """The snapshot `seal` sealed; SnapshotUnreadable when anything does not decrypt."""
    key = envelope.unwrap(wrapped_key, context=_context(grant_id))
    try:
        plain = AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], _context(grant_id))
    except (InvalidTag, ValueError):
        raise SnapshotUnreadable("the grant's snapshot does not decrypt") from None
    snapshot: dict[str, Any] = orjson.loads(plain)
    return snapshot
