"""Health probes for orchestrators: `/health/live` and `/health/ready`, unauthenticated."""

from __future__ import annotations

import asyncio

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.http import json_bytes
from lrs.storage import Storage
from statements.errors import StoreUnavailable


async def live(request: Request) -> Response:
    """The process is up and its event loop answers."""
    return json_bytes(b'{"status":"ok"}')


async def ready(request: Request) -> Response:
    """The store answers within `LRS_READY_TIMEOUT_SECONDS` and still has the tables, indexes
    and schema versions it had once migrated at start-up; else 503 and why.

    The reason names the engine's failure, never a request's data (probes send none).
    """
    storage: Storage | None = getattr(request.app.state, "storage", None)
    if storage is None:
        return _unready("the store is not open")
    try:
        missing = await asyncio.wait_for(_check(storage),
                                         request.app.state.settings.ready_timeout_seconds)
    except StoreUnavailable as exc:
        return _unready(str(exc))
    except TimeoutError:
        return _unready(f"the {storage.engine} store did not answer in time")
    if missing:
        shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
        return _unready(f"the store has lost {shown} since start-up")
    return json_bytes(orjson.dumps({"status": "ok", "store": storage.engine}))


async def _check(storage: Storage) -> list[str]:
    """Ping the store, then list what its schema has lost since start-up."""
    await storage.ping()
    return await storage.missing_layout()


def _unready(reason: str) -> Response:
    return json_bytes(orjson.dumps({"status": "unavailable", "reason": reason}), status=503,
                      headers={"Cache-Control": "no-store"})


routes = [Route("/health/live", live, methods=["GET", "HEAD"]),
          Route("/health/ready", ready, methods=["GET", "HEAD"])]
