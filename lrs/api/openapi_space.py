"""The OpenAPI paths of a learner's own space (lrs/api/space.py, docs/personal-space.md)."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string", "maxLength": 20000}
_INPUT = {"type": "object", "additionalProperties": False, "required": ["kind", "title"],
          "properties": {
              "kind": {"enum": ["experience", "resource", "meeting", "plan"]},
              "title": {"type": "string", "minLength": 1, "maxLength": 200},
              "occurred": {"type": "string", "format": "date",
                           "description": "When it happened (default: the day recorded)"},
              "reflection": {"type": "object", "additionalProperties": False, "properties": {
                  "happened": _TEXT, "learned": _TEXT, "next": _TEXT},
                  "description": "What happened, what I learned, what I will do"},
              "tags": {"type": "array", "maxItems": 30,
                       "items": {"type": "string", "minLength": 1, "maxLength": 60}},
              "links": {"type": "array", "maxItems": 30,
                        "items": {"type": "string", "pattern": "^https?://"}}}}
_FILE = {"type": "object", "required": ["id", "name", "media_type", "size", "sha256"],
         "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                        "media_type": {"type": "string"}, "size": {"type": "integer"},
                        "sha256": {"type": "string"}}}
_ENTRY = {"type": "object", "required": ["id", "kind", "title", "reflection", "tags", "links",
                                         "files", "created", "updated", "statement"],
          "properties": {**_INPUT["properties"],  # type: ignore[dict-item]
                         "occurred": {"type": ["string", "null"], "format": "date"},
                         "id": {"type": "string"},
                         "created": {"type": "string", "format": "date-time"},
                         "updated": {"type": "string", "format": "date-time"},
                         "files": {"type": "array", "items": _FILE},
                         "statement": {"type": "object", "description":
                                       "The entry as an xAPI statement: actor and authority "
                                       "the learner; kept only inside the space"}}}
_STATUS = {"type": "object", "required": ["exists", "mode", "unlocked"], "properties": {
    "exists": {"type": "boolean"}, "mode": {"enum": ["envelope", "sealed", None]},
    "unlocked": {"type": "boolean"}, "entries": {"type": "integer"},
    "unlock_idle_seconds": {"type": "integer"}, "file_max_bytes": {"type": "integer"}}}
_SECRET = {"type": "string", "minLength": 1, "maxLength": 1024}
_CODE = {"type": "object", "required": ["recovery_code"], "properties": {
    "recovery_code": {"type": "string", "description": "Shown this once: the LRS keeps "
                                                      "only what it wraps"},
    "unlocked": {"type": "boolean"}, "mode": {"type": "string"}}}


def space_paths(error: dict[str, Any]) -> dict[str, Any]:
    """The paths, with the document's error answer. Only a signed-in learner's session is
    let in, to their own space only."""
    mine = {"security": [{"session": []}],
            "description": "A signed-in person with the learner role whose sign-in carries "
                           "an xAPI agent (else 403); their own space only."}
    refused = {"400": error, "401": error, "403": error, "404": error, "409": error}

    def ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"description": description,
                **({"content": {"application/json": {"schema": schema}}} if schema else {})}

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def op(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {**mine, "summary": summary, "responses": {**responses, **refused}, **more}

    passphrase = body({"type": "object", "additionalProperties": False,
                       "required": ["passphrase"], "properties": {"passphrase": _SECRET}})
    entry = {"name": "entry", "in": "path", "required": True, "schema": {"type": "string"}}
    file = {"name": "file", "in": "path", "required": True, "schema": {"type": "string"}}
    base = "/api/v1/space"
    return {
        base: {
            "get": op("Whether you have a space, its mode, whether it is unlocked here",
                      {"200": ok("The space's status", _STATUS)}),
            "post": op("Make your space (envelope mode: encrypted under a key of its own)",
                       {"201": ok("Made", _STATUS)}),
            "delete": op("Delete your space and its key: nothing of it can be read again, "
                         "from any copy", {"204": ok("Deleted")})},
        f"{base}/seal": {"post": op(
            "Turn on sealed mode: a key pair whose private key only your passphrase (or the "
            "recovery code answered once) unwraps",
            {"200": ok("Sealed and unlocked", _CODE), "429": error},
            requestBody=passphrase)},
        f"{base}/unlock": {"post": op(
            "Unlock a sealed space for this session (until idle, locked or signed out)",
            {"200": ok("Unlocked", {"type": "object"}), "429": error},
            requestBody=passphrase)},
        f"{base}/lock": {"post": op("Lock the space in this session",
                                    {"204": ok("Locked")})},
        f"{base}/recover": {"post": op(
            "Set a new passphrase with the recovery code, which is spent; answers a new one",
            {"200": ok("Recovered and unlocked", _CODE), "429": error},
            requestBody=body({"type": "object", "additionalProperties": False,
                              "required": ["recovery_code", "passphrase"],
                              "properties": {"recovery_code": _SECRET,
                                             "passphrase": _SECRET}}))},
        f"{base}/passphrase": {"post": op(
            "Change the passphrase of a sealed space (the recovery code stays)",
            {"200": ok("Changed, and unlocked", {"type": "object"}), "429": error},
            requestBody=body({"type": "object", "additionalProperties": False,
                              "required": ["passphrase", "new_passphrase"],
                              "properties": {"passphrase": _SECRET,
                                             "new_passphrase": _SECRET}}))},
        f"{base}/entries": {
            "get": op("Your entries, the latest first", {"200": ok("The entries", {
                "type": "object", "required": ["entries"],
                "properties": {"entries": {"type": "array", "items": _ENTRY}}})}),
            "post": op("Record an entry (the space is made with the first one)",
                       {"201": ok("Recorded", _ENTRY), "413": error},
                       requestBody=body(_INPUT))},
        f"{base}/entries/{{entry}}": {
            "get": op("One entry", {"200": ok("The entry", _ENTRY)}, parameters=[entry]),
            "put": op("Change an entry (its files stay)", {"200": ok("Changed", _ENTRY),
                                                            "413": error},
                      parameters=[entry], requestBody=body(_INPUT)),
            "delete": op("Delete an entry and its files", {"204": ok("Deleted")},
                         parameters=[entry])},
        f"{base}/entries/{{entry}}/files": {"post": op(
            "Attach the body as a file of the entry (its Content-Type kept; at most "
            "LRS_SPACE_FILE_MAX_BYTES)", {"201": ok("The entry with the file", _ENTRY),
                                          "413": error},
            parameters=[entry, {"name": "name", "in": "query", "required": True,
                                "schema": {"type": "string"}, "description": "File name"}],
            requestBody={"required": True, "content": {"*/*": {}}})},
        f"{base}/entries/{{entry}}/files/{{file}}": {
            "get": op("Download a file of an entry (always as an attachment)",
                      {"200": {"description": "The file", "content": {"*/*": {}}}},
                      parameters=[entry, file]),
            "delete": op("Remove a file from an entry", {"200": ok("The entry", _ENTRY)},
                         parameters=[entry, file])},
    }
