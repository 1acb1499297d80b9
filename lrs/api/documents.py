"""What the three document resources share (Communication §2.2, §3.1; LRS book 4.1.6)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import DocumentPuts, Scope
from lrs.http import credential_of, http_date, read_body, version_of
from statements.datatypes import from_ms
from statements.document_params import DocumentRequest, id_param, parse_document_params
from statements.documents import (
    DocumentKind,
    DocumentNotFound,
    Preconditions,
    delete_mutation,
    ids_body,
    make_document,
    post_mutation,
    put_mutation,
)
from statements.errors import InvalidRequest, Problem
from statements.versions import XapiVersion

_SCOPE = {DocumentKind.STATE: Scope.STATE, DocumentKind.ACTIVITY_PROFILE: Scope.PROFILE,
          DocumentKind.AGENT_PROFILE: Scope.PROFILE}


def _put_rules(kind: DocumentKind, version: XapiVersion,
               puts: DocumentPuts) -> dict[str, bool]:
    """What a PUT without If-Match/If-None-Match gets (docs/compatibility.md).

    Communication §3.1 (1.0.3), LRS requirements: a PUT without either header onto a
    document that exists MUST be a 409 (s4.b13-b15); nothing is said of one onto a document
    that does not exist. The client requirements (§3.1.s3) say a client MUST send one of
    the headers on the Agent and Activity Profile resources, and the 1.0.3 conformance suite
    answers such a PUT with 400 whether or not the document exists (XAPI-00273); State is
    exempt there, so a State PUT overwrites. 2.0 (L4.1.4, the same Communication §3.1 text)
    keeps the 409 rule and its conformance suite expects the 409 for State too (CTS
    issue #282). TinCanPython sends no header for a new profile, nor on save_state: its
    credential may be `lenient`, which keeps every MUST of the LRS requirements (the 409 onto
    an existing profile) and drops what only the suites ask: the 1.0.x 400 for a new profile
    and the 2.0 409 for a State PUT.
    """
    v1 = version is XapiVersion.V1
    profile = kind is not DocumentKind.STATE
    lenient = puts is DocumentPuts.LENIENT
    return {"conflict_without_precondition": profile or (not v1 and not lenient),
            "precondition_required": profile and v1 and not lenient}


def document_routes(path: str, kind: DocumentKind) -> list[Route]:
    """GET/HEAD, PUT, POST and DELETE on one document resource."""

    async def parse(request: Request, *, write: bool) -> DocumentRequest:
        credential = await credential_of(request)
        if write:
            require(credential, _SCOPE[kind])
            request.state.document_puts = credential.document_puts
        else:
            require(credential, _SCOPE[kind], Scope.ALL_READ)
        return parse_document_params(kind, list(request.query_params.multi_items()))

    def store(request: Request) -> Any:
        return request.app.state.storage.documents

    async def get(request: Request) -> Response:
        parsed = await parse(request, write=False)
        if parsed.document_id is None:
            ids, latest = await store(request).ids(parsed.scope, parsed.since_ms)
            body = ids_body(ids)
            headers = {"ETag": f'"{make_document(body, None, 0).etag}"'}
            if latest is not None:
                headers["Last-Modified"] = http_date(from_ms(latest))
            return Response(body, media_type="application/json", headers=headers)
        document = await store(request).get(parsed.scope, parsed.document_id)
        if document is None:
            raise DocumentNotFound(f"no document with {id_param(kind)} {parsed.document_id}")
        return Response(document.content, headers={
            "Content-Type": document.content_type, "ETag": f'"{document.etag}"',
            "Last-Modified": http_date(from_ms(document.updated_ms))})

    async def write(request: Request) -> Response:
        parsed = await parse(request, write=True)
        preconditions = Preconditions.from_headers(request.headers.get("if-match"),
                                                   request.headers.get("if-none-match"))
        if parsed.document_id is None:
            if request.method == "DELETE" and kind is DocumentKind.STATE:
                await store(request).delete_all(parsed.scope)  # Communication §2.3.s2
                return Response(status_code=204)
            raise InvalidRequest(f"{id_param(kind)} is required",
                                 (Problem(f"?{id_param(kind)}", "this parameter is required"),))
        if request.method == "DELETE":
            mutation = delete_mutation(preconditions)
        else:
            body = await read_body(request, request.app.state.settings.max_document_bytes)
            new = make_document(body, request.headers.get("content-type"),
                                request.app.state.clock.now_ms())
            if request.method == "POST":
                mutation = post_mutation(new, preconditions)
            else:
                mutation = put_mutation(new, preconditions, **_put_rules(
                    kind, version_of(request), request.state.document_puts))
        await store(request).mutate(parsed.scope, parsed.document_id, mutation)
        return Response(status_code=204)

    return [
        Route(path, get, methods=["GET", "HEAD"]),
        Route(path, write, methods=["PUT", "POST", "DELETE"]),
    ]
