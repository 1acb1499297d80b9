"""The privacy report (`GET /api/v1/admin/privacy-report`, scope `admin`): the record of
processing and DPIA draft of this process's configuration, as JSON or Markdown
(docs/privacy.md)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Scope
from lrs.http import credential_of, json_bytes
from lrs.privacy.facts import gather
from lrs.privacy.markdown import render
from statements.errors import InvalidRequest, Problem

MARKDOWN = "text/markdown"
FORMATS = {"json": "application/json", "markdown": MARKDOWN}


def _quality(accept: str, media_type: str) -> float:
    """The q of the most specific media range in `accept` that matches `media_type`
    (RFC 9110 §12.5.1), 0 when none does."""
    kind = media_type.split("/")[0]
    best, specific = 0.0, -1
    for part in accept.split(","):
        rng, *params = (p.strip() for p in part.split(";"))
        rank = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(rng.lower())
        if rank is None or rank < specific:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best, specific = q, rank
    return best


def chosen_format(request: Request) -> str:
    """`?format=` if given, else Markdown when Accept prefers it to JSON, else JSON."""
    unknown = set(request.query_params) - {"format"}
    if unknown:
        raise InvalidRequest("the only parameter is format=json|markdown",
                             tuple(Problem(f"?{name}", "unknown parameter")
                                   for name in sorted(unknown)))
    given = request.query_params.get("format")
    if given is not None:
        if given not in FORMATS:
            raise InvalidRequest("format is json or markdown",
                                 (Problem("?format", f"{given!r} is not json or markdown"),))
        return given
    accept = request.headers.get("accept", "")
    if accept and _quality(accept, MARKDOWN) > _quality(accept, "application/json"):
        return "markdown"
    return "json"


async def privacy_report(request: Request) -> Response:
    """The report; the same facts in either format."""
    require(await credential_of(request), Scope.ADMIN)
    form = chosen_format(request)
    app = request.app.state
    facts = await gather(app.settings, app.storage, app.catalogue.current(),
                         app.ingest.plugins)
    headers = {"Vary": "Accept", "Cache-Control": "no-store"}
    if form == "json":
        return json_bytes(orjson.dumps(facts), headers=headers)
    return Response(render(facts), media_type=f"{MARKDOWN}; charset=utf-8", headers=headers)


routes = [Route("/admin/privacy-report", privacy_report, methods=["GET"])]
