"""The OpenAPI description of the LRS's own APIs under /api/v1 (not the xAPI resources)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
                  _query("since", "Statement timestamps after this (ISO 8601)",
                         format="date-time"),
                  _query("until", "Statement timestamps up to this (ISO 8601)",
                         format="date-time"),
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


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "tally-lrs APIs", "version": "1",
             "description": "Aggregates, the beacon, the compliance catalogue, compliance "
                            "reports and export, and the learner's portfolio. The xAPI "
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
            "get": {"summary": "The audit log of purges and erasures (no identities)",
                    "security": [{"basic": []}],
                    "responses": {"200": {"description": "Audit records"}}}},
        "/api/v1/compliance/report": _compliance_report(),
        "/api/v1/compliance/export": {"get": {
            "summary": "Evidence export: kept statements matching a filter, with attachments",
            "description": "Needs the `compliance/read` scope. A streamed zip: "
                           "statements.jsonl, attachments/<sha2>, manifest.json. Filters as "
                           "in xAPI GET /statements (since/until on `stored`).",
            "parameters": [_query("agent", "An Agent or Group as JSON"),
                           _query("activity", "Activity IRI"), _query("verb", "Verb IRI"),
                           _query("since", "ISO 8601", format="date-time"),
                           _query("until", "ISO 8601", format="date-time")],
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
