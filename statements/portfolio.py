"""A learner's own record: which statements are theirs, and a portable, readable portfolio."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator, Iterable, Mapping
from html import escape
from typing import Any

import orjson

from statements.export import ZipSink
from statements.indexing import actor_keys, agent_key
from statements.query import StatementQuery
from statements.store import StatementStore

PAGE = 500


def belongs_to(statement: Mapping[str, Any], learner: str) -> bool:
    """Whether the learner (an agent key) is the statement's authority or its actor (the
    Agent, or a member of the Group, that is the actor).

    The engines index the actor and an Agent object alike (the xAPI `agent` filter), so a
    query for the learner's statements may also find ones where the learner is only the
    object; this tells them apart.
    """
    authority = statement.get("authority")
    if isinstance(authority, Mapping) and learner in actor_keys(dict(authority)):
        return True
    actor = statement.get("actor")
    return isinstance(actor, Mapping) and learner in actor_keys(dict(actor))


async def learner_statements(store: StatementStore, learner: str
                             ) -> AsyncIterator[dict[str, Any]]:
    """Every kept, live statement of the learner, oldest first, read page by page."""
    query = StatementQuery(mine=learner, ascending=True, limit=PAGE)
    while True:
        page = await store.query(query)
        for body in page.statements:
            statement: dict[str, Any] = orjson.loads(body)
            if belongs_to(statement, learner):
                yield statement
        if page.after is None:
            return
        query = StatementQuery(mine=learner, ascending=True, limit=PAGE, after=page.after)


async def json_array(statements: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """The statements as one JSON array, a statement at a time."""
    yield b"["
    first = True
    async for statement in statements:
        yield (b"" if first else b",\n") + orjson.dumps(statement)
        first = False
    yield b"]\n"


_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}"
          "table{border-collapse:collapse;width:100%}"
          "th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
          "th{background:#eee}code{font-size:.85em}")


def _display(value: Any, fallback: str) -> str:
    """The en-US (or else the first) text of a language map, or `fallback`."""
    if isinstance(value, Mapping) and value:
        for tag in ("en-US", "en", "en-GB"):
            if isinstance(value.get(tag), str):
                return str(value[tag])
        return str(next(iter(value.values())))
    return fallback


def _agent_label(agent: Mapping[str, Any]) -> str:
    name = agent.get("name")
    return str(name) if isinstance(name, str) else (agent_key(dict(agent)) or "(anonymous)")


def _object_label(obj: Mapping[str, Any]) -> str:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        definition = obj.get("definition", {})
        return _display(definition.get("name") if isinstance(definition, Mapping) else None,
                        str(obj.get("id", "")))
    if kind in ("Agent", "Group"):
        return _agent_label(obj)
    return f"{kind} {obj.get('id', '')}".strip()


def _result_label(result: Any) -> str:
    if not isinstance(result, Mapping):
        return ""
    parts = []
    if "completion" in result:
        parts.append("completed" if result["completion"] else "not completed")
    if "success" in result:
        parts.append("passed" if result["success"] else "failed")
    score = result.get("score")
    if isinstance(score, Mapping):
        if "scaled" in score:
            parts.append(f"score {round(float(score['scaled']) * 100, 2)}%")
        elif "raw" in score:
            parts.append(f"score {score['raw']}" + (f"/{score['max']}" if "max" in score else ""))
    if "duration" in result:
        parts.append(f"duration {result['duration']}")
    return ", ".join(parts)


def html_row(statement: Mapping[str, Any]) -> str:
    """One statement as a table row; every value escaped (it is the platforms' text)."""
    cells = (
        statement.get("timestamp", ""),
        _agent_label(statement.get("actor", {})),
        _display(statement.get("verb", {}).get("display"), statement.get("verb", {}).get("id", "")),
        _object_label(statement.get("object", {})),
        _result_label(statement.get("result")),
    )
    tds = "".join(f"<td>{escape(str(cell))}</td>" for cell in cells)
    return f"<tr>{tds}<td><code>{escape(str(statement.get('id', '')))}</code></td></tr>\n"


async def html_page(title: str, statements: AsyncIterator[dict[str, Any]]
                    ) -> AsyncIterator[bytes]:
    """A self-contained HTML page (no scripts, no external resources) listing statements."""
    yield (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>\n"
           f"<h1>{escape(title)}</h1>\n<table>\n<thead><tr>"
           + "".join(f"<th>{h}</th>" for h in _HEADINGS)
           + "</tr></thead>\n<tbody>\n").encode()
    count = 0
    async for statement in statements:
        count += 1
        yield html_row(statement).encode()
    yield (f"</tbody>\n</table>\n<p>{count} statement{'s' if count != 1 else ''}.</p>\n"
           "</body></html>\n").encode()


async def portfolio_archive(store: StatementStore, learner: str, title: str
                            ) -> AsyncIterator[bytes]:
    """A zip of statements.json then portfolio.html, each written as the statements are
    read (the store is read twice rather than the statements held)."""
    sink = ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in (("statements.json", json_array(learner_statements(store, learner))),
                             ("portfolio.html", html_page(title,
                                                          learner_statements(store, learner)))):
            with archive.open(name, "w", force_zip64=True) as member:
                async for chunk in chunks:
                    member.write(chunk)
                    yield sink.take()
    yield sink.take()


_HEADINGS: Iterable[str] = ("When", "Who", "Did", "What", "Result", "Statement id")
