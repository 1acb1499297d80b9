"""The OpenAPI description of the LRS's own APIs under /api/v1 (not the xAPI resources)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.api.openapi_admin import admin_credentials_paths, admin_quarantine_paths
from lrs.api.openapi_admin import json_response as _json
from lrs.api.openapi_admin import query_parameter as _query
from lrs.api.openapi_forwarding import forwarding_paths
from lrs.api.openapi_history import history_paths
from lrs.api.openapi_objectives import objectives_paths
from lrs.api.openapi_sharing import sharing_paths
from lrs.api.openapi_space import space_paths
from lrs.api.openapi_vc import vc_paths
from lrs.http import json_bytes
from lrs.people import Role
from lrs.people.csrf import CSRF_HEADER, SESSION_COOKIE
from plugins.catalogue import KINDS

_COUNT = {"oneOf": [{"type": "integer", "minimum": 0},
                    {"type": "object", "required": ["fewer_than"],
                     "properties": {"fewer_than": {"type": "integer"}}}],
          "description": "A count, or {fewer_than: k} when it is below the suppression "
                         "threshold k"}
_WINDOW = [{"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
           {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}]
_FILTERS = [{"name": "verb", "in": "query", "description": "Only this verb IRI",
             "schema": {"type": "string"}},
            {"name": "activity_type", "in": "query", "description": "Only this type IRI",
             "schema": {"type": "string"}},
            {"name": "platform", "in": "query", "description": "Only this platform",
             "schema": {"type": "string"}},
            {"name": "credential", "in": "query", "description": "Only this key",
             "schema": {"type": "string"}}]
_NAME = {"type": ["object", "null"], "additionalProperties": {"type": "string"},
         "description": "The activity's display name (a language map) where its definition "
                        "is known"}
# lrs.http.credential_of: HTTP Basic, a bearer access token, or (with no Authorization
# header) the person signed in on this browser; any one of them.
_ANY_CREDENTIAL: list[dict[str, list[str]]] = [{"basic": []}, {"bearer": []}, {"session": []}]
_SCHEMES = {
    "basic": {"type": "http", "scheme": "basic",
              "description": "A credential's key and secret (`lrs credentials create`, or "
                             "POST /api/v1/admin/credentials)"},
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "An OAuth 2.0 access token (a JWT, RFC 9068) from the "
                              "configured issuer (LRS_OIDC_ISSUER), obtained with the "
                              "client-credentials grant, for the audience LRS_OIDC_AUDIENCE; "
                              "its client must be one of LRS_OIDC_MACHINE_CLIENTS, whose "
                              "scopes it then has (docs/sign-in.md). Refused with 401 while "
                              "no issuer and audience are configured."},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "The session of a person signed in at /sign-in, with the "
                               "scopes of their roles; it counts only on a request with no "
                               "Authorization header. A state-changing request (POST, PUT, "
                               "PATCH, DELETE) that carries this cookie must also carry the CSRF "
                               f"token in the `{CSRF_HEADER}` header (`csrf_token` of GET "
                               "/api/v1/me), or it is refused with 403."},
}
# The beacon (lrs/api/hits.py) reads the Authorization header itself: Basic, or nothing
# from an allowed origin.
_BEACON: list[dict[str, list[str]]] = [{"basic": []}, {}]
_ERROR = {"description": "What is wrong and where", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}
_UNIQUES = {"type": "object", "description": "What learner_periods counts over the window",
            "properties": {"key_period": {"type": "string", "enum": ["day", "week", "month"]},
                           "periods": {"type": "integer"}, "true_uniques": {"type": "boolean"},
                           "counted_as": {"type": "string"}}}
_PRIVACY = {"type": "object", "description": "With differential privacy on: the epsilon of "
            "each release, the budget per closed day and what is left of it, the noisy "
            "threshold, and the last day released", "additionalProperties": True}


def _get(summary: str, parameters: list[dict[str, Any]], result: dict[str, Any],
         scope: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "security": _ANY_CREDENTIAL,
                    "description": f"Needs the `{scope}` scope.",
                    "responses": {"200": {"description": "OK", "content": {
                        "application/json": {"schema": result}}},
                        "400": _ERROR, "401": _ERROR, "403": _ERROR}}}


def _any_caller(path: dict[str, Any]) -> dict[str, Any]:
    path["get"]["description"] = "Any credential or signed-in person; no scope is needed."
    del path["get"]["responses"]["403"]
    return path


def _compliance_report() -> dict[str, Any]:
    parameters = [_query("activity", "One activity IRI; every catalogue entry when neither "
                                     "this nor prefix is given"),
                  _query("prefix", "Every activity whose IRI starts with this"),
                  _query("since", "Statement timestamps after this: an ISO 8601 "
                                  "date-time, or a date (the start of that day, UTC)"),
                  _query("until", "Statement timestamps up to this: an ISO 8601 "
                                  "date-time, or a date (the start of that day, UTC)"),
                  _query("as_of", "What was true then: later statement timestamps are not "
                                  "read and validity periods are judged at it (same forms as "
                                  "until); default now"),
                  _query("format", "json (default) or csv", enum=["json", "csv"])]
    ok = {"description": "The report, streamed", "content": {
        "application/json": {"schema": {"type": "object"}}, "text/csv": {}}}
    responses = {"200": ok, "400": _ERROR, "401": _ERROR, "403": _ERROR}
    summary = ("Per agent, the status of mandatory activities by each entry's completion rule "
               "and validity, and the statement that decided it")
    return {
        "get": {"summary": summary, "parameters": parameters, "security": _ANY_CREDENTIAL,
                "description": "Needs the `compliance/read` scope.", "responses": responses},
        "post": {"summary": summary + ", against a roster", "parameters": parameters,
                 "security": _ANY_CREDENTIAL,
                 "description": "Needs the `compliance/read` scope. Exactly the roster's "
                                "agents are reported; those with no statement as `no record`.",
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["roster"], "properties": {
                         "roster": {"type": "array", "items": {"type": "object"}}}}}}},
                 "responses": responses},
    }


_ISO = {"type": "string", "format": "date-time"}


_AUDIT_RECORD = {
    "type": "object", "properties": {
        "run_id": {"type": "string"},
        "action": {"enum": ["purge", "forget", "credential_create", "credential_rotate",
                            "credential_revoke", "credential_checks", "catalogue_add",
                            "catalogue_remove", "catalogue_load", "compliance_report",
                            "evidence_export", "statements_import"]},
        "at": _ISO, "operator": {"type": "string", "description": "A credential's name, "
                                 "person:<subject> for a signed-in person, or the CLI's"},
        "subject": {"type": ["string", "null"], "description": "A keyed hash of the "
                    "person concerned (erasure, an export for one person); never an "
                    "identifier"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "detail": {"type": "object", "additionalProperties": {"type": "string"}}}}


_RETENTION = {
    "type": "object",
    "required": ["default", "tallied_statements_retrievable", "default_days", "verb_days",
                 "catalogue", "fingerprint_days", "suppression_threshold"],
    "properties": {
        "default": {"enum": ["full", "tally", "drop"]},
        "tallied_statements_retrievable": {"type": "boolean"},
        "default_days": {"type": ["integer", "null"]},
        "verb_days": {"type": "object", "additionalProperties": {"type": "integer"}},
        "catalogue": {"type": "array", "items": {
            "type": "object", "required": ["kind", "value", "name", "retention_days"],
            "properties": {"kind": {"enum": list(KINDS)},
                           "value": {"type": "string"}, "name": {"type": ["string", "null"]},
                           "retention_days": {"type": ["integer", "null"]}}}},
        "fingerprint_days": {"type": "integer"},
        "suppression_threshold": {"type": "integer"}}}
_ME = {
    "type": "object", "additionalProperties": False,
    "required": ["subject", "name", "roles", "agent", "groups", "csrf_token"],
    "properties": {
        "subject": {"type": "string", "description": "The ID token's `sub`"},
        "name": {"type": "string"},
        "roles": {"type": "array", "uniqueItems": True,
                  "items": {"enum": [role.value for role in Role]},
                  "description": "Sorted; a person in no mapped group has none"},
        "agent": {"type": ["object", "null"], "description": "The learner's xAPI Agent, "
                  "from the ID token by LRS_OIDC_AGENT_MAPPING; null when the token lacks "
                  "what the mapping needs"},
        "groups": {"type": "array", "uniqueItems": True, "items": {"type": "string"},
                   "description": "Sorted; from the claim LRS_OIDC_GROUPS_CLAIM (frameworks "
                   "of objectives are assigned to groups)"},
        "csrf_token": {"type": "string", "minLength": 1, "description": "For the "
                       f"`{CSRF_HEADER}` header (it also sets the CSRF cookie)"}}}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "tally-lrs APIs", "version": "1",
             "description": "Aggregates, the beacon, the compliance catalogue, compliance "
                            "reports and export, administration (credentials, settings, the "
                            "audit log), the learner's portfolio, the retention policy and who "
                            "is signed in. The xAPI "
                            "resources are under /xapi/ and follow the xAPI specification."},
    "components": {
        "securitySchemes": _SCHEMES,
        "schemas": {"Error": {"type": "object", "properties": {"error": {
            "type": "object", "properties": {
                "status": {"type": "integer"}, "message": {"type": "string"},
                "problems": {"type": "array", "items": {"type": "object", "properties": {
                    "path": {"type": "string"}, "message": {"type": "string"}}}}}}}}},
    },
    "paths": {
        "/api/v1/aggregates/popular": _get(
            "Most hit or most learned-from activities over a window",
            [*_WINDOW, _query("by", "Rank by (`learners`: the former name of learner_periods)",
                              enum=["hits", "learner_periods", "learners"]), *_FILTERS,
             _query("limit", "How many (1-1000)", pattern="^[0-9]+$")],
            {"type": "object", "properties": {
                "uniques": _UNIQUES, "privacy": _PRIVACY,
                "activities": {"type": "array", "items": {
                    "type": "object", "properties": {
                        "activity": {"type": "string"}, "name": _NAME, "hits": _COUNT,
                        "learner_periods": {**_COUNT, "description": (
                            "Estimated learners counted once per key period they came in: "
                            "true unique learners when uniques.true_uniques")}}}}}},
            "aggregates/read"),
        "/api/v1/aggregates/series": _get(
            "Hits over time for one activity",
            [_query("activity", "The activity IRI"), *_WINDOW,
             _query("granularity", "Bucket size", enum=["day", "hour"]), *_FILTERS],
            {"type": "object", "properties": {"points": {"type": "array", "items": {
                "type": "object", "properties": {"bucket": {"type": "string"},
                                                 "hits": _COUNT}}}}}, "aggregates/read"),
        "/api/v1/aggregates/summary": _get(
            "Totals by verb, platform and retention decision", [*_WINDOW, *_FILTERS],
            {"type": "object", "properties": {
                "hits": _COUNT,
                "by_verb": {"type": "object", "additionalProperties": _COUNT},
                "by_platform": {"type": "object", "additionalProperties": _COUNT},
                "statements": {"type": "object", "additionalProperties": _COUNT,
                               "description": "Statements kept (full), tallied and dropped; "
                                              "not narrowed by the filters"}}},
            "aggregates/read"),
        "/api/v1/aggregates/unopened": _get(
            "Known activities with no hit in the window (under the filters given): those of "
            "the compliance catalogue (kind activity) and those hit at least once in the 365 "
            "days up to the window's end",
            [*_WINDOW, *_FILTERS, _query("limit", "How many to list (1-1000)",
                                         pattern="^[0-9]+$")],
            {"type": "object", "properties": {
                "known_since": {"type": "string", "format": "date"},
                "total": {"type": "integer", "description": "How many there are in all"},
                "activities": {"type": "array", "items": {"type": "object", "properties": {
                    "activity": {"type": "string"}, "name": _NAME,
                    "mandatory": {"type": "boolean"}}}}}}, "aggregates/read"),
        "/api/v1/aggregates/compliance": _get(
            "For each mandatory activity, how many people completed it in the window (verb "
            "completed, by timestamp; counts only, small groups suppressed)", _WINDOW,
            {"type": "object", "properties": {
                "verb": {"type": "string"},
                "activities": {"type": "array", "items": {"type": "object", "properties": {
                    "activity": {"type": "string"}, "name": _NAME,
                    "entry": {"type": "object", "description": "The catalogue entry that "
                              "makes it mandatory (kind, value, name)"},
                    "learners": _COUNT, "statements": _COUNT}}}}}, "aggregates/read"),
        "/api/v1/hits": {"post": {
            "summary": "Record a hit (the beacon)", "security": _BEACON,
            "description": "Needs HTTP Basic credentials with the `hits/write` scope (not a "
                           "bearer token or a session), or an Origin listed in "
                           "LRS_BEACON_ORIGINS. Rate-limited per sender (429, Retry-After).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["activity"], "additionalProperties": False,
                "properties": {"activity": {"type": "string", "format": "iri"},
                               "verb": {"type": "string", "format": "iri"},
                               "type": {"type": "string", "format": "iri"},
                               "platform": {"type": "string"},
                               "id": {"type": "string", "format": "uuid"}}}}}},
            "responses": {"204": {"description": "Counted"}, "400": _ERROR, "401": _ERROR,
                          "429": _ERROR}}},
        "/api/v1/hits/pixel.gif": {"get": {
            "summary": "Record a hit from an <img> tag", "security": _BEACON,
            "description": "As POST /api/v1/hits: Basic credentials with `hits/write`, or a "
                           "Referer from an origin listed in LRS_BEACON_ORIGINS.",
            "parameters": [_query("activity", "The activity IRI"), _query("verb", "Verb IRI"),
                           _query("type", "Activity type IRI"), _query("platform", "Platform")],
            "responses": {"200": {"description": "A 1x1 GIF",
                                  "content": {"image/gif": {}}}, "400": _ERROR, "401": _ERROR,
                          "403": _ERROR, "429": _ERROR}}},
        "/api/v1/catalogue": {
            "get": {"summary": "The compliance catalogue (scope admin or compliance/read)",
                    "security": _ANY_CREDENTIAL,
                    "responses": {"200": {"description": "The catalogue document"},
                                  "401": _ERROR, "403": _ERROR}},
            "post": {"summary": "Add catalogue entries (a catalogue document)",
                     "security": _ANY_CREDENTIAL, "description": "Needs the `admin` scope.",
                     "responses": {"200": {"description": "Added"}, "400": _ERROR,
                                   "401": _ERROR, "403": _ERROR}},
            "delete": {"summary": "Remove one entry",
                       "parameters": [_query("kind", "activity, prefix or type"),
                                      _query("value", "The entry's IRI")],
                       "security": _ANY_CREDENTIAL, "description": "Needs the `admin` scope.",
                       "responses": {"204": {"description": "Removed"}, "400": _ERROR,
                                     "401": _ERROR, "403": _ERROR, "404": _ERROR}},
        },
        "/api/v1/admin/forget": {
            "post": {"summary": "Erase a person: body {\"agent\": Agent} or {\"agents\": "
                                "[Agent, ...]}, optionally \"dry_run\": true "
                                "(docs/retention.md)",
                     "security": _ANY_CREDENTIAL, "description": "Needs the `admin` scope.",
                     "responses": {"200": {"description": "What was deleted and rewritten"},
                                   "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/admin/purge": {
            "post": {"summary": "Purge kept statements past their retention period",
                     "parameters": [_query("dry_run", "true: only count")],
                     "security": _ANY_CREDENTIAL, "description": "Needs the `admin` scope.",
                     "responses": {"200": {"description": "Counts by retention class"},
                                   "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/admin/audit": {
            "get": {"summary": "The audit log of every admin and compliance action (no "
                               "identities)",
                    "security": _ANY_CREDENTIAL, "description": "Needs the `admin` scope.",
                    "responses": {"200": _json("Audit records, oldest first", {
                        "type": "array", "items": _AUDIT_RECORD}),
                        "401": _ERROR, "403": _ERROR}}},
        **admin_credentials_paths(_ANY_CREDENTIAL, _ERROR),
        **forwarding_paths(_ANY_CREDENTIAL, _ERROR),
        **admin_quarantine_paths(_ANY_CREDENTIAL, _ERROR),
        **objectives_paths(_ANY_CREDENTIAL, _ERROR),
        **space_paths(_ERROR),
        **history_paths(_ANY_CREDENTIAL, _ERROR),
        **vc_paths(_ANY_CREDENTIAL, _ERROR),
        **sharing_paths(_ERROR),
        "/api/v1/compliance/report": _compliance_report(),
        "/api/v1/compliance/export": {"get": {
            "summary": "Evidence export: kept statements matching a filter, with attachments",
            "description": "Needs the `compliance/read` scope. A streamed zip: "
                           "statements.jsonl, attachments/<sha2>, manifest.json. Filters as "
                           "in xAPI GET /statements (since/until on `stored`).",
            "parameters": [_query("agent", "An Agent or Group as JSON"),
                           _query("activity", "Activity IRI"), _query("verb", "Verb IRI"),
                           _query("since", "ISO 8601 date-time, or a date (start of day, "
                                           "UTC)"),
                           _query("until", "ISO 8601 date-time, or a date (start of day, "
                                           "UTC)")],
            "security": _ANY_CREDENTIAL,
            "responses": {"200": {"description": "The archive",
                                  "content": {"application/zip": {}}},
                          "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/portfolio": {"get": {
            "summary": "The learner's portfolio: their kept statements as JSON and HTML",
            "description": "Needs the `statements/read/mine` scope; the learner is the "
                           "credential's authority Agent (`lrs credentials create --agent`).",
            "parameters": [_query("format", "zip (default), json or html",
                                  enum=["zip", "json", "html"])],
            "security": _ANY_CREDENTIAL,
            "responses": {"200": {"description": "The portfolio", "content": {
                "application/zip": {}, "application/json": {}, "text/html": {}}},
                "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/retention": _any_caller(_get(
            "What the LRS keeps and for how long: the retention policy in force", [],
            _RETENTION, "")),
        "/api/v1/me": {"get": {
            "summary": "Who is signed in on this browser, and the CSRF token its scripts send",
            "description": "Only the session cookie counts: a Basic or bearer credential is "
                           "no person, and gets 401 like a browser nobody signed in on. "
                           f"`csrf_token` goes in the `{CSRF_HEADER}` header of every "
                           "state-changing request the cookie authenticates. Never cached "
                           "(Cache-Control: no-store).",
            "security": [{"session": []}],
            "responses": {"200": _json("The person signed in", _ME),
                          "401": {**_ERROR, "description": "Nobody is signed in"}}}},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document", "security": [],
            "description": "Open to all, no credential needed.",
            "responses": {"200": _json("The OpenAPI 3.1 description of /api/v1", {
                "type": "object", "required": ["openapi", "info", "paths"]})}}},
    },
}


async def openapi(request: Request) -> Response:
    """The OpenAPI document, open to all."""
    return json_bytes(orjson.dumps(DOCUMENT))


routes = [Route("/openapi.json", openapi, methods=["GET", "HEAD"])]
