"""A learner's own space (`/api/v1/space`): signed-in learners only, each their own space
(docs/personal-space.md). A sealed space's key, once unlocked, is held in this process's
memory for the session (lrs.space.unlocked) and never written anywhere."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lrs.config import Settings
from lrs.http import read_body
from lrs.people import Person, Role
from lrs.people.web import session_of
from lrs.space import Mode, SpaceExists, SpaceNotFound
from lrs.space import entry_ops as ops
from lrs.space.entries import ENTRY, Entry, file_name, media_type, parse_entry, utc_now
from lrs.space.keys import owner_key
from lrs.space.service import SpaceKey, Spaces
from lrs.space.unlocked import Unlocked
from statements.errors import (
    Forbidden,
    InvalidRequest,
    Problem,
    TooManyRequests,
    Unauthorized,
)
from statements.parsing import json_path

_JSON_LIMIT = 512 * 1024
_NO_STORE = {"Cache-Control": "no-store"}
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class _Passphrase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    passphrase: Secret


class _NewPassphrase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    passphrase: Secret
    new_passphrase: Secret


class _Recovery(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    recovery_code: Secret
    passphrase: Secret


@dataclass(frozen=True)
class _Learner:
    """The signed-in learner a request is from, and where their space is."""

    person: Person
    agent: dict[str, Any]
    owner: str
    session: str  # the session's store key: what an unlock is held under
    spaces: Spaces
    unlocked: Unlocked
    settings: Settings

    async def key(self) -> SpaceKey:
        """The key to read the space: unlocked in this session (sealed), or the server's."""
        record = await self.spaces.record_of(self.owner)
        if record is not None and record.mode is Mode.SEALED:
            held = self.unlocked.get(self.session, self.owner)
            if held is not None and held.space == record.space:
                return held
        return await self.spaces.unlock(self.owner)  # SpaceLocked for a sealed one


async def _learner(request: Request) -> _Learner:
    record = await session_of(request)
    if record is None:
        raise Unauthorized("sign in to use your space: /sign-in?next=/console/space")
    person = record.person
    if Role.LEARNER not in person.roles:
        raise Forbidden("a space is for learners: your sign-in does not give you the "
                        "learner role")
    owner = owner_key(person.agent)  # NoAgent (403) without one
    assert person.agent is not None
    state = request.app.state
    return _Learner(person, person.agent, owner, record.key, state.spaces,
                    state.space_unlocked, state.settings)


def _attempt(me: _Learner) -> None:
    """TooManyRequests past a few passphrase (or recovery code) tries a minute."""
    wait = me.unlocked.attempts.take(me.owner)
    if wait:
        raise TooManyRequests("too many passphrase attempts on your space: wait a minute",
                              retry_after=wait)


async def _json(request: Request, model: type[BaseModel]) -> Any:
    body = await read_body(request, _JSON_LIMIT)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidRequest("the request body is not valid", tuple(
            Problem(json_path(e["loc"]), e["msg"]) for e in exc.errors())) from None


def _answer(content: Any, status: int = 200) -> Response:
    return JSONResponse(content, status_code=status, headers=_NO_STORE)


def _entry(entry: Entry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


async def status(request: Request) -> Response:
    """GET /space: whether the learner has a space, its mode, whether it is unlocked here."""
    me = await _learner(request)
    record = await me.spaces.record_of(me.owner)
    if record is None:
        return _answer({"exists": False, "mode": None, "unlocked": False, "entries": 0})
    held = me.unlocked.get(me.session, me.owner)
    unlocked = record.mode is Mode.ENVELOPE or (held is not None and held.space == record.space)
    count = await me.spaces.store.count_blobs(record.space, ENTRY)
    return _answer({"exists": True, "mode": record.mode.value, "unlocked": unlocked,
                    "entries": count, "unlock_idle_seconds":
                    me.settings.space_unlock_idle_seconds,
                    "file_max_bytes": me.settings.space_file_max_bytes})


async def create(request: Request) -> Response:
    """POST /space: make the learner's space (envelope mode); 409 when there is one."""
    me = await _learner(request)
    record = await me.spaces.create(me.owner)
    return _answer({"exists": True, "mode": record.mode.value, "unlocked": True}, 201)


async def destroy(request: Request) -> Response:
    """DELETE /space: delete the space and its key (nothing of it can be read again)."""
    me = await _learner(request)
    me.unlocked.drop_owner(me.owner)
    if not await me.spaces.destroy(me.owner):
        raise SpaceNotFound()
    return Response(status_code=204)


async def seal(request: Request) -> Response:
    """POST /space/seal {"passphrase"}: turn on sealed mode; answers the recovery code, once.
    The space stays unlocked in this session."""
    me = await _learner(request)
    body: _Passphrase = await _json(request, _Passphrase)
    _attempt(me)
    code = await me.spaces.seal(me.owner, body.passphrase)
    me.unlocked.hold(me.session, await me.spaces.unlock(me.owner, body.passphrase))
    return _answer({"mode": "sealed", "unlocked": True, "recovery_code": code})


async def unlock(request: Request) -> Response:
    """POST /space/unlock {"passphrase"}: unlock a sealed space for this session."""
    me = await _learner(request)
    body: _Passphrase = await _json(request, _Passphrase)
    _attempt(me)
    key = await me.spaces.unlock(me.owner, body.passphrase)
    if key.mode is Mode.SEALED:
        me.unlocked.hold(me.session, key)
    return _answer({"unlocked": True,
                    "idle_seconds": me.settings.space_unlock_idle_seconds})


async def lock(request: Request) -> Response:
    """POST /space/lock: forget this session's unlocked key (signing out does too)."""
    me = await _learner(request)
    me.unlocked.drop(me.session)
    return Response(status_code=204)


async def recover(request: Request) -> Response:
    """POST /space/recover {"recovery_code", "passphrase"}: a new passphrase from the
    recovery code, which is spent; answers the new recovery code, once."""
    me = await _learner(request)
    body: _Recovery = await _json(request, _Recovery)
    _attempt(me)
    key, code = await me.spaces.recover(me.owner, body.recovery_code, body.passphrase)
    me.unlocked.hold(me.session, key)
    return _answer({"unlocked": True, "recovery_code": code})


async def change_passphrase(request: Request) -> Response:
    """POST /space/passphrase {"passphrase", "new_passphrase"}: another passphrase for a
    sealed space (the recovery code stays); the space stays unlocked in this session."""
    me = await _learner(request)
    body: _NewPassphrase = await _json(request, _NewPassphrase)
    _attempt(me)
    key = await me.spaces.change_passphrase(me.owner, body.passphrase, body.new_passphrase)
    me.unlocked.hold(me.session, key)
    return _answer({"unlocked": True})


async def list_entries(request: Request) -> Response:
    """GET /space/entries: every entry, the latest first."""
    me = await _learner(request)
    found = await ops.entries(me.spaces, await me.key())
    return _answer({"entries": [_entry(e) for e in found]})


async def add_entry(request: Request) -> Response:
    """POST /space/entries: record an entry (the space is made on the first one)."""
    me = await _learner(request)
    data = parse_entry(await read_body(request, _JSON_LIMIT))
    if await me.spaces.record_of(me.owner) is None:
        with contextlib.suppress(SpaceExists):  # made by a request running alongside
            await me.spaces.create(me.owner)
    entry = await ops.record(me.spaces, me.owner, me.agent, data, now=utc_now(),
                             limit=me.settings.space_entries_max)
    return _answer(_entry(entry), 201)


async def get_entry(request: Request) -> Response:
    """GET /space/entries/{id}."""
    me = await _learner(request)
    entry = await ops.entry(me.spaces, await me.key(), request.path_params["entry"])
    return _answer(_entry(entry))


async def put_entry(request: Request) -> Response:
    """PUT /space/entries/{id}: replace what was written (its files stay)."""
    me = await _learner(request)
    data = parse_entry(await read_body(request, _JSON_LIMIT))
    entry = await ops.edit(me.spaces, await me.key(), me.agent,
                           request.path_params["entry"], data, now=utc_now())
    return _answer(_entry(entry))


async def delete_entry(request: Request) -> Response:
    """DELETE /space/entries/{id}: the entry and its files."""
    me = await _learner(request)
    await ops.delete(me.spaces, await me.key(), request.path_params["entry"])
    return Response(status_code=204)


async def add_file(request: Request) -> Response:
    """POST /space/entries/{id}/files?name=…: attach the body as a file (its Content-Type)."""
    me = await _learner(request)
    name = file_name(request.query_params.get("name"))
    kind = media_type(request.headers.get("content-type"))
    key = await me.key()
    data = await read_body(request, me.settings.space_file_max_bytes)
    entry = await ops.attach(me.spaces, key, me.agent, request.path_params["entry"],
                             name=name, media_type=kind, data=data, now=utc_now(),
                             max_bytes=me.settings.space_file_max_bytes)
    return _answer(_entry(entry), 201)


async def get_file(request: Request) -> Response:
    """GET /space/entries/{id}/files/{file}: the file, as a download (never rendered here:
    what a learner uploads must not run as this site's page)."""
    me = await _learner(request)
    info, data = await ops.file(me.spaces, await me.key(), request.path_params["entry"],
                                request.path_params["file"])
    quoted = info.name.replace('"', "'")
    return Response(data, media_type=info.media_type, headers={
        **_NO_STORE, "Content-Disposition": f'attachment; filename="{quoted}"',
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


async def delete_file(request: Request) -> Response:
    """DELETE /space/entries/{id}/files/{file}: remove one file from an entry."""
    me = await _learner(request)
    entry = await ops.detach(me.spaces, await me.key(), me.agent,
                             request.path_params["entry"], request.path_params["file"],
                             now=utc_now())
    return _answer(_entry(entry))


routes = [
    Route("/space", status, methods=["GET"]),
    Route("/space", create, methods=["POST"]),
    Route("/space", destroy, methods=["DELETE"]),
    Route("/space/seal", seal, methods=["POST"]),
    Route("/space/unlock", unlock, methods=["POST"]),
    Route("/space/lock", lock, methods=["POST"]),
    Route("/space/recover", recover, methods=["POST"]),
    Route("/space/passphrase", change_passphrase, methods=["POST"]),
    Route("/space/entries", list_entries, methods=["GET"]),
    Route("/space/entries", add_entry, methods=["POST"]),
    Route("/space/entries/{entry}", get_entry, methods=["GET"]),
    Route("/space/entries/{entry}", put_entry, methods=["PUT"]),
    Route("/space/entries/{entry}", delete_entry, methods=["DELETE"]),
    Route("/space/entries/{entry}/files", add_file, methods=["POST"]),
    Route("/space/entries/{entry}/files/{file}", get_file, methods=["GET"]),
    Route("/space/entries/{entry}/files/{file}", delete_file, methods=["DELETE"]),
]
