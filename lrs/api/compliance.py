"""Compliance reports and evidence export (`/api/v1/compliance/…`, scope `compliance/read`)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from lrs.admin.audit import record_action
from lrs.auth import require
from lrs.credentials import Scope
from lrs.http import credential_of, read_body
from lrs.reports import report_parts, report_rows
from statements.completion import Period
from statements.compliance import (
    as_of_window,
    date_or_timestamp,
    parse_roster,
    parse_window,
)
from statements.datatypes import format_timestamp, from_ms
from statements.errors import InvalidRequest, Problem
from statements.export import export_archive
from statements.query import StatementQuery, parse_query
from statements.report_formats import csv_report, json_report

_REPORT_PARAMS = frozenset({"activity", "prefix", "since", "until", "as_of", "format"})
_EXPORT_PARAMS = frozenset({"agent", "activity", "verb", "since", "until"})


def _check_params(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            raise InvalidRequest(f"unknown query parameter '{name}'", (
                Problem(f"?{name}", f"not one of {', '.join(sorted(allowed))}"),))
        if name in values:
            raise InvalidRequest(f"the query parameter '{name}' is given twice",
                                 (Problem(f"?{name}", "may appear only once"),))
        values[name] = value
    return values


async def compliance_report(request: Request) -> Response:
    """GET (or POST with a roster): per agent, the status by each entry's rule and validity,
    the statement that decided it and the latest result, streamed."""
    operator = await credential_of(request)
    require(operator, Scope.COMPLIANCE_READ)
    values = _check_params(request, _REPORT_PARAMS)
    fmt = values.get("format", "json")
    if fmt not in ("json", "csv"):
        raise InvalidRequest("invalid query parameter 'format'",
                             (Problem("?format", "must be json or csv"),))
    window = parse_window(values.get("since"), values.get("until"))
    now = format_timestamp(from_ms(request.app.state.clock.now_ms()))
    # Without as_of: every statement in the window, validity judged now.
    as_of = date_or_timestamp("as_of", values["as_of"]) if "as_of" in values else None
    if as_of is not None:
        window = as_of_window(window, as_of)
    roster = None
    if request.method == "POST":
        roster = parse_roster(await read_body(request, request.app.state.settings.max_body_bytes))
    default_warning = Period.parse(request.app.state.settings.compliance_expiring_within)
    targets, skipped = report_parts(
        await request.app.state.storage.catalogue.entries(), activity=values.get("activity"),
        prefix=values.get("prefix"), as_of=as_of or now, default_warning=default_warning)
    # Recorded once the request is known to be valid, before the report streams: what was
    # asked for, by whom; the roster's people only as a count.
    await record_action(request.app.state.storage, "compliance_report", operator=operator.name,
                        now_ms=request.app.state.clock.now_ms(),
                        detail={"entries": ", ".join(label for label, _, _ in targets),
                                **{k: v for k, v in (("since", window.since),
                                                      ("until", window.until),
                                                      ("as_of", as_of)) if v},
                                "format": fmt},
                        counts={"roster": len(roster)} if roster is not None else None)
    storage = request.app.state.storage
    rows = report_rows(storage.compliance, targets, window, roster, storage.marks)
    url = _evidence_url(request)
    if fmt == "csv":
        return StreamingResponse(csv_report(rows, url), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition":
                                          'attachment; filename="compliance-report.csv"'})
    header = {"since": window.since, "until": window.until, "as_of": as_of or now,
              "entries": [label for label, _, _ in targets], "entries_not_reported": skipped,
              "roster": len(roster) if roster is not None else None}
    return StreamingResponse(json_report(rows, header, url), media_type="application/json")


def _evidence_url(request: Request) -> Callable[[str], str]:
    settings = request.app.state.settings
    base = f"{settings.public_url.rstrip('/')}{settings.base_path}/statements?statementId="
    return lambda statement_id: base + quote(statement_id)


async def compliance_export(request: Request) -> Response:
    """Every kept statement matching the filter, with attachments, as a streamed zip."""
    operator = await credential_of(request)
    require(operator, Scope.COMPLIANCE_READ)
    values = _check_params(request, _EXPORT_PARAMS)
    for name in ("since", "until"):  # a plain date too, unlike xAPI's own since/until
        if name in values:
            values[name] = date_or_timestamp(name, values[name])
    query = parse_query(list(values.items()), max_limit=1)
    assert isinstance(query, StatementQuery)  # no statementId among _EXPORT_PARAMS
    # The person, when the export is theirs, only as the audit log's keyed hash.
    await record_action(request.app.state.storage, "evidence_export", operator=operator.name,
                        now_ms=request.app.state.clock.now_ms(), person=query.agent,
                        detail={k: v for k, v in values.items() if k != "agent"})
    archive = export_archive(request.app.state.storage.statements, query, described=values)
    return StreamingResponse(archive, media_type="application/zip", headers={
        "Content-Disposition": 'attachment; filename="evidence-export.zip"'})


routes = [
    Route("/compliance/report", compliance_report, methods=["GET", "POST"]),
    Route("/compliance/export", compliance_export, methods=["GET"]),
]
