"""The OpenAPI paths of My own history (lrs/api/history.py, docs/personal-space.md)."""

from __future__ import annotations

from typing import Any

from lrs.api.openapi_admin import json_response as ok

_STATUS = {"type": "object", "required": ["keeping", "since", "sealed", "unlocked", "batches"],
           "properties": {
               "keeping": {"type": "boolean", "description": "Copies are being kept"},
               "since": {"type": ["string", "null"], "format": "date-time"},
               "sealed": {"type": "boolean", "description": "Your space is sealed (needed)"},
               "unlocked": {"type": "boolean",
                            "description": "Your space is unlocked in this session"},
               "batches": {"type": "integer",
                           "description": "Daily batches in your space (one a day while on, "
                                          "each of the same size)"}}}
_STOPPED = {"type": "object", "required": ["stopped", "pending_deleted", "status"],
            "properties": {"stopped": {"type": "integer"},
                           "pending_deleted": {"type": "integer"},
                           "batches_deleted": {"type": "integer"}, "status": _STATUS}}
_FLUSHED = {"type": "object", "properties": {
    "days": {"type": "array", "items": {"type": "integer"},
             "description": "The days flushed (days since 1970-01-01, UTC)"},
    **{name: {"type": "integer"} for name in ("batches", "copies", "carried", "discarded",
                                              "stopped")}}}


def history_paths(any_credential: list[dict[str, list[str]]], error: dict[str, Any]
                  ) -> dict[str, Any]:
    """The paths, with the document's security requirements and error answer."""
    mine = {"security": [{"session": []}],
            "description": "A signed-in person with the learner role whose sign-in carries "
                           "an xAPI agent (else 403); their own history only."}
    refused = {"400": error, "401": error, "403": error}

    def op(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {**mine, "summary": summary, "responses": {**responses, **refused}, **more}

    base = "/api/v1/space/history"
    return {
        base: {
            "get": op("Whether you keep your own history, since when, what your space holds",
                      {"200": ok("Your history's status", _STATUS)}),
            "post": op("Keep a sealed copy of your own tallied statements from now on "
                       "(off by default; your space must be sealed)",
                       {"200": ok("Keeping", _STATUS), "409": error}),
            "delete": op("Stop keeping it: copies waiting for the next batch are deleted; "
                         "with ?copy=delete, the copy in your space too",
                         {"200": ok("Stopped", _STOPPED)},
                         parameters=[{"name": "copy", "in": "query", "required": False,
                                      "schema": {"enum": ["keep", "delete"]},
                                      "description": "keep (the default) or delete the "
                                                     "copy in your space"}])},
        f"{base}/copy": {"delete": op(
            "Delete the copy in your space (keeping on, if it is on)",
            {"200": ok("Deleted", {"type": "object", "properties": {
                "batches_deleted": {"type": "integer"}, "status": _STATUS}})})},
        f"{base}/statements": {"get": op(
            "Your copy: the statements about you that were tallied, oldest first (your space "
            "unlocked in this session, else 409)",
            {"200": ok("The statements", {"type": "object", "required": ["statements"],
                                          "properties": {"statements": {
                                              "type": "array", "items": {"type": "object"}}}}),
             "409": error})},
        "/api/v1/admin/space/history/flush": {"post": {
            "summary": "Flush the closed days of every opted-in learner's history now (the "
                       "server does it daily by itself)",
            "security": any_credential, "description": "Needs the `admin` scope.",
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "properties": {
                    "through_today": {"type": "boolean", "description":
                                      "Today too: what comes later today waits for "
                                      "tomorrow's batch"}}}}}},
            "responses": {"200": ok("What was flushed", _FLUSHED), "400": error,
                          "401": error, "403": error}}},
    }
