"""SignedInSessions over a real store, on a clock the test moves: expiry, touch at most once a
minute, a new session id at every sign-in, sign-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from lrs.people import Person, Role
from lrs.people.signed_in import SESSION_ID, SignedInSessions
from lrs.storage import Storage

ADA = Person(issuer="https://idp.test", subject="ada", name="Ada",
             roles=frozenset({Role.LEARNER}))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def browser(session: dict[str, object] | None = None) -> Request:
    """A request as Starlette's SessionMiddleware hands it on: with its session dict."""
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [],
                    "session": {} if session is None else session})


def sessions_on(storage: Storage, clock: Clock) -> SignedInSessions:
    return SignedInSessions(storage.sessions, idle_seconds=30 * 60,
                            lifetime_seconds=12 * 3600, clock=clock)


async def test_signed_in_until_idle_for_the_idle_timeout(storage: Storage) -> None:
    clock = Clock()
    sessions = sessions_on(storage, clock)
    request = browser()
    await sessions.start(request, ADA, id_token="t")
    clock.advance(minutes=29)
    found = await sessions.current(browser(request.session))
    assert found is not None and found.person == ADA and found.id_token == "t"
    clock.advance(minutes=29)  # 29 minutes after the last use: still in
    assert await sessions.current(browser(request.session)) is not None
    clock.advance(minutes=30)
    later = browser(request.session)
    assert await sessions.current(later) is None
    assert SESSION_ID not in later.session  # the cookie is emptied too


async def test_signed_out_at_the_absolute_lifetime_however_busy(storage: Storage) -> None:
    clock = Clock()
    sessions = sessions_on(storage, clock)
    request = browser()
    await sessions.start(request, ADA)
    for _ in range(12 * 4 - 1):
        clock.advance(minutes=15)
        assert await sessions.current(browser(request.session)) is not None
    clock.advance(minutes=15)
    assert await sessions.current(browser(request.session)) is None


async def test_activity_is_written_at_most_once_a_minute(storage: Storage) -> None:
    clock = Clock()
    sessions = sessions_on(storage, clock)
    request = browser()
    await sessions.start(request, ADA)
    key = (await sessions.current(browser(request.session)))
    assert key is not None
    started = key.last_seen
    clock.advance(seconds=50)
    await sessions.current(browser(request.session))
    record = await storage.sessions.get(key.key)
    assert record is not None and record.last_seen == started  # not written yet
    clock.advance(seconds=20)
    await sessions.current(browser(request.session))
    record = await storage.sessions.get(key.key)
    assert record is not None and record.last_seen == clock.now


async def test_each_sign_in_gets_a_new_id_and_ends_the_old_one(storage: Storage) -> None:
    clock = Clock()
    sessions = sessions_on(storage, clock)
    request = browser({SESSION_ID: "planted-by-someone-else", "_state_oidc_x": {"data": 1}})
    await sessions.start(request, ADA)
    first = request.session[SESSION_ID]
    assert first != "planted-by-someone-else" and "_state_oidc_x" not in request.session
    await sessions.start(request, ADA)
    assert request.session[SESSION_ID] != first
    assert await sessions.current(browser({SESSION_ID: first})) is None


async def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(
        storage: Storage) -> None:
    sessions = sessions_on(storage, Clock())
    request = browser()
    await sessions.start(request, ADA, id_token="hint")
    copy = dict(request.session)
    ended = await sessions.end(request)
    assert ended is not None and ended.id_token == "hint" and request.session == {}
    assert await sessions.current(browser(copy)) is None
    assert await sessions.end(browser(copy)) is None


async def test_delete_expired_sweeps_only_the_expired(storage: Storage) -> None:
    clock = Clock()
    sessions = sessions_on(storage, clock)
    old, fresh = browser(), browser()
    await sessions.start(old, ADA)
    clock.advance(minutes=40)
    await sessions.start(fresh, ADA)
    assert await sessions.delete_expired() == 1
    assert await sessions.current(browser(fresh.session)) is not None
