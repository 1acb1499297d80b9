"""A learner's own space (docs/personal-space.md): the stored shapes, the store protocol and errors.

Everything a space holds is a `Blob` of ciphertext under a random space id; the keys that
open it are `KeyRecord`s in a keyring kept apart (on SQLite another database file), so a
copy of the main database without the keyring opens nothing and erasing a person's key
record makes every copy of their blobs unreadable (crypto-shredding).

The contract other packages build on: `SpaceStore` (both engines, `Storage.space`),
`lrs.space.crypto` (the ciphers) and `lrs.space.service.Spaces` (create, append, read,
seal, unlock, destroy).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from statements.errors import Conflict, Forbidden, NotFound, Problem, StoreUnavailable

__all__ = ["Blob", "KeyRecord", "Mode", "NoAgent", "SpaceChanged", "SpaceExists", "SpaceLocked",
           "SpaceNotFound", "SpaceStore", "Tampered", "WrongSecret"]


class Mode(StrEnum):
    """How a space's key is kept."""

    ENVELOPE = "envelope"  # a random data key wrapped by the server's key-encryption key
    SEALED = "sealed"  # an X25519 key pair; the private key wrapped by the learner's secrets


@dataclass(frozen=True)
class KeyRecord:
    """One space's entry in the keyring: who owns it and what opens it.

    `owner` is the canonical agent key of the learner (lrs.space.keys.owner_of), so erasure
    by agent finds it. An envelope space has `wrapped_data_key`; a sealed one has the public
    key and the private key wrapped twice (passphrase, recovery code). While an envelope
    space is being sealed it has both, until every blob is sealed (Spaces.seal).
    """

    owner: str
    space: str  # random: the only name the blobs carry
    mode: Mode
    created_ms: int
    kek_id: str | None = None  # which key-encryption key wrapped the data key
    wrapped_data_key: bytes | None = None
    public_key: bytes | None = None  # X25519, raw 32 bytes
    by_passphrase: bytes | None = None  # the private key, wrapped (lrs.space.crypto.wrap_secret)
    by_recovery: bytes | None = None


@dataclass(frozen=True)
class Blob:
    """One piece of a space, encrypted: an entry, a file, a batch of history. Its `kind` is
    bound into the ciphertext, so relabelling a blob makes it fail to open."""

    space: str
    id: str
    kind: str
    data: bytes


class SpaceStore(Protocol):
    """The keyring and the blobs of every space, on one engine."""

    async def create_key(self, record: KeyRecord) -> None:
        """Add a space's key record; SpaceExists when the owner has one already."""
        ...

    async def key_of(self, owner: str) -> KeyRecord | None:
        """The owner's key record, or None."""
        ...

    async def replace_key(self, record: KeyRecord) -> None:
        """Replace the key record of `record.owner` (same space id): SpaceNotFound when it
        has none, SpaceChanged when its public key is set and is another (a space's key
        pair, once made, is never replaced: two sealings at once cannot both win)."""
        ...

    async def put_blob(self, blob: Blob) -> None:
        """Write a blob, replacing the one with the same space and id."""
        ...

    async def blob(self, space: str, blob_id: str) -> Blob | None:
        """One blob, or None."""
        ...

    async def blobs(self, space: str, kind: str | None = None) -> list[Blob]:
        """Every blob of a space (of one kind), in no particular order."""
        ...

    async def count_blobs(self, space: str, kind: str | None = None) -> int:
        """How many blobs a space holds (of one kind), without reading them."""
        ...

    async def delete_blobs(self, space: str, ids: Collection[str] | None = None, *,
                           kind: str | None = None) -> int:
        """Delete the blobs named (or of `kind`, or all of the space); the number deleted."""
        ...

    async def destroy(self, owner: str) -> bool:
        """Crypto-shred the owner's space: the key record first (with it every copy of the
        blobs becomes unreadable), then the blobs. False when there was none."""
        ...

    async def close(self) -> None:
        """Close what the store opened of its own (the SQLite keyring file)."""
        ...


class SpaceNotFound(NotFound):
    """The learner has no space yet."""

    def __init__(self) -> None:
        super().__init__("you have no space yet: create it first (POST /api/v1/space)")


class SpaceExists(Conflict):
    """The learner has a space already."""

    def __init__(self) -> None:
        super().__init__("you have a space already")


class SpaceChanged(Conflict):
    """A change to a space that another request changed first."""

    def __init__(self) -> None:
        super().__init__("your space was changed by another request meanwhile: reload it",
                         (Problem("$", "changed meanwhile"),))


class SpaceLocked(Conflict):
    """A sealed space read without being unlocked in this session."""

    def __init__(self) -> None:
        super().__init__("your space is sealed and locked: unlock it with your passphrase "
                         "(POST /api/v1/space/unlock)")


class WrongSecret(Forbidden):
    """A passphrase or recovery code that does not open the space."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"that {what} does not unlock this space",
                         (Problem(path, f"not this space's {what}"),))


class NoAgent(Forbidden):
    """A signed-in person whose sign-in carries no xAPI agent: no space can be theirs."""

    def __init__(self) -> None:
        super().__init__("your sign-in carries no xAPI agent, so the LRS cannot tell which "
                         "space is yours (ask an administrator to map one: "
                         "LRS_OIDC_AGENT_MAPPING)")


class Tampered(StoreUnavailable):
    """A ciphertext failed authentication: changed at rest, or the wrong key (never a
    client's fault: the store answers 503 and the log says which)."""
