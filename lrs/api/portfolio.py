"""A learner's portable portfolio (`/api/v1/portfolio`, scope `statements/read/mine`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from lrs.api.statements import learner_of
from lrs.auth import require
from lrs.credentials import Credential, Scope
from lrs.http import credential_of
from statements.errors import InvalidRequest, Problem
from statements.portfolio import html_page, json_array, learner_statements, portfolio_archive
from statements.store import StatementStore


async def portfolio(request: Request) -> Response:
    """The learner's kept statements: `?format=zip` (default: statements.json and
    portfolio.html in one archive), `json` or `html`. Tallied activity is not in it: the
    LRS never kept who it was."""
    credential = await credential_of(request)
    require(credential, Scope.STATEMENTS_READ_MINE)
    unknown = set(request.query_params) - {"format"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"unknown query parameter '{name}'",
                             (Problem(f"?{name}", "only format is allowed"),))
    fmt = request.query_params.get("format", "zip")
    learner = learner_of(credential)
    store: StatementStore = request.app.state.storage.statements
    title = f"Learning record of {_name(credential)}"
    if fmt == "json":
        return StreamingResponse(json_array(learner_statements(store, learner)),
                                 media_type="application/json")
    if fmt == "html":
        return StreamingResponse(html_page(title, learner_statements(store, learner)),
                                 media_type="text/html; charset=utf-8")
    if fmt != "zip":
        raise InvalidRequest("invalid query parameter 'format'",
                             (Problem("?format", "must be zip, json or html"),))
    return StreamingResponse(portfolio_archive(store, learner, title), media_type="application/zip",
                             headers={"Content-Disposition":
                                      'attachment; filename="portfolio.zip"'})


def _name(credential: Credential) -> str:
    name = credential.authority.get("name")
    return name if isinstance(name, str) else credential.name


routes = [Route("/portfolio", portfolio, methods=["GET"])]
