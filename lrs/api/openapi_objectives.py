"""The OpenAPI paths of frameworks of objectives and assessments (lrs/api/objectives.py)."""

from __future__ import annotations

from typing import Any

from lrs.api.openapi_admin import json_response as ok

_TEXT = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_OBJECTIVE = {
    "type": "object", "required": ["iri", "title"], "additionalProperties": False,
    "properties": {
        "iri": {"type": "string", "description": "The xAPI Activity id of the objective: "
                "for CASE, the CFItem's uri"},
        "title": {"type": "string"}, "code": {"type": "string", "description": "CASE "
                                              "humanCodingScheme, or the CSV/JSON code"},
        "description": {"type": "string"},
        "parent": {"type": "string", "description": "The IRI of the objective it is "
                   "under; absent at the top"},
        "kind": {"type": "string", "description": "CASE CFItemType"}}}
_SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string"}, "iri": {"type": "string"}, "title": {"type": "string"},
    "format": {"enum": ["case", "csv", "json"]}, "description": _TEXT, "publisher": _TEXT,
    "version": _TEXT, "licence": _TEXT, "source": _TEXT, "language": _TEXT,
    "loaded": {"type": "string", "format": "date-time"},
    "objective_count": {"type": "integer"},
    "groups": {**_STRINGS, "description": "The groups it is assigned to (sorted)"}}
_REQUIRED = ["id", "iri", "title", "format", "loaded", "objective_count", "groups"]
_SUMMARY = {"type": "object", "additionalProperties": False, "required": _REQUIRED,
            "properties": _SUMMARY_PROPERTIES}
_WHOLE = {**_SUMMARY, "required": [*_REQUIRED, "objectives"],
          "properties": {**_SUMMARY_PROPERTIES,
                         "objectives": {"type": "array", "items": _OBJECTIVE,
                                        "description": "Document order: a parent before "
                                                       "its children"}}}
_ASSESSMENT = {
    "type": "object", "required": ["statement", "objective", "outcome"],
    "properties": {
        "statement": {"type": "string", "description": "The kept statement's id"},
        "objective": {"type": "string"}, "title": _TEXT, "framework": _TEXT,
        "outcome": {"enum": ["met", "not_yet"]}, "comment": _TEXT,
        "evidence": {**_STRINGS, "description": "Ids of the evidence statements"},
        "assessor": _TEXT, "timestamp": _TEXT, "stored": _TEXT}}
_FRAMEWORK = {"name": "framework", "in": "path", "required": True,
              "schema": {"type": "string"}, "description": "The framework's id"}


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": "string"}}


def objectives_paths(security: list[dict[str, list[str]]], error: dict[str, Any]
                     ) -> dict[str, Any]:
    """The paths, with the document's security requirement and error answer."""
    admin = {"security": security, "description": "Needs the `admin` scope."}
    denied = {"401": error, "403": error}


    upload = {"required": True, "description": "The file itself (not a form): a CASE 1.0 "
              "or 1.1 CFPackage, the LRS's JSON, or a CSV with the columns id, title, "
              "description, parent, code (docs/personal-space.md)",
              "content": {"application/json": {"schema": {"type": "object"}},
                          "text/csv": {"schema": {"type": "string"}}}}
    base = "/api/v1/objectives/frameworks"
    return {
        base: {
            "get": {**admin, "summary": "Every framework of objectives, without its "
                    "objectives", "responses": {
                        "200": ok("The frameworks, by title", {"type": "array",
                                                               "items": _SUMMARY}),
                        "400": error, **denied}},
            "post": {**admin, "summary": "Load a framework: a CASE package, a CSV or JSON",
                     "parameters": [
                         {**_query("format", "case, csv or json; without it, text/csv is "
                                   "CSV, and JSON with a CFDocument is CASE"),
                          "schema": {"enum": ["case", "csv", "json"]}},
                         _query("title", "CSV only: the framework's title (required)"),
                         _query("id", "CSV only: its id (default: a new UUID)"),
                         _query("iri", "CSV only: its IRI"),
                         {**_query("replace", "true: replace a framework with the same id "
                                   "(its groups are kept)"), "schema": {
                                       "enum": ["true", "false"]}},
                         _query("source", "Where the file came from (a file name)")],
                     "requestBody": upload,
                     "responses": {"201": ok("Loaded", _SUMMARY),
                                   "200": ok("Replaced", _SUMMARY),
                                   "400": error, **denied, "409": error, "413": error}}},
        f"{base}/{{framework}}": {
            "get": {**admin, "summary": "One framework with its objectives",
                    "parameters": [_FRAMEWORK],
                    "responses": {"200": ok("The framework", _WHOLE), "400": error,
                                  **denied, "404": error}},
            "delete": {**admin, "summary": "Delete a framework and its assignment (the "
                       "assessments recorded stay: they are statements)",
                       "parameters": [_FRAMEWORK],
                       "responses": {"204": {"description": "Deleted"}, "400": error,
                                     **denied, "404": error}}},
        f"{base}/{{framework}}/groups": {
            "put": {**admin, "summary": "Assign a framework to exactly these groups (values "
                    "of the groups claim, LRS_OIDC_GROUPS_CLAIM)",
                    "parameters": [_FRAMEWORK],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"type": "object", "required": ["groups"],
                                   "additionalProperties": False,
                                   "properties": {"groups": _STRINGS}}}}},
                    "responses": {"200": ok("Assigned", {
                        "type": "object", "required": ["framework", "groups"],
                        "properties": {"framework": {"type": "string"}, "groups": _STRINGS}}),
                        "400": error, **denied, "404": error, "413": error}}},
        "/api/v1/objectives/mine": {
            "get": {"security": [{"session": []}], "summary": "The frameworks assigned to "
                    "the signed-in learner's groups, with their objectives",
                    "description": "Needs a person signed in with the `statements/read/mine` "
                                   "scope (a learner); only a sign-in carries groups.",
                    "responses": {"200": ok("Their groups and frameworks", {
                        "type": "object", "required": ["groups", "frameworks"],
                        "properties": {"groups": _STRINGS,
                                       "frameworks": {"type": "array", "items": _WHOLE}}}),
                        "400": error, **denied}}},
        "/api/v1/assessments/mine": {
            "get": {"security": security, "summary": "The assessments recorded about the "
                    "learner, newest first",
                    "description": "Needs the `statements/read/mine` scope. Each is a kept "
                                   "xAPI statement (docs/personal-space.md#assessments).",
                    "responses": {"200": ok("Their assessments", {
                        "type": "object", "required": ["assessments"],
                        "properties": {"assessments": {"type": "array",
                                                       "items": _ASSESSMENT}}}),
                        "400": error, **denied}}},
    }
