"""The OpenAPI paths of the space's export and import as signed credentials (lrs/api/vc.py)."""

from __future__ import annotations

from typing import Any

_LISTED: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "issuer", "proofs", "verified", "file", "space_item"],
    "properties": {
        "id": {"type": "string", "description": "The credential's id"},
        "type": {"type": "array", "items": {"type": "string"},
                 "description": "OpenBadgeCredential or ClrCredential, after "
                                "VerifiableCredential"},
        "name": {"type": ["string", "null"]},
        "issuer": {"type": "string", "description": "The issuer's DID"},
        "proofs": {"type": "array", "items": {"enum": ["eddsa-rdfc-2022", "vc-jwt"]},
                   "description": "The proofs that verified"},
        "verified": {"type": "string", "format": "date-time",
                     "description": "When it was verified, on import"},
        "file": {"type": "string", "description": "Where in the zip it was"},
        "space_item": {"type": "string",
                       "description": "The id it has in the learner's space"}}}
_IMPORTED = {"type": "object", "required": ["imported"],
             "properties": {"imported": {"type": "array", "items": _LISTED}}}
_CREDENTIALS = {"type": "object", "required": ["credentials"],
                "properties": {"credentials": {"type": "array", "items": _LISTED}}}


def vc_paths(any_credential: list[dict[str, Any]], error: dict[str, Any]) -> dict[str, Any]:
    """GET /api/v1/space/export, POST /api/v1/space/import, GET /api/v1/space/credentials."""
    learner = ("Needs the `statements/read/mine` scope (a learner); the learner is the "
               "credential's authority Agent.")
    return {
        "/api/v1/space/export": {"get": {
            "summary": "The learner's record as signed credentials, the space as JSON and a "
                       "readable page, in one zip",
            "description": learner + " credentials/ holds an Open Badges 3.0 "
            "OpenBadgeCredential for each objective a manager assessed as met (aligned to "
            "its CASE item, evidence embedded) and a CLR 2.0 ClrCredential bundling them, each "
            "as JSON-LD with a Data Integrity `eddsa-rdfc-2022` proof and as a VC-JWT, signed "
            "by the issuer key (LRS_VC_ISSUER_KEY, LRS_VC_ISSUER_DID); space.json and "
            "record.html hold the space (docs/personal-space.md).",
            "security": any_credential,
            "responses": {"200": {"description": "The zip", "content": {"application/zip": {}}},
                          "400": error, "401": error, "403": error,
                          "409": {**error, "description": "The space is sealed and locked"}}}},
        "/api/v1/space/import": {"post": {
            "summary": "Import another LRS's export into the learner's space, verifying every "
                       "credential",
            "description": learner + " Each credential of the zip's credentials/ (JSON-LD "
            "and VC-JWT) must verify: its signature, that the key is one its issuer's DID "
            "(did:key, or did:web fetched over HTTPS) lists for assertions, its validity "
            "period, and every credential a CLR bundles. One that does not is a 400 naming "
            "the file and the JSON path, and nothing is imported.",
            "security": any_credential,
            "requestBody": {"required": True, "content": {"application/zip": {}}},
            "responses": {"200": {"description": "What was imported", "content": {
                "application/json": {"schema": _IMPORTED}}},
                "400": error, "401": error, "403": error, "413": error}}},
        "/api/v1/space/credentials": {"get": {
            "summary": "The credentials imported into the learner's space",
            "description": learner + " Each with the issuer's DID, the proofs that verified "
            "and when.",
            "security": any_credential,
            "responses": {"200": {"description": "The imported credentials", "content": {
                "application/json": {"schema": _CREDENTIALS}}},
                "401": error, "403": error,
                "409": {**error, "description": "The space is sealed and locked"}}}},
    }
