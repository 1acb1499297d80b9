"""The console's pages: who may open which, the navigation a person's roles allow, and the
shell every page is rendered in (its scripts then call the JSON APIs with the session)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.people import Person, Role
from lrs.people.csrf import csrf_token
from lrs.people.web import dev_banner, person_of

HERE = Path(__file__).parent
STATIC = HERE / "static"

# The pages hold a CSRF token and personal data: never cached.
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def policy(settings: Settings) -> str:
    """Only the console's own scripts, styles and requests. Forms post only to this LRS (the
    sign-out form), and to the identity provider, where sign-out redirects for its own
    logout (browsers hold a form's redirects to form-action too)."""
    targets = "'self'"
    if settings.oidc_issuer:
        issuer = urlsplit(settings.oidc_issuer)
        targets += f" {issuer.scheme}://{issuer.netloc}"
    return ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            f"form-action {targets}; base-uri 'none'")


@dataclass(frozen=True)
class Page:
    """One console page: where it is, who may open it, what it is called, its script."""

    path: str
    template: str
    title: str
    role: Role | None  # None: anyone signed in
    script: str | None = None
    label: str = ""  # in the navigation; the title when empty


PAGES = [
    Page("/console", "home.html", "Console", None, label="Home"),
    Page("/console/credentials", "credentials.html", "Credentials", Role.ADMIN,
         "credentials.js"),
    Page("/console/catalogue", "catalogue.html", "Mandatory activities", Role.ADMIN,
         "catalogue.js", "Catalogue"),
    Page("/console/settings", "settings.html", "Settings in effect", Role.ADMIN, "settings.js",
         "Settings"),
    Page("/console/audit", "audit.html", "Audit log", Role.ADMIN, "audit.js"),
    Page("/console/forwarding", "forwarding.html", "Forwarding", Role.ADMIN, "forwarding.js"),
    Page("/console/quarantine", "quarantine.html", "Quarantine", Role.ADMIN, "quarantine.js"),
    Page("/console/frameworks", "frameworks.html", "Frameworks of objectives", Role.ADMIN,
         "frameworks.js", "Frameworks"),
    Page("/console/compliance", "compliance.html", "Compliance report", Role.COMPLIANCE,
         "compliance.js", "Compliance"),
    Page("/console/me", "me.html", "My record", Role.LEARNER, "me.js"),
    Page("/console/space", "space.html", "My space", Role.LEARNER, "space.js"),
    Page("/console/history", "history.html", "My history", Role.LEARNER, "history.js"),
    Page("/console/my-credentials", "my-credentials.html", "My credentials", Role.LEARNER,
         "my-credentials.js"),
    Page("/console/objectives", "objectives.html", "My objectives", Role.LEARNER,
         "objectives.js"),
    Page("/console/shared", "shared.html", "Shared with me", Role.MANAGER, "shared.js"),
]
# The analyst's page is the dashboard (lrs/dashboard), which reads the session itself.
DASHBOARD = Page("/dashboard", "", "Dashboard", Role.ANALYST)

# What each role lets a person do, in the words of the home page.
ROLE_TEXT: dict[Role, str] = {
    Role.ADMIN: "Create, rotate and revoke the credentials platforms use; keep the list of "
                "mandatory activities; read the settings in effect and the audit log; "
                "list, download and replay quarantined statements.",
    Role.COMPLIANCE: "Report who completed a mandatory activity in a period, who did not and "
                     "who has no record; download the report and export the evidence.",
    Role.ANALYST: "Read the dashboard: which resources are used, counted without knowing who. "
                  "No name or identifier is ever shown.",
    Role.LEARNER: "See your own record: your completions and the statements kept about you, "
                  "download your portfolio, and read what the LRS keeps and for how long.",
    Role.MANAGER: "Assess the objectives of the people who shared their evidence with you: "
                  "met or not yet, with a comment. You see only what a learner granted you, "
                  "until it expires or they revoke it.",
}


@cache
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=HERE / "templates")


def navigation(person: Person, current: str) -> list[dict[str, Any]]:
    """The links the person's roles allow, in page order (the analyst's dashboard included)."""
    # The dashboard after the staff's pages, before the learner's own.
    learner = [p for p in PAGES if p.role is Role.LEARNER]
    pages = [*(p for p in PAGES if p not in learner), DASHBOARD, *learner]
    return [{"path": p.path, "label": p.label or p.title,
             "current": p.path == current}
            for p in pages if p.role is None or p.role in person.roles]


def _sign_in(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(here, safe='')}", status_code=303)


def _handler(page: Page) -> Callable[[Request], Awaitable[Response]]:
    async def render(request: Request) -> Response:
        person = await person_of(request)
        if person is None:
            return _sign_in(request)
        allowed = page.role is None or page.role in person.roles
        context = {
            "page": page, "person": person, "csrf": csrf_token(request),
            "nav": navigation(person, page.path), "roles": sorted(person.roles),
            "dev_banner": dev_banner(request),
            "role_text": ROLE_TEXT, "required": page.role, "forbidden": not allowed,
            "scopes": [s.value for s in Scope], "retentions": [r.value for r in Retention],
        }
        return _templates().TemplateResponse(
            request, page.template if allowed else "forbidden.html", context,
            status_code=200 if allowed else 403,
            headers={**HEADERS, "Content-Security-Policy": policy(request.app.state.settings)})

    render.__name__ = render.__qualname__ = f"console_{page.template.removesuffix('.html')}"
    render.__doc__ = f"The console page {page.path} ({page.role or 'anyone signed in'})."
    return render


routes: list[BaseRoute] = [
    *(Route(page.path, _handler(page), methods=["GET", "HEAD"]) for page in PAGES),
    Route("/console/", _handler(PAGES[0]), methods=["GET", "HEAD"]),
    Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"),
]
