"""Reading a 1EdTech CASE 1.0 / 1.1 CFPackage (JSON) into a Framework.

What is read (CASE 1.0 Information Model §4; 1.1 keeps these fields): the `CFDocument`
(identifier, uri, title, creator, publisher, description, version, language, licenseURI),
every `CFItems` entry (identifier, uri, fullStatement, abbreviatedStatement,
humanCodingScheme, CFItemType, notes) and the `CFAssociations` of type `isChildOf`, whose
origin is the child and destination the parent (an item, or the document for a top-level
item), ordered by `sequenceNumber` where given, else as the items are listed. Other
association types (exactMatchOf, isRelatedTo, precedes, ...) relate items to other
frameworks: they are not a tree and are ignored. A package may come wrapped as
`{"CFPackage": {...}}`. An item with several parents (CASE allows reuse) is placed under
the first by sequence number.

An objective's IRI is its CFItem `uri` (what an xAPI statement or an Open Badges
alignment points at); its title is the abbreviatedStatement when there is one, else the
fullStatement, and its description the fullStatement (when the title is the abbreviation)
or else the notes.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from lrs.objectives import Format, Framework, Objective
from lrs.objectives.loading import (
    Node,
    framework_id,
    iri,
    language,
    parse_json,
    required_text,
    text,
    tree,
)
from statements.errors import InvalidRequest, Problem

CHILD_OF = "isChildOf"


def is_case(document: dict[str, Any]) -> bool:
    """Whether a JSON object looks like a CFPackage (so an upload need not say)."""
    inner = document.get("CFPackage", document)
    return isinstance(inner, dict) and "CFDocument" in inner


def load_case(body: bytes, *, now: datetime, source: str | None = None) -> Framework:
    """The framework a CFPackage describes; InvalidRequest names the JSON path of what is
    wrong (`$.CFItems[3].uri`, `$.CFAssociations[7].destinationNodeURI.identifier`)."""
    document = parse_json(body)
    root = "$"
    if "CFPackage" in document and "CFDocument" not in document:
        document, root = document["CFPackage"], "$.CFPackage"
        if not isinstance(document, dict):
            raise InvalidRequest("the CFPackage is not an object", (
                Problem(root, "must be a JSON object"),))
    cf_document = _object(document.get("CFDocument"), f"{root}.CFDocument")
    doc_where = f"{root}.CFDocument"
    doc_id = framework_id(required_text(cf_document.get("identifier"),
                                        f"{doc_where}.identifier"), f"{doc_where}.identifier")
    items = _array(document.get("CFItems"), f"{root}.CFItems", required=True)
    associations = _array(document.get("CFAssociations"), f"{root}.CFAssociations")
    by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    by_uri: dict[str, str] = {}
    for position, raw in enumerate(items):
        item = _object(raw, f"{root}.CFItems[{position}]")
        identifier = required_text(item.get("identifier"),
                                   f"{root}.CFItems[{position}].identifier")
        if identifier in by_id:
            raise InvalidRequest("two CFItems have the same identifier", (Problem(
                f"{root}.CFItems[{position}].identifier",
                f"{identifier} is also $.CFItems[{by_id[identifier][0]}]"),))
        by_id[identifier] = (position, item)
        if isinstance(item.get("uri"), str):
            by_uri[item["uri"]] = identifier
    doc_uri = cf_document.get("uri")
    parents = _parents(associations, f"{root}.CFAssociations", by_id, by_uri,
                       doc_id, doc_uri if isinstance(doc_uri, str) else None)
    nodes = []
    for identifier, (position, item) in by_id.items():
        where = f"{root}.CFItems[{position}]"
        parent, sequence, parent_where = parents.get(identifier, (None, math.inf, where))
        full = required_text(item.get("fullStatement"), f"{where}.fullStatement")
        short = text(item.get("abbreviatedStatement"), f"{where}.abbreviatedStatement")
        nodes.append(Node(Objective(
            iri=iri(item.get("uri"), f"{where}.uri"), title=short or full,
            code=text(item.get("humanCodingScheme"), f"{where}.humanCodingScheme"),
            description=full if short else text(item.get("notes"), f"{where}.notes"),
            parent=None if parent is None else by_id[parent][1]["uri"],
            kind=text(item.get("CFItemType"), f"{where}.CFItemType")),
            where=where, parent_where=parent_where, order=(sequence, position)))
    licence = cf_document.get("licenseURI")
    return Framework(
        id=doc_id,
        iri=iri(doc_uri, f"{doc_where}.uri"),
        title=required_text(cf_document.get("title"), f"{doc_where}.title"),
        format=Format.CASE, objectives=tree(nodes), loaded=now,
        description=text(cf_document.get("description"), f"{doc_where}.description"),
        publisher=text(cf_document.get("publisher"), f"{doc_where}.publisher")
        or text(cf_document.get("creator"), f"{doc_where}.creator"),
        version=text(cf_document.get("version"), f"{doc_where}.version"),
        licence=_link(licence, f"{doc_where}.licenseURI"),
        language=language(cf_document.get("language"), f"{doc_where}.language"),
        source=source)


def _parents(associations: list[Any], where: str, by_id: dict[str, tuple[int, Any]],
             by_uri: dict[str, str], doc_id: str, doc_uri: str | None
             ) -> dict[str, tuple[str | None, float, str]]:
    """Each item's parent item identifier (None: the document), its sequence number and
    the path of the association that says so; the lowest sequence number wins."""
    found: dict[str, tuple[str | None, float, str]] = {}
    for position, raw in enumerate(associations):
        at = f"{where}[{position}]"
        association = _object(raw, at)
        if association.get("associationType") != CHILD_OF:
            continue
        child = _node(association.get("originNodeURI"), f"{at}.originNodeURI", by_uri)
        parent = _node(association.get("destinationNodeURI"), f"{at}.destinationNodeURI",
                       by_uri)
        if child not in by_id:
            raise InvalidRequest("an isChildOf association names an item not in CFItems", (
                Problem(f"{at}.originNodeURI.identifier", f"no CFItem {child}"),))
        if parent in (doc_id, doc_uri):
            parent_id: str | None = None
        elif parent in by_id:
            parent_id = parent
        else:
            raise InvalidRequest("an isChildOf association names a parent that is neither "
                                 "the CFDocument nor a CFItem", (
                                     Problem(f"{at}.destinationNodeURI.identifier",
                                             f"no CFItem {parent}"),))
        sequence = association.get("sequenceNumber")
        number = float(sequence) if isinstance(sequence, int | float) \
            and not isinstance(sequence, bool) else math.inf
        if child not in found or number < found[child][1]:
            found[child] = (parent_id, number, f"{at}.destinationNodeURI")
    return found


def _node(value: Any, where: str, by_uri: dict[str, str]) -> str:
    """A LinkURI's identifier (CASE §4.6: {title, identifier, uri}); by its uri when the
    identifier is missing."""
    link = _object(value, where)
    identifier = link.get("identifier")
    if isinstance(identifier, str) and identifier:
        return identifier
    uri = link.get("uri")
    if isinstance(uri, str) and uri:
        return by_uri.get(uri, uri)
    raise InvalidRequest("a LinkURI has neither identifier nor uri", (
        Problem(f"{where}.identifier", "required"),))


def _link(value: Any, where: str) -> str | None:
    """A LinkURI's uri (or its title), or a plain string (some publishers write one)."""
    if value is None or isinstance(value, str):
        return text(value, where)
    link = _object(value, where)
    return text(link.get("uri"), f"{where}.uri") or text(link.get("title"), f"{where}.title")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest("expected a JSON object", (
            Problem(where, "required: a JSON object" if value is None
                    else "must be a JSON object"),))
    return value


def _array(value: Any, where: str, *, required: bool = False) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("expected a JSON array", (
            Problem(where, "required: a JSON array" if value is None
                    else "must be a JSON array"),))
    return value
