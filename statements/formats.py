"""Rendering stored statements in the `exact`, `ids` and `canonical` formats (Comm. §2.1.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from statements.models import IFI_KEYS
from statements.query import Format

Definitions = Mapping[str, dict[str, Any]]


def render(statement: dict[str, Any], fmt: Format, languages: Sequence[str] = (),
           definitions: Definitions | None = None) -> dict[str, Any]:
    """Return the statement as the format asks.

    `languages` is the Accept-Language order; `definitions` the LRS's canonical Activity
    definitions, which the canonical format shows instead of the ones sent.
    """
    if fmt is Format.EXACT:
        return statement
    if fmt is Format.IDS:
        return _ids_statement(statement)
    return _canonical_statement(statement, languages, definitions or {})


def parse_accept_language(header: str | None) -> list[str]:
    """Language ranges from an Accept-Language header, most preferred first (RFC 2616 §14.4)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


# --- ids: only identifying data (Data §2.4.3.s6.b2; the CTS counts keys) ---------------------

def _ids_actor(actor: dict[str, Any]) -> dict[str, Any]:
    out = {k: actor[k] for k in ("objectType", *IFI_KEYS) if k in actor}
    if "member" in actor and not any(k in actor for k in IFI_KEYS):
        out["member"] = [_ids_actor(m) for m in actor["member"]]
    return out


def _ids_object(obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return {"id": obj["id"]}
    if kind in ("Agent", "Group"):
        return _ids_actor(obj)
    if kind == "SubStatement":
        return _ids_statement(obj)
    return obj


def _ids_statement(statement: dict[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    out["actor"] = _ids_actor(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _ids_object(statement["object"])
    if "authority" in statement:
        out["authority"] = _ids_actor(statement["authority"])
    if "context" in statement:
        context = dict(statement["context"])
        for key in ("instructor", "team"):
            if key in context:
                context[key] = _ids_actor(context[key])
        if "contextActivities" in context:
            context["contextActivities"] = {
                kind: [{"id": a["id"]} for a in value]
                for kind, value in context["contextActivities"].items()
            }
        out["context"] = context
    return out


# --- canonical: one language per map, chosen from Accept-Language (Comm. §2.1.3.s4) ----------

def _pick(language_map: dict[str, str], languages: Sequence[str]) -> dict[str, str]:
    if len(language_map) <= 1:
        return language_map
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted in languages:
        if wanted == "*":
            break
        if wanted in lowered:
            tag = lowered[wanted]
            return {tag: language_map[tag]}
        for candidate, tag in lowered.items():  # RFC 2616 prefix match: en matches en-GB
            if candidate.startswith(wanted + "-"):
                return {tag: language_map[tag]}
    first = next(iter(language_map))  # no acceptable language: one entry, never none
    return {first: language_map[first]}


def _canonical_definition(definition: dict[str, Any], languages: Sequence[str]) -> dict[str, Any]:
    out = dict(definition)
    for key in ("name", "description"):
        if key in out:
            out[key] = _pick(out[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        if key in out:
            out[key] = [
                {**c, "description": _pick(c["description"], languages)} if "description" in c
                else c
                for c in out[key]
            ]
    return out


def _canonical_activity(activity: dict[str, Any], languages: Sequence[str],
                        definitions: Definitions) -> dict[str, Any]:
    definition = definitions.get(activity["id"], activity.get("definition"))
    if definition is None:
        return activity
    return {**activity, "definition": _canonical_definition(definition, languages)}


def _canonical_statement(statement: dict[str, Any], languages: Sequence[str],
                         definitions: Definitions) -> dict[str, Any]:
    out = dict(statement)
    if "display" in statement["verb"]:
        out["verb"] = {**statement["verb"],
                       "display": _pick(statement["verb"]["display"], languages)}
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = _canonical_activity(obj, languages, definitions)
    elif kind == "SubStatement":
        out["object"] = _canonical_statement(obj, languages, definitions)
    context = statement.get("context")
    if context and "contextActivities" in context:
        out["context"] = {**context, "contextActivities": {
            kind: [_canonical_activity(a, languages, definitions) for a in value]
            for kind, value in context["contextActivities"].items()
        }}
    if "attachments" in statement:
        out["attachments"] = [
            {**a, "display": _pick(a["display"], languages)} for a in statement["attachments"]
        ]
    return out
