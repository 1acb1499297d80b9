"""Metrics taken at the storage boundary and of the process: store operation latency,
attachment bytes, table sizes (read at scrape time, cached briefly) and event-loop lag.

The domain packages know nothing of Prometheus: their stores are wrapped here, once per app.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lrs.storage import Storage
from statements.errors import StoreUnavailable

if TYPE_CHECKING:
    from lrs.metrics import Metrics

T = TypeVar("T")
LAG_SAMPLE_SECONDS = 0.25
SIZES_MAX_AGE_SECONDS = 15.0


def timed_storage(storage: Storage, metrics: Metrics) -> Storage:
    """The same stores, each async operation timed (and its failures counted) in `metrics`."""
    def timed(store: T, name: str) -> T:
        # The proxy answers every attribute of the store it wraps: same protocol.
        return cast(T, _TimedStore(store, storage.engine, name, metrics))

    return dataclasses.replace(
        storage, statements=timed(storage.statements, "statements"),
        documents=timed(storage.documents, "documents"),
        activities=timed(storage.activities, "activities"), tally=timed(storage.tally, "tally"),
        catalogue=timed(storage.catalogue, "catalogue"),
        credentials=timed(storage.credentials, "credentials"),
        erasure=timed(storage.erasure, "erasure"),
        compliance=timed(storage.compliance, "compliance"),
        batches=timed(storage.batches, "batches"))


class _TimedStore:
    """A store whose coroutine methods observe their duration; everything else passes through.

    Wrapped methods are cached on the instance, so a call costs two clock reads and one
    histogram observation.
    """

    def __init__(self, store: Any, engine: str, name: str, metrics: Metrics) -> None:
        self._store = store
        self._engine = engine
        self._name = name
        self._metrics = metrics

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._store, attribute)
        if attribute.startswith("_") or not inspect.iscoroutinefunction(value):
            return value
        timed = self._time(attribute, value)
        setattr(self, attribute, timed)
        return timed

    def _time(self, operation: str, method: Callable[..., Awaitable[Any]]
              ) -> Callable[..., Awaitable[Any]]:
        metrics, labels = self._metrics, (self._engine, self._name, operation)
        observe = metrics.store_latency.labels(*labels).observe
        attachments_in = _argument_reader(method, "attachments")
        serves_attachments = operation == "get_attachments"
        commits = operation == "commit"  # the plan written says which attachments it stored

        async def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await method(*args, **kwargs)
            except Exception as exc:
                metrics.store_failures.labels(*labels, type(exc).__name__).inc()
                raise
            finally:
                observe(time.perf_counter() - started)
            if attachments_in is not None:
                _count_bytes(metrics, "in", attachments_in(args, kwargs))
            elif serves_attachments:
                _count_bytes(metrics, "out", result)
            elif commits:
                _count_bytes(metrics, "in", result.attachments)
            return result

        return call


def _argument_reader(method: Callable[..., Any], name: str
                     ) -> Callable[[tuple[Any, ...], dict[str, Any]], Any] | None:
    """A function reading argument `name` of a call to `method`, or None if it has none."""
    parameters = list(inspect.signature(method).parameters)
    if name not in parameters:
        return None
    position = parameters.index(name)
    return lambda args, kwargs: kwargs.get(name, args[position] if len(args) > position else ())


def _count_bytes(metrics: Metrics, direction: str, attachments: Any) -> None:
    size = sum(len(attachment.data) for attachment in attachments or ())
    if size:
        metrics.attachment_bytes.labels(direction).inc(size)


class StoreSizes(Collector):
    """`lrs_store_rows{table}` and `lrs_store_up`, read from the store when scraped.

    Prometheus collects in the thread that renders the exposition (never the event loop's,
    see lrs.metrics); the count itself runs on the loop, at most once per `max_age` seconds.
    """

    def __init__(self, storage: Storage, loop: asyncio.AbstractEventLoop, *,
                 timeout: float, max_age: float = SIZES_MAX_AGE_SECONDS) -> None:
        self._storage = storage
        self._loop = loop
        self._timeout = timeout
        self._max_age = max_age
        self._sizes: dict[str, int] = {}
        self._up = 0.0
        self._read_at: float | None = None
        self._tasks = 0
        self._lock = asyncio.Lock()
        self._loop_thread = threading.get_ident()  # built in the lifespan, on the loop

    async def refresh(self) -> None:
        """Count again if the last count is older than `max_age` seconds."""
        self._tasks = len(asyncio.all_tasks())
        async with self._lock:
            now = time.monotonic()
            if self._read_at is not None and now - self._read_at < self._max_age:
                return
            try:
                self._sizes = await asyncio.wait_for(self._storage.table_sizes(), self._timeout)
                self._up = 1.0
            except (StoreUnavailable, TimeoutError):
                self._up = 0.0  # the last sizes read stay; `lrs_store_up` says they are old
            self._read_at = now

    def collect(self) -> Iterator[Metric]:
        # On the loop's own thread (never in the LRS) waiting would deadlock: use the cache.
        if threading.get_ident() != self._loop_thread and self._loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.refresh(), self._loop)
            try:
                future.result(self._timeout + 1)
            except TimeoutError:
                future.cancel()
        rows = GaugeMetricFamily(
            "lrs_store_rows", "Rows (documents) in the store's growing tables, read at most "
            f"every {self._max_age:g} s; estimated from metadata on MongoDB.", labels=["table"])
        for table, count in self._sizes.items():
            rows.add_metric([table], count)
        yield rows
        yield GaugeMetricFamily("lrs_store_up", "1 when the store answered the last size "
                                "query (see lrs_store_rows), else 0.", value=self._up)
        yield GaugeMetricFamily("lrs_event_loop_tasks", "Tasks alive on the worker's event "
                                "loop (each request in flight is one or more).",
                                value=self._tasks)


async def watch_event_loop(observe: Callable[[float], None],
                           interval: float = LAG_SAMPLE_SECONDS) -> None:
    """Forever: sleep `interval`, observe how late the loop woke (blocking work shows here)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval)
        observe(max(0.0, loop.time() - started - interval))
