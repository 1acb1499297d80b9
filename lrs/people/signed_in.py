"""The signed-in session of a browser: the cookie (Starlette's signed session) carries only a
random id; the record it names lives in the SessionStore, where sign-out and expiry end it
for every worker process."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from lrs.people import Person
from lrs.people.sessions import SessionRecord, SessionStore

SESSION_ID = "sid"  # the key of the random id inside Starlette's session cookie


def _key(session_id: str) -> str:
    # The store keeps a hash: a copy of the sessions table signs nobody in.
    return hashlib.sha256(session_id.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SignedInSessions:
    """Starts, finds and ends sessions, enforcing the idle and absolute expiry on every
    request and recording activity at most once a minute (less when the idle timeout is
    shorter, so activity still keeps a session alive)."""

    def __init__(self, store: SessionStore, *, idle_seconds: int, lifetime_seconds: int,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.store = store
        self.idle = timedelta(seconds=idle_seconds)
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self._touch_every = min(timedelta(minutes=1), self.idle / 4)
        self._clock = clock

    async def start(self, request: Request, person: Person, *,
                    id_token: str | None = None) -> None:
        """Sign `person` in on this browser: a new session id (never the one the browser
        came with, so no session fixation), and nothing else kept in the cookie."""
        await self.end(request)
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        await self.store.create(SessionRecord(key=_key(session_id), person=person,
                                              created=now, last_seen=now, id_token=id_token))
        request.session.clear()
        request.session[SESSION_ID] = session_id

    async def current(self, request: Request) -> SessionRecord | None:
        """The browser's live session, or None (and an expired one is ended)."""
        session_id = request.session.get(SESSION_ID)
        if not isinstance(session_id, str):
            return None
        key = _key(session_id)
        record = await self.store.get(key)
        now = self._clock()
        if record is None:
            request.session.pop(SESSION_ID, None)
            return None
        if now - record.created >= self.lifetime or now - record.last_seen >= self.idle:
            await self.store.delete(key)
            request.session.clear()
            return None
        if now - record.last_seen >= self._touch_every:
            await self.store.touch(key, now)
        return record

    async def end(self, request: Request) -> SessionRecord | None:
        """Sign the browser out: the record is deleted and the cookie emptied (Starlette then
        expires it). The ended record, for RP-initiated logout, or None."""
        session_id = request.session.get(SESSION_ID)
        record = None
        if isinstance(session_id, str):
            key = _key(session_id)
            record = await self.store.get(key)
            await self.store.delete(key)
        request.session.clear()
        return record

    async def delete_expired(self) -> int:
        """End every expired session in the store (a housekeeping sweep)."""
        now = self._clock()
        return await self.store.delete_expired(idle_before=now - self.idle,
                                               created_before=now - self.lifetime)
