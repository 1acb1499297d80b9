"""The read-only page a secret share link opens (`/share/<token>`): server-rendered, no script,
never cached, never indexed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from lrs.sharing import Grant

HEADERS = {
    # Nothing but the console's stylesheet; no script at all, no framing, no referrer (the
    # token is in the address).
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                       autoescape=select_autoescape(default=True))


def share_page(grant: Grant | None, snapshot: dict[str, Any] | None, *, message: str = "",
               status: int = 200) -> HTMLResponse:
    """The evidence a link opens, or why it opens nothing (`message`, with `status`)."""
    html = _environment().get_template("share.html").render(
        grant=grant, snapshot=snapshot or {}, message=message)
    return HTMLResponse(html, status_code=status, headers=HEADERS)
