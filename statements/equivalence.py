"""Statement equivalence (Data §2.3.1, LRS book 4.2): the hash that decides 409 or no-op."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from statements.datatypes import normalise_timestamp, truncate_duration
from statements.errors import InvalidRequest, Problem

# Properties the LRS sets or that do not count when comparing (D2.3.1.b1-b7, L4.2).
_IGNORED = ("id", "stored", "authority", "version", "attachments")


def content_hash(statement: dict[str, Any]) -> str:
    """SHA-256 of the statement's immutable part, as sent (before the LRS enriches it).

    Two statements with the same id are the same statement when their hashes are equal.
    Ignored: LRS-set properties, attachments, Verb display, Activity definitions, the order
    of Group members, timestamp serialization (instants compare), duration digits beyond
    0.01 s and the case of e-mail domains.
    """
    canonical = {k: v for k, v in statement.items() if k not in _IGNORED}
    try:
        serialised = orjson.dumps(_statement(canonical), option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson, like the stores, holds integers of up to 64 bits
        raise InvalidRequest("a number in the statement is too large (over 64 bits)",
                             (Problem("$", "integer out of range"),)) from None
    return hashlib.sha256(serialised).hexdigest()


def _statement(statement: dict[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    out["actor"] = _actor(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _object(statement["object"])
    if "timestamp" in statement:
        out["timestamp"] = normalise_timestamp(statement["timestamp"])
    if "context" in statement:
        out["context"] = _context(statement["context"])
    duration = statement.get("result", {}).get("duration")
    if duration is not None:
        out["result"] = {**statement["result"], "duration": truncate_duration(duration)}
    return out


def _actor(actor: dict[str, Any]) -> dict[str, Any]:
    out = dict(actor)
    if "mbox" in out:
        local, _, domain = out["mbox"].rpartition("@")
        out["mbox"] = f"{local}@{domain.lower()}"
    if "member" in out:
        members = [_actor(m) for m in out["member"]]
        out["member"] = sorted(members, key=lambda m: orjson.dumps(m, option=orjson.OPT_SORT_KEYS))
    return out


def _object(obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return {"objectType": "Activity", "id": obj["id"]}
    if kind in ("Agent", "Group"):
        return _actor(obj)
    if kind == "SubStatement":
        return _statement(obj)
    return obj


def _context(context: dict[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for key in ("instructor", "team"):
        if key in out:
            out[key] = _actor(out[key])
    activities = out.get("contextActivities")
    if activities is not None:
        out["contextActivities"] = {
            kind: [a["id"] for a in (value if isinstance(value, list) else [value])]
            for kind, value in activities.items()
        }
    return out
