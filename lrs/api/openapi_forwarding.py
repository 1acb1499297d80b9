"""The OpenAPI paths of the forwarding admin API (lrs/api/admin_forwarding.py)."""

from __future__ import annotations

from typing import Any

from lrs.api.openapi_admin import json_response as ok

_STRINGS = {"type": "array", "items": {"type": "string"}}
_DESTINATION = {"type": "object", "required": ["id", "name", "kind", "url"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"},
    "kind": {"enum": ["xapi", "webhook"]}, "url": {"type": "string"},
    "username": {"type": "string"}, "xapi_version": {"type": "string"},
    "created": {"type": "string"}},
    "description": "A destination; its secret is never returned"}
_RULE = {"type": "object", "required": ["id", "destination", "decision"], "properties": {
    "id": {"type": "string"}, "destination": {"type": "string"},
    "decision": {"enum": ["kept", "tallied"]}, "verbs": _STRINGS,
    "activity": {"type": "string"}, "credentials": _STRINGS, "created": {"type": "string"}}}
_NULLABLE = {"type": ["string", "null"]}
_STATUS = {"type": "object", "required": ["destination", "queued", "dead", "lag_seconds"],
           "properties": {
               "destination": {"type": "string"}, "name": {"type": "string"},
               "queued": {"type": "integer"}, "dead": {"type": "integer"},
               "delivered": {"type": "integer"}, "lag_seconds": {"type": "number"},
               "last_error": _NULLABLE, "last_error_at": _NULLABLE,
               "last_delivered_at": _NULLABLE}}
_DEAD = {"type": "object", "required": ["key", "attempts"], "properties": {
    "key": {"type": "string"}, "statement_id": _NULLABLE,
    "hit": {"type": ["object", "null"]}, "attempts": {"type": "integer"},
    "created": _NULLABLE, "last_error": _NULLABLE}}
_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "The destination's id or name"}
_CHOICE = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False,
    "properties": {"keys": {**_STRINGS, "description": "Only these; all when absent"}}}}}}


def forwarding_paths(security: list[dict[str, list[str]]], error: dict[str, Any]
                     ) -> dict[str, Any]:
    """The paths, with the document's security requirement and error answer."""
    admin = {"security": security, "description": "Needs the `admin` scope."}
    denied = {"401": error, "403": error}

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    count = {"type": "object", "additionalProperties": {"type": "integer"}}
    base = "/api/v1/admin/forwarding"
    return {
        f"{base}/destinations": {
            "get": {**admin, "summary": "Every forwarding destination (never a secret)",
                    "responses": {"200": ok("The destinations",
                                            {"type": "array", "items": _DESTINATION}),
                                  **denied}},
            "post": {**admin, "summary": "Add a destination: an xAPI LRS or a webhook",
                     "requestBody": body({
                         "type": "object", "required": ["name", "kind", "url", "secret"],
                         "additionalProperties": False, "properties": {
                             "name": {"type": "string", "minLength": 1},
                             "kind": {"enum": ["xapi", "webhook"]},
                             "url": {"type": "string", "pattern": "^https?://"},
                             "secret": {"type": "string", "minLength": 1, "description":
                                        "The LRS password or the webhook's HMAC secret, "
                                        "stored as given (it must be sent)"},
                             "username": {"type": "string"},
                             "xapi_version": {"enum": ["1.0.3", "2.0.0"]}}}),
                     "responses": {"201": ok("Added", _DESTINATION), "400": error,
                                   **denied}}},
        f"{base}/destinations/{{ref}}": {
            "delete": {**admin, "summary": "Remove a destination, its rules and its queue",
                       "parameters": [_REF],
                       "responses": {"204": {"description": "Removed"}, "404": error,
                                     **denied}}},
        f"{base}/destinations/{{ref}}/dead": {
            "get": {**admin, "summary": "A destination's dead letters, oldest first",
                    "parameters": [_REF],
                    "responses": {"200": ok("Dead letters", {"type": "array", "items": _DEAD}),
                                  "404": error, **denied}}},
        f"{base}/destinations/{{ref}}/dead/replay": {
            "post": {**admin, "summary": "Queue dead letters again", "parameters": [_REF],
                     "requestBody": _CHOICE,
                     "responses": {"200": ok("How many", count), "400": error, "404": error,
                                   **denied}}},
        f"{base}/destinations/{{ref}}/dead/discard": {
            "post": {**admin, "summary": "Delete dead letters", "parameters": [_REF],
                     "requestBody": _CHOICE,
                     "responses": {"200": ok("How many", count), "400": error, "404": error,
                                   **denied}}},
        f"{base}/rules": {
            "get": {**admin, "summary": "Every forwarding rule",
                    "responses": {"200": ok("The rules", {"type": "array", "items": _RULE}),
                                  **denied}},
            "post": {**admin, "summary": "Add a rule",
                     "requestBody": body({
                         "type": "object", "required": ["destination"],
                         "additionalProperties": False, "properties": {
                             "destination": {"type": "string"},
                             "decision": {"enum": ["kept", "tallied"]},
                             "verbs": _STRINGS, "activity": {"type": "string"},
                             "credentials": _STRINGS}}),
                     "responses": {"201": ok("Added", _RULE), "400": error, "404": error,
                                   **denied}}},
        f"{base}/rules/{{rule}}": {
            "delete": {**admin, "summary": "Remove a rule", "parameters": [{
                "name": "rule", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"204": {"description": "Removed"}, "404": error, **denied}}},
        f"{base}/status": {
            "get": {**admin, "summary": "Per destination: queued, dead, delivered, lag, last "
                                        "error",
                    "responses": {"200": ok("The status", {"type": "array", "items": _STATUS}),
                                  **denied}}},
    }
