"""My own history's daily flush: each closed day, one padded batch per opted-in learner into their
sealed space, then the day's buffer rows deleted and its tag key forgotten."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from lrs.background import every
from lrs.config import Settings
from lrs.space.history import (
    DAY_MS,
    HistoryStore,
    PendingRow,
    SealedSpaces,
    batch_body,
    fitting,
    tag_of,
)

log = logging.getLogger("lrs.space.history")
_LEASE_MS = 30 * 60_000


@dataclass
class FlushReport:
    """What one flush did: the days it closed, the batches appended (one per opted-in
    learner and day, whatever they did), the copies carried over to the next day's batch
    (a full one) and the rows deleted unread (of learners who stopped)."""

    days: list[int] = field(default_factory=list)
    batches: int = 0
    copies: int = 0
    carried: int = 0
    discarded: int = 0
    stopped: int = 0  # learners whose sealed space went away


def last_closed_day(now_ms: int, grace_minutes: int, *, through_today: bool = False) -> int:
    """The last day that may be flushed: the day before today, once `grace_minutes` of
    today have passed (statements on their way when the day ended are in by then); or
    today itself when `through_today` (copies made later today wait for tomorrow's batch)."""
    if through_today:
        return now_ms // DAY_MS
    return (now_ms - grace_minutes * 60_000) // DAY_MS - 1


async def flush_history(store: HistoryStore, spaces: SealedSpaces, *, now_ms: int,
                        capacity: int, grace_minutes: int, through_today: bool = False
                        ) -> FlushReport:
    """Flush every closed day not flushed yet, oldest first. Every batch is `capacity`
    bytes of plaintext (sealed by the space) and all are appended at `now_ms`: neither the
    size nor the time of an append depends on what the learner did. Run again after a
    failure part-way, it appends a day again (the reader keeps each statement once) and
    loses nothing: rows are deleted only once the day's batches are appended. A learner
    whose space is no longer the one they opted in with (deleted, or made anew) stops
    keeping their history: what waits was sealed for a key that is gone."""
    report = FlushReport()
    # One process at a time (a lease long enough for a large flush; another process that
    # finds it taken passes this round over).
    if not await store.lease_flush(now_ms=now_ms, until_ms=now_ms + _LEASE_MS):
        return report
    try:
        closed = last_closed_day(now_ms, grace_minutes, through_today=through_today)
        last = await store.flushed_through()
        if last is None:  # the first flush: from the oldest day anything waits for
            last = min([r.day for r in await store.pending()] + [closed]) - 1
        for day in range(last + 1, closed + 1):
            await _flush_day(store, spaces, day, now_ms, capacity, report)
    finally:
        await store.end_lease()
    return report


async def _flush_day(store: HistoryStore, spaces: SealedSpaces, day: int, now_ms: int,
                     capacity: int, report: FlushReport) -> None:
    key = await store.day_key(day)
    by_tag: dict[bytes, list[PendingRow]] = {}
    for row in await store.pending(day) if key is not None else []:
        by_tag.setdefault(row.tag, []).append(row)
    next_key: bytes | None = None
    flushed = 0  # rows of this day now in a batch (close_day deletes them with the rest)
    for entry in await store.opted_in():
        mine = by_tag.pop(tag_of(key, entry.owner), []) if key is not None else []
        if await spaces.sealed_space(entry.owner) != (entry.space, entry.public_key):
            await store.opt_out(entry.owner)
            report.stopped += 1
            continue
        fits = fitting([r.sealed for r in mine], capacity)
        await spaces.append_history(
            entry.owner, day, batch_body(day, [r.sealed for r in mine[:fits]], capacity))
        report.batches += 1
        report.copies += fits
        flushed += fits
        if carry := mine[fits:]:  # a full batch: the rest goes in the next day's
            next_key = next_key or await store.day_key(day + 1, create=True)
            if next_key is not None:
                await store.move([r.id for r in carry], day + 1,
                                 [tag_of(next_key, entry.owner)] * len(carry))
                report.carried += len(carry)
    # What is left is no opted-in learner's (they stopped): deleted with the day's key,
    # unread, as are the rows just put in batches.
    report.discarded += await store.close_day(day) - flushed
    report.days.append(day)


def scheduled_flush(settings: Settings, store: HistoryStore, spaces: SealedSpaces,
                    now_ms: Callable[[], int]) -> AbstractAsyncContextManager[None]:
    """Look every `history_flush_check_minutes` for a closed day to flush (off when 0).
    Every process may run it: a day is flushed by whichever takes the lease first, and
    one flushed already is passed over."""
    async def step() -> None:
        last = await store.flushed_through()
        if last is None or last < last_closed_day(now_ms(), settings.history_flush_grace_minutes):
            report = await flush_history(
                store, spaces, now_ms=now_ms(), capacity=settings.history_batch_bytes,
                grace_minutes=settings.history_flush_grace_minutes)
            log.info("history flush: %d days, %d batches", len(report.days), report.batches)

    return every(settings.history_flush_check_minutes, step, log=log, what="history flush")
