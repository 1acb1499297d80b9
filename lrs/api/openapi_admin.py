"""The OpenAPI paths of the admin APIs of credentials (lrs/api/admin_credentials.py) and the
quarantine (lrs/api/admin_quarantine.py)."""

from __future__ import annotations

from typing import Any

from lrs.credentials import Scope
from lrs.privacy.schema import REPORT_SCHEMA


def query_parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    """A string query parameter of one of the /api/v1 operations."""
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": "string", **schema}}

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
                                                    "LRS_CREDENTIAL_CACHE_SECONDS)"},
        "document_puts": {"enum": ["strict", "lenient"],
                          "description": "docs/compatibility.md"},
        "quarantine_days": {"type": "integer", "description": "Days its rejected statements "
                            "are kept in the quarantine; 0: off"},
        **{name: {"enum": ["off", "flag", "reject"], "description": f"Its {name} door "
                  "check (docs/cmi5.md, docs/profiles.md)"} for name in ("cmi5", "profiles")},
        "cmi5_lms": {"type": "boolean", "description": "The cmi5 LMS's credential: the one "
                     "that may send satisfied, abandoned and waived"}}}
_CHECKS = {name: {"enum": ["off", "flag", "reject"], "default": "off"}
           for name in ("cmi5", "profiles")} | {"cmi5_lms": {"type": "boolean",
                                                            "default": False}}
_SCOPES = [scope.value for scope in Scope]
_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "The credential's name (its unrevoked one) or its key"}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON response of that schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def admin_quarantine_paths(any_credential: list[dict[str, Any]], error: dict[str, Any]
                           ) -> dict[str, Any]:
    """The quarantine of rejected statements (docs/quarantine.md)."""
    admin = {"security": any_credential, "description": "Needs the `admin` scope."}
    entry = {"name": "entry", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "The entry id"}
    filters = [query_parameter("kind", "An error kind (the JSON path of the first problem)"),
               query_parameter("credential", "A credential key"),
               query_parameter("limit", "1 to 10000")]
    return {
        "/api/v1/admin/quarantine": {"get": {
            "summary": "Quarantined statements: how many of each error kind, and the entries",
            "parameters": filters, **admin,
            "responses": {"200": {"description": "{kinds, entries}"}, "400": error,
                          "401": error, "403": error}}},
        "/api/v1/admin/quarantine/download": {"get": {
            "summary": "The entries as JSON Lines", "parameters": filters, **admin,
            "responses": {"200": {"description": "One entry a line",
                                  "content": {"application/x-ndjson": {}}},
                          "400": error, "401": error, "403": error}}},
        "/api/v1/admin/quarantine/{entry}/replay": {"post": {
            "summary": "Replay the entry (the corrected statement in the body, or as sent) "
                       "through the normal ingest",
            "parameters": [entry], **admin,
            "responses": {"200": {"description": "{statement: id}"}, "400": error,
                          "401": error, "403": error, "404": error, "409": error}}},
        "/api/v1/admin/quarantine/{entry}": {"delete": {
            "summary": "Discard the entry", "parameters": [entry],
            **admin, "responses": {"204": {"description": "Discarded"}, "401": error,
                                   "403": error, "404": error}}},
    }


def admin_credentials_paths(any_credential: list[dict[str, Any]], error: dict[str, Any]
                            ) -> dict[str, Any]:
    secret = {"type": "string", "description": "Shown this once; only its hash is stored"}
    admin = {"security": any_credential, "description": "Needs the `admin` scope."}
    return {
        "/api/v1/admin/credentials": {
            "get": {**admin, "summary": "Every credential (never a secret), oldest first",
                    "responses": {"200": json_response("The credentials",
                                               {"type": "array", "items": _CREDENTIAL}),
                                  "401": error, "403": error}},
            "post": {**admin, "summary": "Create a credential; its secret is in the answer",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["name", "scopes"],
                                    "additionalProperties": False, "properties": {
                                        "name": {"type": "string", "minLength": 1},
                                        "scopes": {"type": "array", "minItems": 1,
                                                   "items": {"enum": _SCOPES}},
                                        "retention": {"enum": ["full", "tally"],
                                                      "default": "tally"},
                                        "document_puts": {"enum": ["strict", "lenient"],
                                                          "default": "strict"},
                                        "quarantine_days": {"type": "integer",
                                                            "minimum": 0, "maximum": 365,
                                                            "default": 0},
                                        "agent": {"type": "object", "description":
                                                  "The learner it belongs to (its authority)"},
                                        **_CHECKS,
                                    }}}}},
                     "responses": {
                         "201": json_response("Created", {**_CREDENTIAL, "required": [
                             *_CREDENTIAL["required"], "secret"], "properties": {
                                 **_CREDENTIAL["properties"], "secret": secret}}),
                         "400": error, "401": error, "403": error,
                         "409": {**error, "description": "An unrevoked credential has "
                                                          "this name"}}}},
        "/api/v1/admin/credentials/{ref}/rotate": {
            "post": {**admin, "summary": "A new secret (the old one stops working within "
                                         "LRS_CREDENTIAL_CACHE_SECONDS)", "parameters": [_REF],
                     "responses": {"200": json_response("The new secret", {
                         "type": "object", "required": ["name", "key", "secret"],
                         "properties": {"name": {"type": "string"},
                                        "key": {"type": "string"}, "secret": secret}}),
                         "401": error, "403": error,
                         "404": {**error, "description": "No credential named or keyed so"}}}},
        "/api/v1/admin/credentials/{ref}": {
            "patch": {**admin, "summary": "Change its door checks (those sent; running "
                                          "processes within LRS_CREDENTIAL_CACHE_SECONDS)",
                      "parameters": [_REF],
                      "requestBody": {"required": True, "content": {"application/json": {
                          "schema": {"type": "object", "additionalProperties": False,
                                     "properties": {k: {kk: vv for kk, vv in v.items()
                                                        if kk != "default"}
                                                    for k, v in _CHECKS.items()}}}}},
                      "responses": {"200": json_response("The credential", _CREDENTIAL),
                                    "400": error, "401": error, "403": error,
                                    "404": error}},
            "delete": {**admin, "summary": "Revoke a credential", "parameters": [_REF],
                       "responses": {"204": {"description": "Revoked"}, "401": error,
                                     "403": error, "404": error}}},
        "/api/v1/admin/settings": {
            "get": {**admin, "summary": "The retention, privacy, limit and metrics settings in "
                                        "effect (read-only; never a secret)",
                    "responses": {"200": json_response("The settings", {
                        "type": "object",
                        "required": ["retention", "privacy", "limits", "metrics"],
                        "properties": {name: {"type": "object"} for name in (
                            "retention", "privacy", "limits", "metrics")}}),
                        "401": error, "403": error}}},
        "/api/v1/admin/privacy-report": {
            "get": {**admin, "summary": "The record of processing (GDPR Art. 30) and DPIA "
                                        "draft (Art. 35) of the configuration in effect",
                    "description": "Needs the `admin` scope. JSON, or Markdown when Accept "
                                   "prefers text/markdown or `format=markdown` is given: the "
                                   "same facts either way (docs/privacy.md).",
                    "parameters": [query_parameter("format", "json or markdown (else by Accept)",
                                          enum=["json", "markdown"])],
                    "responses": {"200": {"description": "The report", "content": {
                        "application/json": {"schema": REPORT_SCHEMA},
                        "text/markdown": {"schema": {"type": "string"}}}},
                        "400": error, "401": error, "403": error}}},
        "/api/v1/catalogue/matches": {
            "get": {**admin, "summary": "How many kept statements a catalogue entry matches, "
                                        "per activity (the entry need not be in the catalogue)",
                    "parameters": [
                        {**query_parameter("kind", "iri (an exact activity id), prefix or type",
                                  enum=["iri", "activity", "prefix", "type"]),
                         "required": True},
                        {**query_parameter("value", "The IRI (or IRI prefix)"), "required": True}],
                    "responses": {"200": json_response("The matches", {
                        "type": "object",
                        "required": ["kind", "value", "statements", "activities"],
                        "properties": {
                            "kind": {"type": "string"}, "value": {"type": "string"},
                            "statements": {"type": "integer", "minimum": 0},
                            "activities": {"type": "array", "items": {
                                "type": "object", "required": ["id", "statements"],
                                "properties": {"id": {"type": "string"},
                                               "statements": {"type": "integer"}}}}}}),
                        "400": error, "401": error, "403": error}}},
    }
