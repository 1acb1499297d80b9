"""The composition root: `create_app(settings)` builds the whole service."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pluggy
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount

from lrs import console, dashboard, health, metrics
from lrs.api import (
    about,
    activities,
    activity_profile,
    admin_credentials,
    admin_erasure,
    admin_forwarding,
    admin_quarantine,
    agent_profile,
    agents,
    aggregates,
    catalogue,
    compliance,
    coverage,
    history,
    hits,
    objectives,
    openapi,
    portfolio,
    privacy_report,
    retention,
    sharing,
    space,
    state,
    statements,
)
from lrs.api import vc as vc_api
from lrs.auth import Authenticator
from lrs.config import Settings
from lrs.consistency import StoredClock
from lrs.door import build_door
from lrs.erasure import scheduled_purge
from lrs.errors import handle_http_error, handle_store_unavailable, handle_xapi_error
from lrs.forwarding.worker import delivering
from lrs.ingest import build_ingest
from lrs.limits import RateLimiter
from lrs.metrics import Metrics
from lrs.middleware import XapiMiddleware
from lrs.people import web as people
from lrs.requestlog import REQUEST_ID_HEADER, RequestLogMiddleware
from lrs.space.history_flush import scheduled_flush
from lrs.space.history_service import SpaceHistory
from lrs.space.service import open_spaces
from lrs.space.unlocked import Unlocked
from lrs.storage import Storage, open_storage
from plugins.catalogue_store import CachedCatalogue
from plugins.manager import make_plugin_manager
from statements.errors import StoreUnavailable, XapiError


# CORS for browser content (checklist §6.7): preflights need no credentials or version.
def _cors(origins: list[str]) -> Middleware:
    return Middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["HEAD", "GET", "POST", "PUT", "DELETE"],
        allow_headers=["Content-Type", "Content-Length", "Authorization", "If-Match",
                       "If-None-Match", "X-Experience-API-Version", "Accept-Language"],
        expose_headers=["ETag", "Last-Modified", "Content-Type", "Content-Length",
                        "X-Experience-API-Version", "X-Experience-API-Consistent-Through",
                        "WWW-Authenticate", REQUEST_ID_HEADER],
    )


_GC_THRESHOLD = 50_000


def create_app(settings: Settings, *, storage: Storage | None = None,
               plugin_manager: pluggy.PluginManager | None = None) -> Starlette:
    """Build the LRS. The lifespan opens the configured store, unless the caller hands one
    in (tests do), and closes what it opened; plugins come from the `lrs` entry points
    unless a plugin manager is handed in."""
    clock = StoredClock()
    counters = Metrics(statements_route=f"{settings.base_path}/statements") \
        if settings.metrics_enabled else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = storage or await open_storage(settings)
        if counters is not None:  # the same stores, timed at their boundary
            opened = await counters.start(opened, settings)
        app.state.storage = opened
        app.state.authenticator = Authenticator(
            opened.credentials, cache_seconds=settings.credential_cache_seconds)
        cached = CachedCatalogue(opened.catalogue, settings.catalogue_refresh_seconds)
        await cached.refresh()
        app.state.catalogue = cached
        plugins = plugin_manager or make_plugin_manager()
        app.state.ingest = await build_ingest(
            opened, settings, catalogue=cached, clock=clock, plugins=plugins,
            count_decisions=counters.count_decisions if counters is not None else None,
            door=await build_door(
                settings, plugins,
                count=counters.count_finding if counters is not None else None,
                count_profile=counters.count_profile_outcome if counters is not None else None))
        app.state.beacon_limiter = RateLimiter(settings.beacon_hits_per_minute)
        app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute) \
            if settings.rate_limit_per_minute else None
        signed_in = people.open_people(settings, opened.sessions) \
            if settings.sign_in_enabled() else None
        app.state.people = signed_in
        app.state.spaces = open_spaces(settings, opened.space, opened.engine)  # lrs.space
        app.state.space_unlocked = Unlocked(settings.space_unlock_idle_seconds)
        app.state.sign_out_hooks = [app.state.space_unlocked.drop]  # sign-out locks spaces
        try:
            async with scheduled_purge(settings, opened, cached.current, clock.now_ms), \
                    people.sweeping(signed_in), \
                    scheduled_flush(settings, opened.history, SpaceHistory(app.state.spaces),
                                    clock.now_ms), \
                    delivering(settings, opened, counters.registry if counters is not None
                               else None) as worker:
                app.state.forwarding_worker = worker
                yield
        finally:
            if signed_in is not None:
                await signed_in.close()
            # Uvicorn runs the lifespan's shutdown only after the in-flight requests have
            # been answered (or its graceful timeout has passed), so nothing writes after this.
            if counters is not None:
                await counters.stop()
            if storage is None:
                await opened.close()

    routes: list[BaseRoute] = [
        Mount(settings.base_path, routes=[
            *statements.routes, *state.routes, *activity_profile.routes, *agent_profile.routes,
            *activities.routes, *agents.routes, *about.routes]),
        Mount("/api/v1", routes=[*aggregates.routes, *coverage.routes, *catalogue.routes,
                                 *hits.routes, *admin_erasure.routes, *admin_credentials.routes,
                                 *admin_forwarding.routes,
                                 *admin_quarantine.routes,
                                 *compliance.routes, *portfolio.routes, *retention.routes,
                                 *openapi.routes, *people.api_routes,
                                 *privacy_report.routes,
                                 *objectives.routes, *space.routes, *history.routes,
                                 *vc_api.routes, *sharing.routes]),
        *vc_api.well_known_routes,  # the issuer's DID document (lrs/vc, did:web)
        *(people.routes if settings.sign_in_enabled() else []),
        *dashboard.routes,
        *sharing.page_routes,  # /share/<token>: a secret share link's page
        *console.routes,
        *health.routes,
        # On the LRS's own port only behind a bearer token: the metrics name credentials.
        # Without LRS_METRICS_TOKEN or LRS_METRICS_PORT they are served nowhere.
        *(metrics.routes if counters is not None and settings.metrics_port is None
          and settings.metrics_token is not None else []),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestLogMiddleware, routes=routes, metrics=counters),
            _cors(settings.cors_origins),
            *people.middleware(settings),
            Middleware(XapiMiddleware, base_path=settings.base_path,
                       default_version=settings.default_xapi_version,
                       consistent_through=clock.consistent_through,
                       max_body_bytes=settings.max_body_bytes,
                       body_timeout_seconds=settings.body_timeout_seconds),
        ],
        exception_handlers={XapiError: handle_xapi_error, HTTPException: handle_http_error,
                            StoreUnavailable: handle_store_unavailable},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.metrics = counters
    return app


def create_app_from_environment() -> Starlette:
    """Factory for `uvicorn --factory` worker processes: settings from `LRS_*` variables."""
    app = create_app(Settings())
    tune_garbage_collector()
    return app


def tune_garbage_collector() -> None:
    """Set the served process's cyclic garbage collector for request-shaped work.

    A batch of statements allocates thousands of dicts and lists that reference counting
    frees on its own; with CPython's default threshold (700) the collector still runs several
    times per batch, each time walking every long-lived object (modules, pydantic schemas).
    Freezing what start-up built and collecting every 50,000 allocations instead took
    statement validation from 64 to 39 µs per statement (docs/benchmarks.md, "Profile").
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])
