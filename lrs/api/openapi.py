"""The OpenAPI description of the LRS's own APIs under /api/v1 (not the xAPI resources)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.credentials import Scope
from lrs.http import json_bytes

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
_ERROR = {"description": "What is wrong and where", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": "string", **schema}}


def _get(summary: str, parameters: list[dict[str, Any]], result: dict[str, Any],
         scope: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "security": [{"basic": []}],
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
                  _query("format", "json (default) or csv", enum=["json", "csv"])]
    ok = {"description": "The report, streamed", "content": {
        "application/json": {"schema": {"type": "object"}}, "text/csv": {}}}
    responses = {"200": ok, "400": _ERROR, "401": _ERROR, "403": _ERROR}
    summary = "Per agent, the latest result and completion of mandatory activities"
    return {
        "get": {"summary": summary, "parameters": parameters, "security": [{"basic": []}],
                "description": "Needs the `compliance/read` scope.", "responses": responses},
        "post": {"summary": summary + ", against a roster", "parameters": parameters,
                 "security": [{"basic": []}],
                 "description": "Needs the `compliance/read` scope. Exactly the roster's "
                                "agents are reported; those with no result as `no record`.",
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["roster"], "properties": {
                         "roster": {"type": "array", "items": {"type": "object"}}}}}}},
                 "responses": responses},
    }


_ISO = {"type": "string", "format": "date-time"}
_ISO_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_CREDENTIAL: dict[str, Any] = {
    "type": "object", "required": ["name", "key", "scopes", "retention", "created", "revoked",
                                   "last_used"],
    "properties": {
        "name": {"type": "string"}, "key": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string"}},
        "retention": {"enum": ["full", "tally"]}, "created": _ISO, "revoked": _ISO_OR_NULL,
        "last_used": {**_ISO_OR_NULL, "description": "When its secret was last checked (to "
                                                    "LRS_CREDENTIAL_CACHE_SECONDS)"}}}
_SCOPES = [scope.value for scope in Scope]
_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "The credential's name (its unrevoked one) or its key"}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _admin_credentials() -> dict[str, Any]:
    secret = {"type": "string", "description": "Shown this once; only its hash is stored"}
    admin = {"security": [{"basic": []}], "description": "Needs the `admin` scope."}
    return {
        "/api/v1/admin/credentials": {
            "get": {**admin, "summary": "Every credential (never a secret), oldest first",
                    "responses": {"200": _json("The credentials",
                                               {"type": "array", "items": _CREDENTIAL}),
                                  "401": _ERROR, "403": _ERROR}},
            "post": {**admin, "summary": "Create a credential; its secret is in the answer",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["name", "scopes"],
                                    "additionalProperties": False, "properties": {
                                        "name": {"type": "string", "minLength": 1},
                                        "scopes": {"type": "array", "minItems": 1,
                                                   "items": {"enum": _SCOPES}},
                                        "retention": {"enum": ["full", "tally"],
                                                      "default": "tally"},
                                        "agent": {"type": "object", "description":
                                                  "The learner it belongs to (its authority)"}
                                    }}}}},
                     "responses": {
                         "201": _json("Created", {**_CREDENTIAL, "required": [
                             *_CREDENTIAL["required"], "secret"], "properties": {
                                 **_CREDENTIAL["properties"], "secret": secret}}),
                         "400": _ERROR, "401": _ERROR, "403": _ERROR,
                         "409": {**_ERROR, "description": "An unrevoked credential has "
                                                          "this name"}}}},
        "/api/v1/admin/credentials/{ref}/rotate": {
            "post": {**admin, "summary": "A new secret (the old one stops working within "
                                         "LRS_CREDENTIAL_CACHE_SECONDS)", "parameters": [_REF],
                     "responses": {"200": _json("The new secret", {
                         "type": "object", "required": ["name", "key", "secret"],
                         "properties": {"name": {"type": "string"},
                                        "key": {"type": "string"}, "secret": secret}}),
                         "401": _ERROR, "403": _ERROR,
                         "404": {**_ERROR, "description": "No credential named or keyed so"}}}},
        "/api/v1/admin/credentials/{ref}": {
            "delete": {**admin, "summary": "Revoke a credential", "parameters": [_REF],
                       "responses": {"204": {"description": "Revoked"}, "401": _ERROR,
                                     "403": _ERROR, "404": _ERROR}}},
        "/api/v1/admin/settings": {
            "get": {**admin, "summary": "The retention, privacy, limit and metrics settings in "
                                        "effect (read-only; never a secret)",
                    "responses": {"200": _json("The settings", {
                        "type": "object",
                        "required": ["retention", "privacy", "limits", "metrics"],
                        "properties": {name: {"type": "object"} for name in (
                            "retention", "privacy", "limits", "metrics")}}),
                        "401": _ERROR, "403": _ERROR}}},
        "/api/v1/catalogue/matches": {
            "get": {**admin, "summary": "How many kept statements a catalogue entry matches, "
                                        "per activity (the entry need not be in the catalogue)",
                    "parameters": [
                        {**_query("kind", "iri (an exact activity id), prefix or type",
                                  enum=["iri", "activity", "prefix", "type"]),
                         "required": True},
                        {**_query("value", "The IRI (or IRI prefix)"), "required": True}],
                    "responses": {"200": _json("The matches", {
                        "type": "object",
                        "required": ["kind", "value", "statements", "activities"],
                        "properties": {
                            "kind": {"type": "string"}, "value": {"type": "string"},
                            "statements": {"type": "integer", "minimum": 0},
                            "activities": {"type": "array", "items": {
                                "type": "object", "required": ["id", "statements"],
                                "properties": {"id": {"type": "string"},
                                               "statements": {"type": "integer"}}}}}}),
                        "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    }


_AUDIT_RECORD = {
    "type": "object", "properties": {
        "run_id": {"type": "string"},
        "action": {"enum": ["purge", "forget", "credential_create", "credential_rotate",
                            "credential_revoke", "catalogue_add", "catalogue_remove",
                            "catalogue_load", "compliance_report", "evidence_export"]},
        "at": _ISO, "operator": {"type": "string", "description": "A credential's name, "
                                 "person:<subject> for a signed-in person, or the CLI's"},
        "subject": {"type": ["string", "null"], "description": "A keyed hash of the "
                    "person concerned (erasure, an export for one person); never an "
                    "identifier"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "detail": {"type": "object", "additionalProperties": {"type": "string"}}}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "tally-lrs APIs", "version": "1",
             "description": "Aggregates, the beacon, the compliance catalogue, compliance "
                            "reports and export, administration (credentials, settings, the "
                            "audit log) and the learner's portfolio. The xAPI "
                            "resources are under /xapi/ and follow the xAPI specification."},
    "components": {
        "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
        "schemas": {"Error": {"type": "object", "properties": {"error": {
            "type": "object", "properties": {
                "status": {"type": "integer"}, "message": {"type": "string"},
                "problems": {"type": "array", "items": {"type": "object", "properties": {
                    "path": {"type": "string"}, "message": {"type": "string"}}}}}}}}},
    },
    "paths": {
        "/api/v1/aggregates/popular": _get(
            "Most hit or most learned-from activities over a window",
            [*_WINDOW, _query("by", "Rank by", enum=["hits", "learners"]), *_FILTERS,
             _query("limit", "How many (1-1000)", pattern="^[0-9]+$")],
            {"type": "object", "properties": {"activities": {"type": "array", "items": {
                "type": "object", "properties": {
                    "activity": {"type": "string"}, "name": _NAME,
                    "hits": _COUNT, "learners": _COUNT}}}}}, "aggregates/read"),
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
            "summary": "Record a hit (the beacon)", "security": [{"basic": []}, {}],
            "description": "Needs the `hits/write` scope, or an Origin listed in "
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
            "summary": "Record a hit from an <img> tag",
            "parameters": [_query("activity", "The activity IRI"), _query("verb", "Verb IRI"),
                           _query("type", "Activity type IRI"), _query("platform", "Platform")],
            "responses": {"200": {"description": "A 1x1 GIF",
                                  "content": {"image/gif": {}}}, "400": _ERROR}}},
        "/api/v1/catalogue": {
            "get": {"summary": "The compliance catalogue (scope admin or compliance/read)",
                    "security": [{"basic": []}],
                    "responses": {"200": {"description": "The catalogue document"}}},
            "post": {"summary": "Add catalogue entries (a catalogue document)",
                     "security": [{"basic": []}],
                     "responses": {"200": {"description": "Added"}, "400": _ERROR}},
            "delete": {"summary": "Remove one entry",
                       "parameters": [_query("kind", "activity, prefix or type"),
                                      _query("value", "The entry's IRI")],
                       "security": [{"basic": []}],
                       "responses": {"204": {"description": "Removed"}, "404": _ERROR}},
        },
        "/api/v1/admin/forget": {
            "post": {"summary": "Erase a person: body {\"agent\": Agent} (docs/retention.md)",
                     "security": [{"basic": []}],
                     "responses": {"200": {"description": "What was deleted and rewritten"},
                                   "400": _ERROR}}},
        "/api/v1/admin/purge": {
            "post": {"summary": "Purge kept statements past their retention period",
                     "parameters": [_query("dry_run", "true: only count")],
                     "security": [{"basic": []}],
                     "responses": {"200": {"description": "Counts by retention class"},
                                   "400": _ERROR}}},
        "/api/v1/admin/audit": {
            "get": {"summary": "The audit log of every admin and compliance action (no "
                               "identities)",
                    "security": [{"basic": []}], "description": "Needs the `admin` scope.",
                    "responses": {"200": _json("Audit records, oldest first", {
                        "type": "array", "items": _AUDIT_RECORD}),
                        "401": _ERROR, "403": _ERROR}}},
        **_admin_credentials(),
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
            "security": [{"basic": []}],
            "responses": {"200": {"description": "The archive",
                                  "content": {"application/zip": {}}},
                          "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/portfolio": {"get": {
            "summary": "The learner's portfolio: their kept statements as JSON and HTML",
            "description": "Needs the `statements/read/mine` scope; the learner is the "
                           "credential's authority Agent (`lrs credentials create --agent`).",
            "parameters": [_query("format", "zip (default), json or html",
                                  enum=["zip", "json", "html"])],
            "security": [{"basic": []}],
            "responses": {"200": {"description": "The portfolio", "content": {
                "application/zip": {}, "application/json": {}, "text/html": {}}},
                "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/retention": _any_caller(_get(
            "What the LRS keeps and for how long: the retention policy in force", [],
            {"type": "object", "properties": {
                "default": {"enum": ["full", "tally", "drop"]},
                "tallied_statements_retrievable": {"type": "boolean"},
                "default_days": {"type": ["integer", "null"]},
                "verb_days": {"type": "object", "additionalProperties": {"type": "integer"}},
                "catalogue": {"type": "array", "items": {"type": "object"}},
                "fingerprint_days": {"type": "integer"},
                "suppression_threshold": {"type": "integer"}}},
            "")),
    },
}


async def openapi(request: Request) -> Response:
    """The OpenAPI document, open to all."""
    return json_bytes(orjson.dumps(DOCUMENT))


routes = [Route("/openapi.json", openapi, methods=["GET", "HEAD"])]
