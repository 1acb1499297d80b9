"""Loading a framework of objectives: a CSV (id, title, description, parent) or the LRS's JSON,
and the tree checks every format shares (lrs.objectives.case reads CASE packages).

Every error is an InvalidRequest naming where the file is wrong: a JSON path (`$.objectives[3]
.parent`) or a CSV line and column (`line 7, column parent`). Nothing is stored unless the
whole file loads.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from lrs.objectives import Format, Framework, Objective
from statements.datatypes import is_iri, is_language_tag
from statements.errors import InvalidRequest, Problem

MAX_OBJECTIVES = 10_000
MAX_TEXT = 20_000  # characters of one title or description
FRAMEWORK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CSV_COLUMNS = ("id", "title", "description", "parent", "code")


@dataclass(frozen=True)
class Node:
    """An objective as a file gives it, before the tree is checked: `where` names it in
    messages, `order` sorts it among its siblings (CASE sequenceNumber; else file order)."""

    objective: Objective
    where: str
    parent_where: str
    order: tuple[float, int]


def framework_id(value: str | None, where: str) -> str:
    """A framework id given with the file, or a new one (a UUID)."""
    if value is None:
        return str(uuid.uuid4())
    if not FRAMEWORK_ID.fullmatch(value):
        raise InvalidRequest("invalid framework id", (Problem(where, (
            "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")),))
    return value


def default_iri(framework: str) -> str:
    """The IRI of a framework loaded without one."""
    return f"urn:tally-lrs:framework:{framework}"


def text(value: Any, where: str) -> str | None:
    """An optional string field: None when absent or blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest("a field is not a string", (Problem(where, "must be a string"),))
    if len(value) > MAX_TEXT:
        raise InvalidRequest("a field is too long", (
            Problem(where, f"at most {MAX_TEXT} characters"),))
    return value.strip() or None


def required_text(value: Any, where: str) -> str:
    """A string field that must be there and not blank."""
    found = text(value, where)
    if found is None:
        raise InvalidRequest("a required field is missing", (Problem(where, "required"),))
    return found


def iri(value: Any, where: str) -> str:
    """An absolute IRI (an objective's becomes an xAPI Activity id: Data §2.4.4.1)."""
    found = required_text(value, where)
    if not is_iri(found):
        raise InvalidRequest("not an absolute IRI", (
            Problem(where, "must be an absolute IRI (an xAPI Activity id)"),))
    return found


def language(value: Any, where: str) -> str | None:
    """An RFC 5646 language tag, or None."""
    found = text(value, where)
    if found is not None and not is_language_tag(found):
        raise InvalidRequest("not a language tag", (Problem(where, "must be an RFC 5646 tag"),))
    return found


def tree(nodes: Sequence[Node]) -> tuple[Objective, ...]:
    """The objectives in document order (each parent before its children, siblings by
    their order), after checking the tree: unique IRIs, parents that exist, no cycle."""
    if not nodes:
        raise InvalidRequest("the framework has no objectives", (
            Problem("$", "at least one objective is needed"),))
    if len(nodes) > MAX_OBJECTIVES:
        raise InvalidRequest("the framework has too many objectives", (
            Problem("$", f"at most {MAX_OBJECTIVES}"),))
    by_iri: dict[str, Node] = {}
    for node in nodes:
        if (first := by_iri.get(node.objective.iri)) is not None:
            raise InvalidRequest("two objectives have the same IRI", (
                Problem(node.where, f"{node.objective.iri} is also {first.where}"),))
        by_iri[node.objective.iri] = node
    children: dict[str | None, list[Node]] = {}
    for node in nodes:
        parent = node.objective.parent
        if parent is not None and parent not in by_iri:
            raise InvalidRequest("an objective's parent is not in the framework", (
                Problem(node.parent_where, f"no objective {parent}"),))
        children.setdefault(parent, []).append(node)
    ordered: list[Objective] = []
    stack = sorted(children.get(None, []), key=lambda n: n.order, reverse=True)
    while stack:
        node = stack.pop()
        ordered.append(node.objective)
        stack.extend(sorted(children.get(node.objective.iri, []), key=lambda n: n.order,
                            reverse=True))
    if len(ordered) < len(nodes):  # what is not reachable from the top is in a cycle
        placed = {o.iri for o in ordered}
        stuck = next(n for n in nodes if n.objective.iri not in placed)
        raise InvalidRequest("the objectives' parents make a cycle", (
            Problem(stuck.parent_where, f"{stuck.objective.iri} is its own ancestor"),))
    return tuple(ordered)


def load_csv(body: bytes, *, title: str, now: datetime, given_id: str | None = None,
             given_iri: str | None = None, source: str | None = None) -> Framework:
    """A CSV with a header row naming the columns `id` (an absolute IRI), `title`, and
    optionally `description`, `parent` (the id of another row) and `code`; UTF-8 (a byte
    order mark is allowed). The framework's title, id and IRI come with the upload."""
    try:
        decoded = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("the CSV is not UTF-8", (
            Problem(f"byte {exc.start}", "not UTF-8"),)) from None
    rows = csv.reader(io.StringIO(decoded, newline=""))
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise InvalidRequest("the CSV is empty", (Problem("line 1", "a header row is "
                                                  "needed: id,title,description,parent"),)) \
            from None
    except csv.Error as exc:
        raise InvalidRequest("the CSV cannot be read", (Problem("line 1", str(exc)),)) from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [c for c in ("id", "title") if c not in header]
    if unknown or missing or len(set(header)) < len(header):
        problem = (f"unknown column {unknown[0]!r}" if unknown else
                   f"missing column {missing[0]!r}" if missing else "a column appears twice")
        raise InvalidRequest("the CSV header is wrong", (Problem("line 1", (
            f"{problem}; the columns are {', '.join(CSV_COLUMNS)} (id and title "
            "required)")),))
    nodes: list[Node] = []
    try:
        for number, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if len(row) != len(header):
                raise InvalidRequest("a CSV row has the wrong number of cells", (Problem(
                    f"line {number}", f"{len(row)} cells, the header has {len(header)}"),))
            cells = dict(zip(header, row, strict=True))

            def at(column: str, line: int = number) -> str:
                return f"line {line}, column {column}"

            parent = cells.get("parent", "").strip()
            nodes.append(Node(Objective(
                iri=iri(cells["id"], at("id")), title=required_text(cells["title"], at("title")),
                code=text(cells.get("code"), at("code")),
                description=text(cells.get("description"), at("description")),
                parent=iri(parent, at("parent")) if parent else None),
                where=f"line {number}", parent_where=at("parent"), order=(0, number)))
    except csv.Error as exc:
        raise InvalidRequest("the CSV cannot be read", (
            Problem(f"line {rows.line_num}", str(exc)),)) from None
    fid = framework_id(given_id, "?id")
    return Framework(id=fid, iri=iri(given_iri, "?iri") if given_iri else default_iri(fid),
                     title=required_text(title, "?title"), format=Format.CSV,
                     objectives=tree(nodes), loaded=now, source=source)


def load_json(body: bytes, *, now: datetime, source: str | None = None) -> Framework:
    """The LRS's own JSON: `{"title", "id"?, "iri"?, "description"?, "language"?,
    "objectives": [{"id": IRI, "title", "description"?, "parent"?: IRI, "code"?}, …]}`."""
    document = parse_json(body)
    allowed = {"id", "iri", "title", "description", "language", "publisher", "version",
               "objectives"}
    _only(document, allowed, "$")
    raw = document.get("objectives")
    if not isinstance(raw, list):
        raise InvalidRequest("the framework has no objectives", (
            Problem("$.objectives", "required: an array of objectives"),))
    nodes = []
    for position, item in enumerate(raw):
        where = f"$.objectives[{position}]"
        if not isinstance(item, dict):
            raise InvalidRequest("an objective is not an object", (
                Problem(where, "must be a JSON object"),))
        _only(item, {"id", "title", "description", "parent", "code"}, where)
        parent = item.get("parent")
        nodes.append(Node(Objective(
            iri=iri(item.get("id"), f"{where}.id"),
            title=required_text(item.get("title"), f"{where}.title"),
            code=text(item.get("code"), f"{where}.code"),
            description=text(item.get("description"), f"{where}.description"),
            parent=None if parent is None else iri(parent, f"{where}.parent")),
            where=where, parent_where=f"{where}.parent", order=(0, position)))
    given = document.get("id")
    fid = framework_id(given if isinstance(given, str) or given is None else str(given), "$.id")
    given_iri = document.get("iri")
    return Framework(
        id=fid, iri=default_iri(fid) if given_iri is None else iri(given_iri, "$.iri"),
        title=required_text(document.get("title"), "$.title"),
        format=Format.JSON, objectives=tree(nodes), loaded=now,
        description=text(document.get("description"), "$.description"),
        publisher=text(document.get("publisher"), "$.publisher"),
        version=text(document.get("version"), "$.version"),
        language=language(document.get("language"), "$.language"), source=source)


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON object, or InvalidRequest naming where it stops being JSON."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest("the file is not JSON", (Problem("$", str(exc)),)) from None
    if not isinstance(document, dict):
        raise InvalidRequest("the file is not a JSON object", (
            Problem("$", "must be a JSON object"),))
    return document


def _only(document: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in document:
        if key not in allowed:
            raise InvalidRequest("unknown field", (Problem(f"{where}.{key}", (
                f"not a field; the fields are {', '.join(sorted(allowed))}")),))
