"""Managing forwarding, shared by the admin API and the CLI: validated destinations and rules,
the status an admin reads, replay and discard of dead letters (each change audited)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lrs.admin.audit import record_action
from lrs.forwarding import DeadLetter, Destination, DestinationStatus, Rule
from lrs.storage import Storage
from statements.errors import InvalidRequest, NotFound, Problem
from statements.parsing import json_path

M = TypeVar("M", bound=BaseModel)


class NewDestination(BaseModel):
    """The body of POST /admin/forwarding/destinations."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")
    kind: Literal["xapi", "webhook"]
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)
    secret: str = Field(min_length=1, max_length=1000)  # the password, or the HMAC secret
    username: str = Field("", max_length=200)
    xapi_version: Literal["1.0.3", "2.0.0"] = "1.0.3"


class NewRule(BaseModel):
    """The body of POST /admin/forwarding/rules."""

    model_config = ConfigDict(strict=True, extra="forbid")

    destination: str = Field(min_length=1)  # its id or name
    decision: Literal["kept", "tallied"] = "kept"
    verbs: list[str] = Field(default_factory=list, max_length=100)
    activity: str = Field("", max_length=2000)  # an IRI, or a prefix ending with *
    credentials: list[str] = Field(default_factory=list, max_length=100)


def parse(model: type[M], body: bytes, what: str) -> M:
    """The validated body; InvalidRequest names each JSON path that is wrong."""
    try:
        return model.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise InvalidRequest(f"invalid {what}", tuple(
            Problem(json_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False))
        ) from None


def describe_destination(destination: Destination) -> dict[str, Any]:
    """A destination as the API shows it: never its secret."""
    return {"id": destination.id, "name": destination.name, "kind": destination.kind,
            "url": destination.url, "username": destination.username,
            "xapi_version": destination.xapi_version, "created": destination.created}


def describe_rule(rule: Rule) -> dict[str, Any]:
    """A rule as the API shows it."""
    return {"id": rule.id, "destination": rule.destination, "decision": rule.decision,
            "verbs": list(rule.verbs), "activity": rule.activity,
            "credentials": list(rule.credentials), "created": rule.created}


def describe_status(status: DestinationStatus, name: str, now_ms: int) -> dict[str, Any]:
    """A destination's delivery: queued, dead letters, lag (age of the oldest), last error."""
    return {"destination": status.destination, "name": name, "queued": status.queued,
            "dead": status.dead, "delivered": status.delivered,
            "lag_seconds": round((now_ms - status.oldest_ms) / 1000, 3)
            if status.oldest_ms is not None else 0.0,
            "last_error": status.last_error, "last_error_at": _iso(status.last_error_ms),
            "last_delivered_at": _iso(status.last_delivered_ms)}


def describe_dead(dead: DeadLetter) -> dict[str, Any]:
    """A dead letter: what it carries (a statement id, or an anonymous hit) and why."""
    return {"key": dead.key, "statement_id": dead.statement_id, "hit": dead.hit,
            "attempts": dead.attempts, "created": _iso(dead.created_ms),
            "last_error": dead.last_error}


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


async def find_destination(storage: Storage, ref: str, where: str = "path") -> Destination:
    """The destination with id or name `ref`; NotFound otherwise."""
    for destination in await storage.forwarding.destinations():
        if ref in (destination.id, destination.name):
            return destination
    raise NotFound(f"no forwarding destination {ref!r}", (Problem(where, "unknown"),))


async def add_destination(storage: Storage, sent: NewDestination, *, operator: str,
                          now_ms: int) -> Destination:
    """Store a new destination; a name already used is a 400 naming `$.name`."""
    if any(d.name == sent.name for d in await storage.forwarding.destinations()):
        raise InvalidRequest("invalid destination", (Problem("$.name", "already used"),))
    destination = Destination(str(uuid.uuid4()), sent.name, sent.kind, sent.url, sent.secret,
                              sent.username, sent.xapi_version, _iso(now_ms) or "")
    await storage.forwarding.add_destination(destination)
    await record_action(storage, "forwarding_change", operator=operator, now_ms=now_ms,
                        detail={"destination": sent.name, "change": "add"})
    return destination


async def remove_destination(storage: Storage, ref: str, *, operator: str, now_ms: int) -> None:
    """Remove a destination, its rules and its outbox items."""
    destination = await find_destination(storage, ref)
    await storage.forwarding.remove_destination(destination.id)
    await record_action(storage, "forwarding_change", operator=operator, now_ms=now_ms,
                        detail={"destination": destination.name, "change": "remove"})


async def add_rule(storage: Storage, sent: NewRule, *, operator: str, now_ms: int) -> Rule:
    """Store a new rule. DESIGN §6: a tallied statement leaves only as its anonymous hit,
    which only a webhook takes (an xAPI LRS takes statements)."""
    destination = await find_destination(storage, sent.destination, "$.destination")
    if sent.decision == "tallied" and destination.kind != "webhook":
        raise InvalidRequest("invalid rule", (Problem(
            "$.decision", "tallied hits can be forwarded to a webhook only"),))
    for index, verb in enumerate(sent.verbs):
        if ":" not in verb:
            raise InvalidRequest("invalid rule", (Problem(f"$.verbs[{index}]", "not an IRI"),))
    if sent.activity and ":" not in sent.activity:
        raise InvalidRequest("invalid rule", (Problem("$.activity",
                                                      "not an IRI or IRI prefix ending in *"),))
    rule = Rule(str(uuid.uuid4()), destination.id, sent.decision, tuple(sent.verbs),
                sent.activity, tuple(sent.credentials), _iso(now_ms) or "")
    await storage.forwarding.add_rule(rule)
    await record_action(storage, "forwarding_change", operator=operator, now_ms=now_ms,
                        detail={"destination": destination.name, "change": "add rule",
                                "rule": rule.id})
    return rule


async def remove_rule(storage: Storage, rule_id: str, *, operator: str, now_ms: int) -> None:
    """Remove a rule; NotFound when there is none with this id."""
    if not await storage.forwarding.remove_rule(rule_id):
        raise NotFound(f"no forwarding rule {rule_id!r}", (Problem("path", "unknown"),))
    await record_action(storage, "forwarding_change", operator=operator, now_ms=now_ms,
                        detail={"change": "remove rule", "rule": rule_id})


async def status(storage: Storage, now_ms: int) -> list[dict[str, Any]]:
    """Every destination's delivery status."""
    names = {d.id: d.name for d in await storage.forwarding.destinations()}
    return [describe_status(s, names.get(s.destination, s.destination), now_ms)
            for s in await storage.forwarding.status()]


async def replay_or_discard(storage: Storage, ref: str, keys: list[str] | None, *,
                            discard: bool, operator: str, now_ms: int) -> int:
    """Queue a destination's dead letters again (or delete them); how many."""
    destination = await find_destination(storage, ref)
    if discard:
        done = await storage.forwarding.discard(destination.id, keys)
    else:
        done = await storage.forwarding.replay(destination.id, keys, now_ms=now_ms)
    await record_action(storage, "forwarding_change", operator=operator, now_ms=now_ms,
                        detail={"destination": destination.name,
                                "change": "discard" if discard else "replay"},
                        counts={"items": done})
    return done
