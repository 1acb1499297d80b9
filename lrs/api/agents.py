"""The Agents resource (Communication §2.4, LRS book 4.1.6.3): a Person for an Agent."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Scope
from lrs.http import credential_of, json_bytes
from statements.activities import agents_in, person_for
from statements.document_params import parse_agent_param
from statements.errors import InvalidRequest, Problem
from statements.query import StatementQuery

_SEEN = 50  # how many of the agent's latest kept statements its names are gathered from


async def get_person(request: Request) -> Response:
    """The Person combining what the kept statements say of this agent's identifier."""
    credential = await credential_of(request)
    require(credential, Scope.STATEMENTS_READ, Scope.ALL_READ)
    params = list(request.query_params.multi_items())
    if [name for name, _ in params] != ["agent"]:
        bad = next((n for n, _ in params if n != "agent"), "agent")
        raise InvalidRequest("the Agents resource takes exactly one agent parameter",
                             (Problem(f"?{bad}", "expected only ?agent"),))
    key = parse_agent_param(params[0][1])
    agent = orjson.loads(params[0][1])
    page = await request.app.state.storage.statements.query(StatementQuery(agent=key,
                                                                           limit=_SEEN))
    seen = [a for body in page.statements for a in agents_in(orjson.loads(body))]
    return json_bytes(orjson.dumps(person_for(agent, seen)))


routes = [Route("/agents", get_person, methods=["GET", "HEAD"])]
