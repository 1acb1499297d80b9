"""The delivery worker of one process: lease due outbox items, send them, retry or park them.

At least once: an item is removed only after its destination took it; a worker killed
mid-send leaves its lease to expire and another (or its restart) sends the item again, so a
receiver dedupes by statement id (xAPI's rule for the same id sent twice).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx2
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from lrs.config import Settings
from lrs.forwarding import Destination, DestinationStatus, Leased
from lrs.forwarding.send import DeliveryFailed, gather, send
from lrs.storage import Storage

log = logging.getLogger("lrs.forwarding")
_STATUS_SECONDS = 5.0
_STOP_SECONDS = 2.0


def backoff_ms(attempts: int, settings: Settings) -> int:
    """The delay before the next attempt, after `attempts` failed ones: doubled each time up
    to the maximum, then a random 50-100% of it (jitter, so retries do not come in step)."""
    ceiling = min(settings.forwarding_backoff_max_seconds,
                  settings.forwarding_backoff_seconds * 2 ** min(attempts, 30))
    return int(ceiling * random.uniform(0.5, 1.0) * 1000)


class DeliveryWorker:
    """Sends what the outbox holds, from this process, under a lease owned by `owner`."""

    def __init__(self, storage: Storage, settings: Settings, *,
                 registry: CollectorRegistry | None = None) -> None:
        self._storage = storage
        self._settings = settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._http = httpx2.AsyncClient(timeout=settings.forwarding_timeout_seconds)
        self._names: dict[str, str] = {}
        self.status: list[DestinationStatus] = []
        self._status_at = 0.0
        self._delivered: Counter | None = None
        self._failed: Counter | None = None
        self.stopping = asyncio.Event()
        if registry is not None:
            self._delivered = Counter("lrs_forwarding_delivered", "Outbox items delivered by "
                                      "this process, by destination.", ["destination"],
                                      registry=registry)
            self._failed = Counter("lrs_forwarding_failed", "Failed delivery attempts of "
                                   "this process, by destination.", ["destination"],
                                   registry=registry)
            registry.register(_Backlog(self))

    async def run(self) -> None:
        """Deliver until `stopping` is set; an idle round waits `forwarding_poll_seconds`."""
        while not self.stopping.is_set():
            try:
                busy = await self.round()
                await self._refresh_status()
            except Exception:  # the store is down, say: the next round tries again
                log.exception("forwarding round failed")
                busy = False
            if not busy:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(),
                                           self._settings.forwarding_poll_seconds)

    async def round(self) -> bool:
        """Lease one batch of due items and deliver it, per destination concurrently;
        whether there was anything to send."""
        settings = self._settings
        items = await self._storage.forwarding.lease(
            self.owner, now_ms=_now_ms(), lease_ms=int(settings.forwarding_lease_seconds * 1000),
            limit=settings.forwarding_batch_size)
        if not items:
            return False
        destinations = {d.id: d for d in await self._storage.forwarding.destinations()}
        self._names = {d.id: d.name for d in destinations.values()}
        by_destination: dict[str, list[Leased]] = {}
        for item in items:
            by_destination.setdefault(item.destination, []).append(item)
        await asyncio.gather(*(self._deliver(destinations.get(d), batch)
                               for d, batch in by_destination.items()))
        return True

    async def _deliver(self, destination: Destination | None, items: list[Leased]) -> None:
        store = self._storage.forwarding
        if destination is None:  # removed since: its items go with it
            return
        outgoing = await gather(items, self._storage.statements)
        if outgoing.gone:  # erased or purged since it was queued: nothing left to send
            await store.delivered(destination.id, [i.key for i in outgoing.gone], self.owner,
                                  now_ms=_now_ms())
        if not outgoing.items:
            return
        try:
            await send(self._http, destination, outgoing, self._storage.statements,
                       timeout=self._settings.forwarding_timeout_seconds)
        except DeliveryFailed as exc:
            now = _now_ms()
            await store.failed(destination.id, outgoing.items, self.owner, error=str(exc),
                               now_ms=now,
                               due_ms=[now + backoff_ms(i.attempts, self._settings)
                                       for i in outgoing.items],
                               max_attempts=self._settings.forwarding_max_attempts)
            if self._failed is not None:
                self._failed.labels(destination.name).inc()
            log.warning("forwarding to %s failed: %s", destination.name, exc)
            return
        await store.delivered(destination.id, [i.key for i in outgoing.items], self.owner,
                              now_ms=_now_ms())
        if self._delivered is not None:
            self._delivered.labels(destination.name).inc(len(outgoing.items))

    async def _refresh_status(self) -> None:
        if time.monotonic() - self._status_at >= _STATUS_SECONDS:
            self._status_at = time.monotonic()
            self.status = await self._storage.forwarding.status()
            self._names = {d.id: d.name for d in await self._storage.forwarding.destinations()}

    def name_of(self, destination_id: str) -> str:
        """A destination's name (for metric labels), its id when unknown."""
        return self._names.get(destination_id, destination_id)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()


class _Backlog:
    """Gauges of the outbox per destination, as the worker last read them."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self._worker = worker

    def collect(self) -> Iterator[Metric]:
        queued = GaugeMetricFamily("lrs_forwarding_queued", "Outbox items waiting, by "
                                   "destination.", labels=["destination"])
        dead = GaugeMetricFamily("lrs_forwarding_dead_letters", "Outbox items parked after "
                                 "too many failures, by destination.", labels=["destination"])
        oldest = GaugeMetricFamily("lrs_forwarding_oldest_age_seconds", "Age of the oldest "
                                   "item not delivered, by destination.", labels=["destination"])
        now = _now_ms()
        for status in self._worker.status:
            name = [self._worker.name_of(status.destination)]
            queued.add_metric(name, status.queued)
            dead.add_metric(name, status.dead)
            age = (now - status.oldest_ms) / 1000 if status.oldest_ms is not None else 0.0
            oldest.add_metric(name, max(age, 0.0))
        yield from (queued, dead, oldest)


def _now_ms() -> int:
    return int(time.time() * 1000)


@asynccontextmanager
async def delivering(settings: Settings, storage: Storage,
                     registry: CollectorRegistry | None = None) -> AsyncIterator[Any]:
    """Run this process's delivery worker while the app runs (unless switched off)."""
    if not settings.forwarding_enabled:
        yield None
        return
    worker = DeliveryWorker(storage, settings, registry=registry)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        # Let a store call in flight finish (a driver call cancelled midway leaves its
        # connection behind); a send that takes longer is cancelled, its lease expires and
        # the item is sent again (at least once).
        worker.stopping.set()
        done, _ = await asyncio.wait([task], timeout=_STOP_SECONDS)
        if not done:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await worker.close()


