"""The dashboard page (`/dashboard`): static HTML, JavaScript and CSS that read the
aggregates API with the credential the user signs in with, or the session of a person signed
in with the analyst role, and nothing else."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from lrs.people.web import person_of

STATIC = Path(__file__).parent / "static"

# The page runs only its own scripts, styles and requests, all to this LRS. (Styles set from
# script through element.style, as uPlot does, are not inline styles to CSP.)
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; "
                               "form-action 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


async def page(request: Request) -> Response:
    """The dashboard's one page; it signs in and fetches everything else itself. With a
    session the page is marked so, and its script asks /api/v1/me whose it is (without one
    it asks nothing: a credential user sees no failed request)."""
    if await person_of(request) is None:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                            headers=_HEADERS)
    html = (STATIC / "index.html").read_text().replace("<body>", "<body data-session>", 1)
    return HTMLResponse(html, headers={**_HEADERS, "Cache-Control": "no-store"})


routes: list[BaseRoute] = [
    Route("/dashboard", page, methods=["GET", "HEAD"]),
    Route("/dashboard/", page, methods=["GET", "HEAD"]),
    Mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static"),
]
