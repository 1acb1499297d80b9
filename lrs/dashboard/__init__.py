"""The dashboard page (`/dashboard`): static HTML, JavaScript and CSS that read the
aggregates API with the credential the user signs in with, and nothing else."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

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
    """The dashboard's one page; it signs in and fetches everything else itself."""
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                        headers=_HEADERS)


routes: list[BaseRoute] = [
    Route("/dashboard", page, methods=["GET", "HEAD"]),
    Route("/dashboard/", page, methods=["GET", "HEAD"]),
    Mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static"),
]
