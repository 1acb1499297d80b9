"""The web edge of sign-in: the routes (/sign-in, its callback, dev sign-in, /sign-out,
/api/v1/me), `person_of(request)` for every page and handler, and the middleware a
signed-in browser needs (the session cookie, CSRF)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from lrs.config import Settings
from lrs.people import Person, Role
from lrs.people.bearer import BearerTokens
from lrs.people.claims import person_from_claims, safe_next
from lrs.people.csrf import SESSION_COOKIE, CsrfMiddleware, csrf_token
from lrs.people.oidc import IdentityProvider, SignInFailed
from lrs.people.pages import (
    DEV_BANNER,
    dev_sign_in_page,
    sign_in_failed_page,
    signed_out_page,
    style,
)
from lrs.people.sessions import SessionRecord, SessionStore
from lrs.people.signed_in import SignedInSessions
from statements.errors import StoreUnavailable

NEXT = "next"  # where the callback sends the browser, kept in the session cookie meanwhile

_SWEEP_SECONDS = 600.0


@dataclass
class People:
    """Sign-in for one app: on `app.state.people` while it runs."""

    settings: Settings
    sessions: SignedInSessions
    provider: IdentityProvider | None
    bearer: BearerTokens | None
    http: httpx2.AsyncClient

    async def close(self) -> None:
        """Close the connections to the identity provider."""
        await self.http.aclose()


def open_people(settings: Settings, store: SessionStore) -> People:
    """Sign-in over `store`, with the identity provider the settings name (if any)."""
    provider = IdentityProvider(settings) if settings.oidc_issuer is not None else None
    http = httpx2.AsyncClient(timeout=10.0)
    bearer = BearerTokens(issuer=provider.issuer, audience=settings.oidc_audience,
                          clients=settings.oidc_machine_clients, metadata=provider.metadata,
                          http=http) if provider is not None else None
    sessions = SignedInSessions(store, idle_seconds=settings.session_idle_seconds,
                                lifetime_seconds=settings.session_lifetime_seconds)
    return People(settings, sessions, provider, bearer, http)


@asynccontextmanager
async def sweeping(people: People | None) -> AsyncIterator[None]:
    """While the app runs, end expired sessions in the store now and then (each request
    checks its own session anyway: this only keeps the store small)."""
    if people is None:
        yield
        return

    async def sweep() -> None:
        while True:
            with contextlib.suppress(StoreUnavailable, RuntimeError):  # RuntimeError: closed
                await people.sessions.delete_expired()
            await asyncio.sleep(_SWEEP_SECONDS)

    task = asyncio.get_running_loop().create_task(sweep())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def middleware(settings: Settings) -> list[Middleware]:
    """The session cookie (HttpOnly, SameSite=Lax, Secure behind https) and CSRF checks,
    outermost first; none when sign-in is off."""
    if not settings.sign_in_enabled():
        return []
    # Dev mode alone may run without a configured secret: one per process (one worker).
    secret = (settings.session_secret.get_secret_value() if settings.session_secret
              else secrets.token_hex(32))
    secure = settings.public_url.lower().startswith("https:")
    return [Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                       max_age=settings.session_lifetime_seconds, same_site="lax",
                       https_only=secure),
            Middleware(CsrfMiddleware, secret=secret, secure=secure)]


async def session_of(request: Request) -> SessionRecord | None:
    """The request's live signed-in session, looked up once per request."""
    if "session" not in request.scope:
        return None
    people: People | None = getattr(request.app.state, "people", None)
    if people is None:
        return None
    if not hasattr(request.state, "signed_in"):
        request.state.signed_in = await people.sessions.current(request)
    record: SessionRecord | None = request.state.signed_in
    return record


async def person_of(request: Request) -> Person | None:
    """The person signed in on this browser, or None."""
    record = await session_of(request)
    return record.person if record is not None else None


def dev_banner(request: Request) -> str:
    """The DEV SIGN-IN banner (HTML) every page shows while dev sign-in is on, else ""."""
    settings: Settings = request.app.state.settings
    return DEV_BANNER if settings.dev_sign_in else ""


def _people(request: Request) -> People:
    people: People = request.app.state.people
    return people


def _url(request: Request, path: str) -> str:
    return _people(request).settings.public_url.rstrip("/") + path


async def sign_in(request: Request) -> Response:
    """GET /sign-in?next=/path: the dev form, or off to the identity provider."""
    people = _people(request)
    next_path = safe_next(request.query_params.get(NEXT))
    if await person_of(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    dev = people.settings.dev_sign_in
    if dev and request.query_params.get("with") != "idp":
        link = ("/sign-in?" + urlencode({"with": "idp", NEXT: next_path})
                if people.provider else None)
        return dev_sign_in_page(csrf=csrf_token(request), next_path=next_path, idp_link=link)
    if people.provider is None:
        return sign_in_failed_page("no identity provider is configured (LRS_OIDC_ISSUER)",
                                   status=404, dev=dev)
    request.session[NEXT] = next_path
    try:
        return await people.provider.redirect(request, _url(request, "/sign-in/callback"))
    except SignInFailed as exc:
        return sign_in_failed_page(str(exc), status=502, dev=dev)


async def callback(request: Request) -> Response:
    """GET /sign-in/callback: the provider sends the browser back here with a code."""
    people = _people(request)
    if people.provider is None:
        return sign_in_failed_page("no identity provider is configured", status=404,
                                   dev=people.settings.dev_sign_in)
    try:
        person, id_token = await people.provider.callback(request)
    except SignInFailed as exc:
        return sign_in_failed_page(str(exc), dev=people.settings.dev_sign_in)
    next_path = safe_next(request.session.get(NEXT))
    await people.sessions.start(request, person, id_token=id_token)
    return RedirectResponse(next_path, status_code=303)


async def dev_sign_in(request: Request) -> Response:
    """POST /sign-in/dev: sign in as whoever the form says, with the roles and groups it
    names (dev mode only)."""
    people = _people(request)
    if not people.settings.dev_sign_in:
        return sign_in_failed_page("dev sign-in is off (LRS_DEV_SIGN_IN)", status=404)
    form = await request.form()
    name, email = str(form.get("name", "")).strip(), str(form.get("email", "")).strip()
    wanted = [str(v) for v in form.getlist("role")]
    next_path = safe_next(str(form.get(NEXT, "")))
    errors = ([] if name else ["name: required"]) + \
        ([] if not email or ("@" in email and " " not in email) else
         ["email: not an email address"]) + \
        [f"role: unknown role {r!r}" for r in wanted if r not in set(Role)]
    if errors:
        return dev_sign_in_page(csrf=csrf_token(request), next_path=next_path, errors=errors,
                                status=400)
    settings = people.settings
    groups = [g.strip() for g in str(form.get("groups", "")).split(",") if g.strip()]
    claims: dict[str, Any] = {"sub": f"dev:{email or name}", "name": name,
                              settings.oidc_roles_claim: wanted}
    # One claim may carry both (the default: `groups`): role names are groups too, then.
    claims[settings.oidc_groups_claim] = [*claims.get(settings.oidc_groups_claim, []),
                                          *groups]
    if email:
        claims["email"] = claims[settings.oidc_agent_name_claim] = email
    dev_settings = settings.model_copy(update={"oidc_role_map": {r.value: r.value
                                                                for r in Role}})
    person = person_from_claims(_url(request, "/sign-in/dev"), claims, dev_settings)
    await people.sessions.start(request, person)
    return RedirectResponse(next_path, status_code=303)


async def sign_out(request: Request) -> Response:
    """POST /sign-out: end the session here, then at the identity provider if it can."""
    people = _people(request)
    record = await people.sessions.end(request)
    if record is not None:  # what else the session held goes with it (lrs.space.unlocked)
        for hook in getattr(request.app.state, "sign_out_hooks", ()):
            hook(record.key)
    after = _url(request, "/signed-out")
    if people.provider is not None and record is not None and record.id_token is not None:
        url = await people.provider.logout_url(record.id_token, after)
        if url is not None:
            return RedirectResponse(url, status_code=303)
    return RedirectResponse("/signed-out", status_code=303)


async def signed_out(request: Request) -> Response:
    """GET /signed-out: where the identity provider sends the browser after logout."""
    return signed_out_page(dev=_people(request).settings.dev_sign_in)


async def stylesheet(request: Request) -> Response:
    """GET /sign-in/style.css."""
    return style()


async def me(request: Request) -> Response:
    """GET /api/v1/me: who is signed in on this browser (401 when nobody is), and the CSRF
    token its scripts send in `x-csrftoken` (only this site can read it: no CORS credentials,
    a SameSite=Lax cookie)."""
    person = await person_of(request)
    if person is None:
        return JSONResponse({"error": {"status": 401, "message": "not signed in: sign in at "
                                       "/sign-in", "problems": []}}, status_code=401)
    return JSONResponse({"subject": person.subject, "name": person.name,
                         "roles": sorted(role.value for role in person.roles),
                         "agent": person.agent, "groups": sorted(person.groups),
                         "csrf_token": csrf_token(request)},
                        headers={"Cache-Control": "no-store"})


routes: list[BaseRoute] = [
    Route("/sign-in", sign_in, methods=["GET"]),
    Route("/sign-in/callback", callback, methods=["GET"]),
    Route("/sign-in/dev", dev_sign_in, methods=["POST"]),
    Route("/sign-in/style.css", stylesheet, methods=["GET"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/signed-out", signed_out, methods=["GET"]),
]

api_routes: list[BaseRoute] = [Route("/me", me, methods=["GET"])]
