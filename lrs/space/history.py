"""My own history (issue 21, item 2): the opt-in, the sealed copies and their padded daily batches.

A learner who opts in keeps a private copy of their own *tallied* statements in their sealed
space. At the door each copy is sealed to the space's X25519 public key and put in a
pending buffer whose rows name nobody: they are tagged with HMAC(day key, owner), and the
day key is forgotten when that day is flushed. Once a day every opted-in learner's copies
are moved into their space as one batch of a fixed size, padded (an empty one on a day
with nothing), so neither the time nor the size of an append says how much they did.
Nothing here touches the tally: the opt-in list lives in its own tables, apart from the
aggregation package's (docs/personal-space.md, "My own history").
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from lrs.space import Tampered
from lrs.space.crypto import open_blob, seal_blob
from statements.erasure import erasure_keys
from statements.indexing import actor_keys

DAY_MS = 86_400_000
KIND = "history"  # the space's blobs of this kind are the daily batches
COPY_KIND = "history-copy"  # bound into each sealed copy (lrs.space.crypto)
_LENGTH = struct.Struct(">I")
_COPY = b"H1"  # a sealed copy: this tag, its id (16 bytes), the space's sealed blob


@dataclass(frozen=True)
class OptIn:
    """One learner who keeps their own history: whom the copies are for, which agent keys
    (statements.indexing) are them, and the public key of their sealed space."""

    owner: str  # the sealed space's owner (lrs.space.keys.owner_key)
    agents: frozenset[str]
    public_key: bytes  # raw X25519 public key (32 bytes)
    space: str  # the space's id, bound into every copy
    since_ms: int


@dataclass(frozen=True)
class PendingCopy:
    """One sealed copy on its way to the buffer. `owner` and `statement_id` live only in
    memory, as the request's statements do: the commit writes a copy only for a statement it
    stores for the first time (never for a retry), and tags it, in its transaction, with
    the key of the first day not flushed yet (`tag_of`). The row holds the day, the tag and
    the sealed bytes."""

    owner: str
    sealed: bytes
    statement_id: str


@dataclass(frozen=True)
class PendingRow:
    """A buffer row as stored: an opaque id, its day, its tag, its sealed bytes."""

    id: str
    day: int
    tag: bytes
    sealed: bytes


class HistoryStore(Protocol):
    """The opt-ins, the per-day tag keys and the pending buffer (both engines). The buffer is
    written by the engines' commit (in the tally's transaction), read and emptied here."""

    async def opt_in(self, entry: OptIn) -> None:
        """Record (or replace) the owner's opt-in."""
        ...

    async def opt_out(self, owner: str) -> bool:
        """Remove the owner's opt-in; False if there was none."""
        ...

    async def get(self, owner: str) -> OptIn | None:
        """The owner's opt-in, if any."""
        ...

    async def opted_in(self) -> list[OptIn]:
        """Every opt-in, by owner."""
        ...

    async def day_key(self, day: int, *, create: bool = False) -> bytes | None:
        """The tag key of `day` (days since the epoch, UTC); made at random when `create`
        and none exists and the day is not flushed yet; None when there is none (forgotten)."""
        ...

    async def copy_key(self, today: int) -> tuple[int, bytes]:
        """The day and key new copies are tagged under: today's, or, when today was
        flushed early (`lrs space flush-history --through-today`), the first day not
        flushed yet; made at random on first use."""
        ...

    async def pending(self, day: int | None = None) -> list[PendingRow]:
        """The buffer's rows (of one day, or all), oldest day first."""
        ...

    async def move(self, rows: Sequence[str], day: int, tags: Sequence[bytes]) -> None:
        """Carry rows over to `day` under new tags (a batch that was full)."""
        ...

    async def delete_pending(self, row_ids: Sequence[str]) -> int:
        """Delete these buffer rows; how many there were."""
        ...

    async def close_day(self, day: int) -> int:
        """Forget `day`'s tag key and delete the rows left under it (none can be linked to
        anyone any more); record the day as flushed. Returns the rows deleted."""
        ...

    async def flushed_through(self) -> int | None:
        """The last day flushed, None before the first flush."""
        ...

    async def lease_flush(self, *, now_ms: int, until_ms: int) -> bool:
        """Take the flush for this process until `until_ms`, unless another holds it."""
        ...

    async def end_lease(self) -> None:
        """Give the flush up (it is done)."""
        ...


class SealedSpaces(Protocol):
    """What history needs of the sealed personal space (lrs.space): which space is sealed
    to which key, and putting and deleting the batches kept in it."""

    async def sealed_space(self, owner: str) -> tuple[str, bytes] | None:
        """The id and X25519 public key of the owner's sealed space; None without one."""
        ...

    async def append_history(self, owner: str, day: int, body: bytes) -> None:
        """Put the history batch of `day` (its plaintext) in the owner's space, sealed
        there to the space's public key (replacing one put for that day before)."""
        ...

    async def delete_history(self, owner: str) -> int:
        """Delete every history batch of the owner's space; how many there were."""
        ...


def agents_of(agent: dict[str, Any]) -> frozenset[str]:
    """The agent keys that are this learner (an mbox and its mbox_sha1sum alike)."""
    return frozenset().union(*(erasure_keys(k) for k in actor_keys(agent)))


def owners_in(statement: dict[str, Any]) -> frozenset[str]:
    """The agent keys a statement is by or about: its actor (a group: its members), and its
    object when that is an Agent or a Group."""
    keys = set(actor_keys(statement["actor"]))
    obj = statement.get("object", {})
    if obj.get("objectType") in ("Agent", "Group"):
        keys.update(actor_keys(obj))
    return frozenset(keys)


def tag_of(day_key: bytes, owner: str) -> bytes:
    """A buffer row's tag: HMAC-SHA256 of the owner under the day's key."""
    return hmac.new(day_key, owner.encode(), hashlib.sha256).digest()


def seal_copy(public_key: bytes, space: str, statement: dict[str, Any]) -> bytes:
    """One statement sealed to the space's public key (HPKE, lrs.space.crypto, which pads its
    plaintext), bound to the space and to a random copy id carried in front of it."""
    copy_id = uuid.uuid4()
    return _COPY + copy_id.bytes + seal_blob(public_key, orjson.dumps(statement), space=space,
                                             blob_id=str(copy_id), kind=COPY_KIND)


def open_copy(private_key: X25519PrivateKey, space: str, sealed: bytes) -> dict[str, Any]:
    """The statement of a sealed copy (its space's private key only); Tampered otherwise."""
    if sealed[:2] != _COPY:
        raise Tampered(f"space {space}: a history copy of an unknown format")
    copy_id = str(uuid.UUID(bytes=sealed[2:18]))
    statement: dict[str, Any] = orjson.loads(open_blob(
        sealed[18:], space=space, blob_id=copy_id, kind=COPY_KIND, private_key=private_key))
    return statement


def fitting(copies: Sequence[bytes], capacity: int) -> int:
    """How many of `copies`, in order, fit in one batch of `capacity` bytes."""
    used = 2 * _LENGTH.size  # the day and the count
    for count, copy in enumerate(copies):
        used += _LENGTH.size + len(copy)
        if used > capacity:
            return count
    return len(copies)


def batch_body(day: int, copies: Sequence[bytes], capacity: int) -> bytes:
    """The day's sealed copies framed in exactly `capacity` bytes (zero padded): the
    plaintext of one history batch, which the space seals to its public key, so every batch
    of every learner has the same size whatever it holds. The copies must fit (`fitting`)."""
    parts = [_LENGTH.pack(day), _LENGTH.pack(len(copies))]
    for copy in copies:
        parts += [_LENGTH.pack(len(copy)), copy]
    body = b"".join(parts)
    if len(body) > capacity:
        raise ValueError(f"{len(copies)} copies take {len(body)} bytes, over {capacity}")
    return body + bytes(capacity - len(body))


def open_batch(body: bytes) -> tuple[int, list[bytes]]:
    """The day and the sealed copies of a batch's plaintext."""
    (day,) = _LENGTH.unpack_from(body)
    (count,) = _LENGTH.unpack_from(body, _LENGTH.size)
    offset, copies = 2 * _LENGTH.size, []
    for _ in range(count):
        (size,) = _LENGTH.unpack_from(body, offset)
        offset += _LENGTH.size
        copies.append(body[offset:offset + size])
        offset += size
    return day, copies


def read_history(private_key: X25519PrivateKey, space: str, batches: Iterable[bytes]
                 ) -> list[dict[str, Any]]:
    """Every statement of the batches (their plaintexts, opened by the space), each once (a
    flush interrupted and run again may have appended a day twice), in the order stored."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for body in batches:
        _, copies = open_batch(body)
        for copy in copies:
            statement = open_copy(private_key, space, copy)
            if statement.get("id") not in seen:
                seen.add(statement.get("id", ""))
                out.append(statement)
    out.sort(key=lambda s: (s.get("stored", ""), s.get("id", "")))
    return out
