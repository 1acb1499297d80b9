"""The Statements resource (Communication §2.1, LRS book 4.1.6.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Credential, Scope
from lrs.http import credential_of, http_date, json_bytes, read_body, version_of
from lrs.ingest import Ingest
from lrs.limits import statement_body_limit
from lrs.quarantine import keep_rejected
from statements.activities import activities_in
from statements.attachments import declared, render_multipart
from statements.datatypes import from_ms, is_uuid, parse_timestamp
from statements.errors import Forbidden, InvalidRequest, NotFound, Problem
from statements.formats import parse_accept_language, render
from statements.indexing import agent_key
from statements.portfolio import belongs_to
from statements.query import (
    Format,
    SingleLookup,
    StatementQuery,
    decode_more,
    encode_more,
    parse_query,
)

_READ = (Scope.STATEMENTS_READ, Scope.ALL_READ)


async def get_statements(request: Request) -> Response:
    """GET/HEAD: one statement by id, or a StatementResult page."""
    credential = await credential_of(request)
    require(credential, *_READ, Scope.STATEMENTS_READ_MINE)
    params = list(request.query_params.multi_items())
    if params and params[0][0] == "more" and len(params) != 1:
        raise InvalidRequest("more may not be combined with other parameters",
                             (Problem(f"?{params[1][0]}", "not allowed with more"),))
    max_limit = request.app.state.settings.max_page_size
    if params and params[0][0] == "more":
        query: SingleLookup | StatementQuery = decode_more(params[0][1], max_limit=max_limit)
    else:
        query = parse_query(params, max_limit=max_limit)
    if isinstance(query, SingleLookup):
        return await _one(request, query, credential)
    if not credential.allows(*_READ):  # statements/read/mine: only the learner's statements
        query = replace(query, mine=learner_of(credential))
    return await _page(request, query)


async def _one(request: Request, query: SingleLookup, credential: Credential) -> Response:
    """One statement by statementId or voidedStatementId (Communication §2.1.3)."""
    body = await request.app.state.storage.statements.get(query.statement_id,
                                                          voided=query.voided)
    if body is None or not _visible(body, credential):
        raise NotFound(f"no {'voided ' if query.voided else ''}statement with id "
                       f"{query.statement_id}")
    statement = orjson.loads(body)
    if query.format is not Format.EXACT:
        body = orjson.dumps((await _renderer(request, query.format, [statement]))(statement))
    last = parse_timestamp(statement["stored"])
    return await _respond(request, body, [statement] if query.attachments else [],
                          query.attachments, {"Last-Modified": http_date(last)})


async def _page(request: Request, query: StatementQuery) -> Response:
    """A StatementResult: one page, and the `more` link to the next (Data §2.5)."""
    page = await request.app.state.storage.statements.query(query)
    statements = page.statements
    if query.mine is not None:
        # The store found the learner as authority, actor or Agent object; keep the first
        # two. A page may then be shorter than the limit, with a `more` link (Data §2.5).
        learner = query.mine
        statements = [s for s in statements if belongs_to(orjson.loads(s), learner)]
    parsed = [orjson.loads(s) for s in statements] \
        if query.format is not Format.EXACT or query.attachments else []
    if query.format is not Format.EXACT:
        render_one = await _renderer(request, query.format, parsed)
        statements = [orjson.dumps(render_one(s)) for s in parsed]
    more = ""
    if page.after is not None:
        more = f"{request.app.state.settings.base_path}/statements?more=" \
               f"{encode_more(query, page.after)}"
    body = b'{"statements":[' + b",".join(statements) + b'],"more":' + orjson.dumps(more) + b"}"
    headers = {}
    if page.last_stored_ms is not None:  # LRS book 4.1.6.1: the latest `stored` returned
        headers["Last-Modified"] = http_date(from_ms(page.last_stored_ms))
    return await _respond(request, body, parsed, query.attachments, headers)


async def _renderer(request: Request, fmt: Format, statements: list[dict[str, Any]]
                    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Render in `fmt`; the canonical format needs the canonical definitions and languages."""
    languages = parse_accept_language(request.headers.get("accept-language"))
    definitions: dict[str, dict[str, Any]] = {}
    if fmt is Format.CANONICAL:
        ids = {a["id"] for s in statements for a in activities_in(s)}
        definitions = await request.app.state.storage.activities.definitions(ids)
    return lambda statement: render(statement, fmt, languages, definitions)


async def _respond(request: Request, body: bytes, statements: list[dict[str, Any]],
                   attachments: bool, headers: dict[str, str]) -> Response:
    if not attachments:
        return json_bytes(body, headers=headers)
    # Communication §2.1.3.s2.b6-b7: multipart/mixed, even with no attachment to send.
    wanted = {a["sha2"].lower() for _, a in declared(statements)}
    raw = await request.app.state.storage.statements.get_attachments(wanted) if wanted else []
    content, content_type = render_multipart(body, raw)
    return Response(content, headers={**headers, "Content-Type": content_type})


async def put_statement(request: Request) -> Response:
    """PUT ?statementId=…: store one statement under that id; 204."""
    credential = await _writer(request)
    names = [name for name, _ in request.query_params.multi_items()]
    unknown = [name for name in names if name != "statementId"]
    if unknown:
        raise InvalidRequest(f"unknown query parameter '{unknown[0]}'",
                             (Problem(f"?{unknown[0]}", "not a parameter of PUT"),))
    statement_id = request.query_params.get("statementId")
    if statement_id is None or names.count("statementId") != 1:
        raise InvalidRequest("PUT needs exactly one statementId parameter",
                             (Problem("?statementId", "required"),))
    if not is_uuid(statement_id):
        raise InvalidRequest("statementId must be a UUID", (Problem("?statementId", "not a UUID"),))
    await _ingest(request, credential, statement_id.lower())
    return Response(status_code=204)


async def post_statements(request: Request) -> Response:
    """POST one statement or an array; 200 with the ids in the order sent."""
    credential = await _writer(request)
    if request.query_params:
        name = next(iter(request.query_params))
        raise InvalidRequest(f"unknown query parameter '{name}'",
                             (Problem(f"?{name}", "not a parameter of POST"),))
    ids = await _ingest(request, credential, None)
    return json_bytes(orjson.dumps(ids))


async def _writer(request: Request) -> Credential:
    credential = await credential_of(request)
    require(credential, Scope.STATEMENTS_WRITE)
    return credential


async def _ingest(request: Request, credential: Credential, statement_id: str | None) -> list[str]:
    state: Any = request.app.state
    content_type = request.headers.get("content-type", "")
    body = await read_body(request, statement_body_limit(state.settings, content_type))
    await state.catalogue.refresh()
    ingest: Ingest = state.ingest
    version = version_of(request)
    try:
        return await ingest(body, content_type=content_type, version=version,
                            credential=credential, statement_id=statement_id)
    except InvalidRequest as exc:
        # Kept, if the credential asks, as they came; the 400 is the same either way.
        await keep_rejected(state.storage, credential, body, content_type=content_type,
                            version=version, error=exc, statement_id=statement_id,
                            now_ms=state.clock.now_ms())
        raise


def _visible(body: bytes, credential: Credential) -> bool:
    if credential.allows(*_READ):
        return True
    return belongs_to(orjson.loads(body), learner_of(credential))


def learner_of(credential: Credential) -> str:
    """The agent key of the learner a statements/read/mine credential reads for: its
    authority Agent (`lrs credentials create --agent` sets it to the learner)."""
    learner = agent_key(credential.authority)
    if learner is None:  # never for credentials made by lrs; refuse rather than read all
        raise Forbidden(f"the credential '{credential.name}' has no identified authority")
    return learner


routes = [
    Route("/statements", get_statements, methods=["GET", "HEAD"]),
    Route("/statements", put_statement, methods=["PUT"]),
    Route("/statements", post_statements, methods=["POST"]),
]
