"""Canonical Activity definitions (Data §2.4.4.1.s4, Communication §2.5) and Persons (§2.4)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from statements.indexing import agent_key
from statements.models import IFI_KEYS

_LANGUAGE_MAPS = ("name", "description")


class ActivityStore(Protocol):
    """Keeps the LRS's canonical definition of each Activity."""

    async def definitions(self, activity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The canonical definitions held for these ids (unknown ids are left out)."""
        ...

    async def merge(self, definitions: dict[str, dict[str, Any]]) -> None:
        """Merge these definitions into the canonical ones, atomically per activity."""
        ...


def merge_definition(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The canonical definition after a statement brings `new` (D2.4.4.1.s4.b3-b5).

    Language maps and extensions gain the new entries (a statement in fr-FR does not erase
    the en-US name, CTS XAPI-00254); every other property takes the newest value.
    """
    merged = {**old, **new}
    for key in (*_LANGUAGE_MAPS, "extensions"):
        if key in old and key in new:
            merged[key] = {**old[key], **new[key]}
    return merged


def activities_in(statement: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Activity object in a statement: object, context activities, SubStatement's."""
    yield from _activities(statement)
    if statement["object"].get("objectType") == "SubStatement":
        yield from _activities(statement["object"])


def _activities(part: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if part["object"].get("objectType", "Activity") == "Activity":
        yield part["object"]
    for value in part.get("context", {}).get("contextActivities", {}).values():
        yield from value if isinstance(value, list) else [value]


def definitions_in(statements: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The definitions a batch carries, merged in order, by activity id."""
    found: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for activity in activities_in(statement):
            if activity.get("definition"):
                found[activity["id"]] = merge_definition(found.get(activity["id"], {}),
                                                         activity["definition"])
    return found


def canonical_activity(activity_id: str, definition: dict[str, Any] | None) -> dict[str, Any]:
    """The Activity the Activities resource returns, even for an unknown id (LRS 4.1.6.4)."""
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return activity


def person_for(agent: dict[str, Any], seen: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The Person object (Communication §2.4.s5-s6) for `agent`: its identifier and every
    name it was given in `seen` (agents from kept statements with the same identifier)."""
    key = agent_key(agent)
    names: list[str] = [agent["name"]] if "name" in agent else []
    for other in seen:
        if agent_key(other) == key and "name" in other and other["name"] not in names:
            names.append(other["name"])
    person: dict[str, Any] = {"objectType": "Person"}
    if names:
        person["name"] = names
    for ifi in IFI_KEYS:
        if ifi in agent:
            person[ifi] = [agent[ifi]]
    return person


def agents_in(statement: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The actor, an Agent object and Group members of a statement."""
    obj = statement["object"]
    for candidate in (statement["actor"], obj if obj.get("objectType") in ("Agent", "Group")
                      else {}):
        if candidate:
            yield candidate
            yield from candidate.get("member", ())
