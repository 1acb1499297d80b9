"""The OpenAPI paths of evidence, self-ratings and sharing (lrs/api/sharing.py)."""

from __future__ import annotations

from typing import Any

from lrs.api.openapi_admin import json_response

_ISO = {"type": "string", "format": "date-time"}
_ISO_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_SESSION: list[dict[str, list[str]]] = [{"session": []}]
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_LINK = {"type": "object", "required": ["id", "kind", "ref", "title", "at"], "properties": {
    "id": {"type": "string"}, "kind": {"enum": ["entry", "statement", "file"]},
    "ref": {"type": "string"}, "title": {"type": "string"}, "at": _ISO}}
_RATING = {"type": "object", "required": ["level", "label", "note", "at"], "properties": {
    "level": {"type": "integer", "minimum": 1, "maximum": 4}, "label": {"type": "string"},
    "note": {"type": "string"}, "at": _ISO}}
_OBJECTIVE = {
    "type": "object", "required": ["objective", "title", "links", "rating", "ratings",
                                   "history"],
    "properties": {
        "objective": {"type": "string", "description": "The objective's IRI"},
        "title": {"type": "string"}, "links": {"type": "array", "items": _LINK},
        "rating": {"oneOf": [_RATING, {"type": "null"}], "description": "The latest"},
        "ratings": {"type": "array", "items": _RATING, "description": "Every one, oldest "
                    "first"},
        "history": {"type": "array", "description": "Every change, oldest first", "items": {
            "type": "object", "properties": {"at": _ISO, "change": {
                "enum": ["linked", "unlinked", "rated"]}, "detail": {"type": "string"}}}}}}
_GRANT = {
    "type": "object", "required": ["id", "objective", "objective_title", "kind", "grantee",
                                   "created", "starts", "expires", "revoked", "state"],
    "properties": {
        "id": {"type": "string"}, "objective": {"type": "string"},
        "objective_title": {"type": "string"}, "kind": {"enum": ["person", "link"]},
        "grantee": {"type": "string", "description": "Whom it was granted to, as the "
                    "learner named them, or a link's label"},
        "created": _ISO, "starts": _ISO, "expires": _ISO, "revoked": _ISO_OR_NULL,
        "state": {"enum": ["live", "revoked", "expired", "not started"]},
        "url": {"type": "string", "description": "A new link's address, in this answer "
                "only: the LRS keeps only its token's hash"}}}
_READ = {"type": "object", "required": ["grant", "reader", "at", "what"], "properties": {
    "grant": {"type": "string"}, "reader": {"type": "string"}, "at": _ISO,
    "what": {"type": "string"}}}
_SHARED: dict[str, Any] = {
    "type": "object", "required": ["id", "learner", "objective", "objective_title", "created",
                                   "expires"],
    "properties": {"id": {"type": "string"}, "learner": {"type": "string"},
                   "objective": {"type": "string"}, "objective_title": {"type": "string"},
                   "created": _ISO, "expires": _ISO}}
_SNAPSHOT = {"type": "object", "description": "The evidence as the learner's space held it "
             "when they granted it: objective, rating, ratings, evidence (each with kind, "
             "ref, title and its text)", "required": ["objective", "evidence"]}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False, **schema}}}}


def sharing_paths(error: dict[str, Any]) -> dict[str, Any]:
    """Evidence and self-ratings (the learner's, kept in their space), grants and share
    links, the read log, and what a manager was granted (docs/personal-space.md)."""
    learner = "Needs a signed-in person with the `learner` role and an xAPI agent."
    manager = "Needs a signed-in person with the `manager` role and an xAPI agent."
    errors = {"400": error, "401": error, "403": error, "404": error}

    def op(summary: str, description: str, responses: dict[str, Any],
           **more: Any) -> dict[str, Any]:
        return {"summary": summary, "description": description, "security": _SESSION,
                "responses": {**responses, **errors}, **more}

    return {
        "/api/v1/evidence": {"get": op(
            "The learner's objectives, each with its evidence, self-rating and history",
            f"{learner} Read from the learner's space (a sealed space must be unlocked).",
            {"200": json_response("Their objectives", {"type": "array",
                                                       "items": _OBJECTIVE})})},
        "/api/v1/evidence/links": {"post": op(
            "Link evidence to an objective", f"{learner} An entry of their space, a "
            "statement kept about them, or a file of their space; kept in the space.",
            {"201": json_response("The change made", _LINK)},
            requestBody=_body({"required": ["objective", "kind", "ref"], "properties": {
                "objective": {"type": "string"},
                "kind": {"enum": ["entry", "statement", "file"]},
                "ref": {"type": "string"}, "title": {"type": "string"}}}))},
        "/api/v1/evidence/links/{id}": {"delete": op(
            "Remove an evidence link (its history keeps it)", learner,
            {"204": {"description": "Removed"}}, parameters=[_ID])},
        "/api/v1/evidence/ratings": {"post": op(
            "Rate oneself against an objective (1 to 4, with a note)",
            f"{learner} Every rating is kept; the latest is the current one.",
            {"201": json_response("The change made", {"type": "object"})},
            requestBody=_body({"required": ["objective", "level"], "properties": {
                "objective": {"type": "string"},
                "level": {"type": "integer", "minimum": 1, "maximum": 4},
                "note": {"type": "string"}}}))},
        "/api/v1/grants": {
            "get": op("The learner's grants and share links, and who read what",
                      f"{learner} Newest first.",
                      {"200": json_response("Grants and reads", {
                          "type": "object", "required": ["grants", "reads"], "properties": {
                              "grants": {"type": "array", "items": _GRANT},
                              "reads": {"type": "array", "items": _READ}}})}),
            "post": op("Grant one person read access to one objective's evidence",
                       f"{learner} `grantee` is the e-mail (or account name) they sign in "
                       "with; `expires` at most 366 days ahead. The evidence is copied now, "
                       "sealed with a key of this grant alone.",
                       {"201": json_response("The grant", _GRANT)},
                       requestBody=_body({"required": ["objective", "grantee", "expires"],
                                          "properties": {"objective": {"type": "string"},
                                                         "grantee": {"type": "string"},
                                                         "expires": _ISO}}))},
        "/api/v1/grants/links": {"post": op(
            "Make a secret share link to one objective's evidence",
            f"{learner} Readable by whoever holds it at /share/<token> from `starts` until "
            "`ends`; the address is in this answer only.",
            {"201": json_response("The link, with its address", _GRANT)},
            requestBody=_body({"required": ["objective", "label", "starts", "ends"],
                               "properties": {"objective": {"type": "string"},
                                              "label": {"type": "string"},
                                              "starts": _ISO, "ends": _ISO}}))},
        "/api/v1/grants/{id}": {"delete": op(
            "Revoke a grant or link now (its key is destroyed)", learner,
            {"204": {"description": "Revoked"}}, parameters=[_ID])},
        "/api/v1/shared": {"get": op(
            "What learners granted to the manager signed in, live now", manager,
            {"200": json_response("Live grants", {"type": "array", "items": _SHARED})})},
        "/api/v1/shared/{id}": {"get": op(
            "Read one grant's evidence (logged for the learner)",
            f"{manager} 404 unless it was granted to them; 403 once revoked or expired.",
            {"200": json_response("The grant and its evidence", {
                **_SHARED, "properties": {**_SHARED["properties"], "evidence": _SNAPSHOT}})},
            parameters=[_ID])},
        "/api/v1/shared/{id}/assessment": {"post": op(
            "Assess the learner against the granted objective",
            f"{manager} Recorded as a kept xAPI statement (actor the learner, object the "
            "objective, the manager as instructor and authority); the evidence's kept "
            "statements are its context statement references. The read is logged.",
            {"201": json_response("The statement recorded", {
                "type": "object", "required": ["statement", "grant", "outcome"],
                "properties": {"statement": {"type": "string", "format": "uuid"},
                               "grant": {"type": "string"},
                               "outcome": {"enum": ["met", "not_yet"]}}})},
            parameters=[_ID],
            requestBody=_body({"required": ["outcome"], "properties": {
                "outcome": {"enum": ["met", "not_yet"]}, "comment": {"type": "string"}}}))},
    }
