"""My own history (`/api/v1/space/history`): a signed-in learner opts in to keep a sealed copy of
their own tallied statements, stops, deletes the copy, reads it once their space is unlocked;
and the admin's flush (`/api/v1/admin/space/history/flush`). docs/personal-space.md."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Scope
from lrs.forwarding.admin import parse
from lrs.http import credential_of, read_body
from lrs.people import Role
from lrs.people.web import session_of
from lrs.space import SpaceLocked
from lrs.space import history_service as history
from lrs.space.keys import owner_key
from statements.errors import Forbidden, InvalidRequest, Problem, Unauthorized

_NO_STORE = {"Cache-Control": "no-store"}
_LIMIT = 4096


class _Flush(BaseModel):
    """The body of the admin's flush (optional)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    through_today: bool = False


@dataclass(frozen=True)
class _Learner:
    owner: str
    agent: dict[str, Any]
    session: str


async def _learner(request: Request) -> _Learner:
    record = await session_of(request)
    if record is None:
        raise Unauthorized("sign in to keep your own history: /sign-in?next=/console/history")
    if Role.LEARNER not in record.person.roles:
        raise Forbidden("your own history is for learners: your sign-in does not give you "
                        "the learner role")
    owner = owner_key(record.person.agent)  # NoAgent (403) without one
    assert record.person.agent is not None
    return _Learner(owner, record.person.agent, record.key)


def _answer(content: Any, status: int = 200) -> Response:
    return JSONResponse(content, status_code=status, headers=_NO_STORE)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat(
        timespec="seconds").replace("+00:00", "Z")


async def _status(request: Request, me: _Learner) -> dict[str, Any]:
    state = request.app.state
    found = await history.status(state.storage.history, state.spaces, me.owner)
    return {"keeping": found.keeping, "since": _iso(found.since_ms), "sealed": found.sealed,
            "unlocked": state.space_unlocked.get(me.session, me.owner) is not None,
            "batches": found.batches}


def _only(request: Request, allowed: set[str]) -> None:
    for name in request.query_params:
        if name not in allowed:
            raise InvalidRequest(f"unknown query parameter '{name}'", (Problem(
                f"?{name}", f"only {', '.join(sorted(allowed))} allowed" if allowed
                else "none allowed"),))


async def get_status(request: Request) -> Response:
    """GET: whether you keep your history, since when, and what your space holds of it."""
    me = await _learner(request)
    _only(request, set())
    return _answer(await _status(request, me))


async def opt_in(request: Request) -> Response:
    """POST: keep your history from now on (your space must be sealed: 409 otherwise)."""
    me = await _learner(request)
    _only(request, set())
    state = request.app.state
    await history.start(state.storage.history, state.spaces, me.owner, me.agent,
                        now_ms=int(time.time() * 1000))
    _changed(request)
    return _answer(await _status(request, me))


async def opt_out(request: Request) -> Response:
    """DELETE [?copy=delete]: stop keeping it; what waits for the next batch is deleted, and
    the copy in your space too when asked."""
    me = await _learner(request)
    _only(request, {"copy"})
    choice = request.query_params.get("copy", "keep")
    if choice not in ("keep", "delete"):
        raise InvalidRequest("invalid query parameter 'copy'",
                             (Problem("?copy", "must be keep or delete"),))
    done = await history.stop(request.app.state.storage.history,
                              request.app.state.storage.space, me.owner,
                              delete_copy=choice == "delete")
    _changed(request)
    return _answer({**done, "status": await _status(request, me)})


async def delete_copy(request: Request) -> Response:
    """DELETE /copy: delete the copy in your space (keeping on, if it is on)."""
    me = await _learner(request)
    _only(request, set())
    deleted = await history.remove_batches(request.app.state.storage.space, me.owner)
    return _answer({"batches_deleted": deleted, "status": await _status(request, me)})


async def statements(request: Request) -> Response:
    """GET /statements: your copy, oldest first (your space unlocked in this session)."""
    me = await _learner(request)
    _only(request, set())
    state = request.app.state
    key = state.space_unlocked.get(me.session, me.owner)
    if key is None:
        raise SpaceLocked()
    return _answer({"statements": await history.read(state.spaces, key)})


async def flush(request: Request) -> Response:
    """POST /admin/space/history/flush: flush the closed days now (`through_today`: today
    too; what comes later today waits for tomorrow's batch). Scope `admin`."""
    credential = await credential_of(request)
    require(credential, Scope.ADMIN)
    _only(request, set())
    state = request.app.state
    body = await read_body(request, _LIMIT)
    sent = parse(_Flush, body or b"{}", "flush")
    report = await history.flush(state.storage.history, state.spaces, state.settings,
                                 now_ms=int(time.time() * 1000),
                                 through_today=sent.through_today)
    _changed(request)
    return _answer({"days": report.days, "batches": report.batches, "copies": report.copies,
                    "carried": report.carried, "discarded": report.discarded,
                    "stopped": report.stopped})


def _changed(request: Request) -> None:
    """This process's door reads the opt-ins again at once."""
    capture = request.app.state.ingest.history
    if capture is not None:
        capture.changed()


routes = [
    Route("/space/history", get_status, methods=["GET"]),
    Route("/space/history", opt_in, methods=["POST"]),
    Route("/space/history", opt_out, methods=["DELETE"]),
    Route("/space/history/copy", delete_copy, methods=["DELETE"]),
    Route("/space/history/statements", statements, methods=["GET"]),
    Route("/admin/space/history/flush", flush, methods=["POST"]),
]
