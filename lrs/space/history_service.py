"""My own history as the API, the CLI and erasure use it: start, stop, delete the copy, read it,
flush, and forget a person; over the history store and the learners' spaces (lrs.space)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from lrs.config import Settings
from lrs.space import Mode, SpaceStore
from lrs.space.history import KIND, HistoryStore, OptIn, agents_of, read_history, tag_of
from lrs.space.history_flush import FlushReport, flush_history
from lrs.space.service import SpaceKey, Spaces
from statements.erasure import canonical_key
from statements.errors import Conflict, Problem


class SpaceHistory:
    """SealedSpaces (lrs.space.history) over the Spaces service: the batches are blobs of kind
    `history`, one per day (its id says only the day, the same for every learner)."""

    def __init__(self, spaces: Spaces) -> None:
        self.spaces = spaces

    async def sealed_space(self, owner: str) -> tuple[str, bytes] | None:
        record = await self.spaces.record_of(owner)
        if record is None or record.mode is not Mode.SEALED or record.public_key is None:
            return None
        return record.space, record.public_key

    async def append_history(self, owner: str, day: int, body: bytes) -> None:
        # A fixed id per day: a flush run again after a failure replaces, never adds.
        await self.spaces.append(owner, KIND, body, blob_id=f"{KIND}-{day}")

    async def delete_history(self, owner: str) -> int:
        return await remove_batches(self.spaces.store, owner)


async def remove_batches(space_store: SpaceStore, owner: str) -> int:
    """Delete the history batches of the owner's space (no key needed); how many."""
    record = await space_store.key_of(owner)
    return await space_store.delete_blobs(record.space, kind=KIND) if record is not None else 0


class NotSealed(Conflict):
    """Keeping one's history needs a sealed space: the copies are sealed to its public key."""

    def __init__(self, has_space: bool) -> None:
        super().__init__(
            "keeping your own history needs a sealed space: " + (
                "seal yours first (POST /api/v1/space/seal)" if has_space
                else "create your space and seal it first (POST /api/v1/space)"),
            (Problem("$", "your space is not sealed"),))


@dataclass(frozen=True)
class HistoryStatus:
    """What the learner is told about their history."""

    keeping: bool
    since_ms: int | None
    sealed: bool
    batches: int  # daily batches in their space

    def describe(self) -> dict[str, Any]:
        """As the API shows it."""
        return {"keeping": self.keeping, "since_ms": self.since_ms, "sealed": self.sealed,
                "batches": self.batches}


async def status(store: HistoryStore, spaces: Spaces, owner: str) -> HistoryStatus:
    """Whether the owner keeps their history, since when, and how many batches they hold."""
    entry = await store.get(owner)
    record = await spaces.record_of(owner)
    batches = await spaces.store.count_blobs(record.space, KIND) if record is not None else 0
    return HistoryStatus(entry is not None, entry.since_ms if entry else None,
                         record is not None and record.mode is Mode.SEALED, batches)


async def start(store: HistoryStore, spaces: Spaces, owner: str, agent: dict[str, Any], *,
                now_ms: int) -> OptIn:
    """Opt in: from now on, tallied statements by or about `agent` are copied (sealed) for
    the owner. NotSealed when their space is missing or not sealed. Opting in again keeps
    the first date (and picks up a new public key)."""
    record = await spaces.record_of(owner)
    if record is None or record.mode is not Mode.SEALED or record.public_key is None:
        raise NotSealed(record is not None)
    earlier = await store.get(owner)
    entry = OptIn(owner, agents_of(agent), record.public_key, record.space,
                  earlier.since_ms if earlier is not None else now_ms)
    await store.opt_in(entry)
    return entry


async def stop(store: HistoryStore, space_store: SpaceStore, owner: str, *, delete_copy: bool
               ) -> dict[str, int]:
    """Opt out: no copy is made from now on and the copies waiting for the next batch are
    deleted; with `delete_copy`, the batches in the space too."""
    stopped = await store.opt_out(owner)
    done = {"stopped": int(stopped), "pending_deleted": await drop_pending(store, owner)}
    if delete_copy:
        done["batches_deleted"] = await remove_batches(space_store, owner)
    return done


async def drop_pending(store: HistoryStore, owner: str) -> int:
    """Delete the owner's copies still in the buffer: those under a tag their owner has for a
    day whose key still exists (after a day is flushed, nothing can find them, nor is left)."""
    rows = await store.pending()
    mine: list[str] = []
    for day in sorted({r.day for r in rows}):
        key = await store.day_key(day)
        if key is not None:
            tag = tag_of(key, owner)
            mine += [r.id for r in rows if r.day == day and r.tag == tag]
    return await store.delete_pending(mine)


async def read(spaces: Spaces, key: SpaceKey) -> list[dict[str, Any]]:
    """The statements of the owner's history, once each, oldest first (an unlocked key)."""
    if key.private_key is None:
        return []
    batches = [o.plaintext for o in await spaces.read(key, KIND)]
    return read_history(key.private_key, key.space, batches)


async def flush(store: HistoryStore, spaces: Spaces, settings: Settings, *, now_ms: int,
                through_today: bool = False) -> FlushReport:
    """The daily flush (lrs.space.history_flush) into the learners' spaces."""
    return await flush_history(store, SpaceHistory(spaces), now_ms=now_ms,
                               capacity=settings.history_batch_bytes,
                               grace_minutes=settings.history_flush_grace_minutes,
                               through_today=through_today)


async def forget(store: HistoryStore, space_store: SpaceStore, keys: Collection[str], *,
                 dry_run: bool = False) -> dict[str, int]:
    """Erase these agent keys' history (lrs.erasure.forget): each opt-in that names one of
    them stops, its copies waiting in the buffer are deleted, and the batches in their space
    (kept after stopping too) are deleted. `dry_run` counts the opt-ins and batches only."""
    wanted = set(keys)
    opted = {o.owner for o in await store.opted_in() if o.agents & wanted or o.owner in wanted}
    owners = sorted(opted | {canonical_key(k) for k in wanted})
    done = {"history_opt_ins": 0, "history_pending_deleted": 0, "history_batches_deleted": 0}
    for owner in owners:
        if dry_run:
            record = await space_store.key_of(owner)
            done["history_opt_ins"] += owner in opted
            done["history_batches_deleted"] += await space_store.count_blobs(
                record.space, KIND) if record is not None else 0
            continue
        result = await stop(store, space_store, owner, delete_copy=True)
        done["history_opt_ins"] += result["stopped"]
        done["history_pending_deleted"] += result["pending_deleted"]
        done["history_batches_deleted"] += result["batches_deleted"]
    return done
