"""The lookup keys of a statement: what the engines index so every xAPI filter is a lookup."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from statements.models import VOIDED


@dataclass(frozen=True)
class StatementIndex:
    """Keys of one statement. `agents`/`activities` match the plain filters; the `related_`
    sets add what `related_agents` / `related_activities` widen the filter to."""

    verb: str
    activity: str | None  # the object's id when the object is an Activity
    registration: str | None
    ref_target: str | None  # the id a StatementRef object points at
    voiding: bool
    authority: str | None  # the authority's agent key, for statements/read/mine
    agents: frozenset[str]
    related_agents: frozenset[str]
    related_activities: frozenset[str]


def agent_key(agent: dict[str, Any]) -> str | None:
    """One string per inverse functional identifier, so agents compare as strings.

    E-mail domains are case-insensitive (Data §2.3.1.b7) and are folded to lower case.
    """
    if "mbox" in agent:
        local, _, domain = agent["mbox"].rpartition("@")
        return f"mbox:{local}@{domain.lower()}"
    if "mbox_sha1sum" in agent:
        return f"mbox_sha1sum:{agent['mbox_sha1sum'].lower()}"
    if "openid" in agent:
        return f"openid:{agent['openid']}"
    if "account" in agent:
        account = agent["account"]
        return f"account:{account['homePage']}|{account['name']}"
    return None


def actor_keys(actor: dict[str, Any]) -> Iterator[str]:
    """The keys that match an Agent, or a Group and each of its members (Comm. §2.1.3)."""
    key = agent_key(actor)
    if key is not None:
        yield key
    for member in actor.get("member", ()):
        member_key = agent_key(member)
        if member_key is not None:
            yield member_key


def index_statement(statement: dict[str, Any]) -> StatementIndex:
    """Compute the lookup keys of a validated, enriched statement."""
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    context = statement.get("context", {})
    agents = set(actor_keys(statement["actor"]))
    if kind in ("Agent", "Group"):
        agents.update(actor_keys(obj))
    related_agents = set(agents)
    related_agents.update(actor_keys(statement.get("authority", {})))
    related_agents.update(_context_agent_keys(context))
    related_activities = set(_context_activity_ids(context))
    if kind == "Activity":
        related_activities.add(obj["id"])
    elif kind == "SubStatement":
        # related_* reach into the SubStatement's actor, object and context (Comm. §2.1.3).
        related_agents.update(actor_keys(obj["actor"]))
        sub_object = obj["object"]
        sub_kind = sub_object.get("objectType", "Activity")
        if sub_kind in ("Agent", "Group"):
            related_agents.update(actor_keys(sub_object))
        elif sub_kind == "Activity":
            related_activities.add(sub_object["id"])
        sub_context = obj.get("context", {})
        related_agents.update(_context_agent_keys(sub_context))
        related_activities.update(_context_activity_ids(sub_context))
    verb = statement["verb"]["id"]
    return StatementIndex(
        verb=verb,
        activity=obj["id"] if kind == "Activity" else None,
        registration=_lower(context.get("registration")),
        ref_target=obj["id"].lower() if kind == "StatementRef" else None,
        voiding=verb == VOIDED,
        authority=agent_key(statement.get("authority", {})),
        agents=frozenset(agents),
        related_agents=frozenset(related_agents),
        related_activities=frozenset(related_activities),
    )


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _context_agent_keys(context: dict[str, Any]) -> Iterable[str]:
    for key in ("instructor", "team"):
        if key in context:
            yield from actor_keys(context[key])
    for entry in context.get("contextAgents", ()):  # xAPI 2.0
        yield from actor_keys(entry["agent"])
    for entry in context.get("contextGroups", ()):
        yield from actor_keys(entry["group"])


def _context_activity_ids(context: dict[str, Any]) -> Iterable[str]:
    for value in context.get("contextActivities", {}).values():
        for activity in value if isinstance(value, list) else [value]:
            yield activity["id"]
