"""Compliance reports: per agent, the latest result on a mandatory activity, and the evidence.

A *result statement* is a kept, live (not voided) statement whose object is an Activity and
which has a `result`. For each (activity, agent) a report row gives the latest result
statement in the time window (its completion, success, score, duration and timestamp) and
the latest one that shows the activity done (`result.completion` or `result.success` true).
The agent is the actor, or each member of a Group actor. The window applies to the
statement's `timestamp` (when the learner did it; the LRS keeps it in UTC to the millisecond):
`since` exclusive, `until` inclusive, as xAPI's own `since`/`until` are.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from pydantic import TypeAdapter, ValidationError

from statements.datatypes import is_iri, normalise_timestamp
from statements.errors import InvalidRequest, Problem
from statements.indexing import agent_key
from statements.models import Actor
from statements.parsing import json_path

_ACTOR: TypeAdapter[Any] = TypeAdapter(Actor)
# The greatest code point: every string starting with a prefix sorts below prefix + this.
_TOP = "\U0010ffff"


@dataclass(frozen=True)
class Target:
    """The activities a report covers: one activity id, or every id starting with `prefix`."""

    activity: str | None = None
    prefix: str | None = None

    def bounds(self) -> tuple[str, str]:
        """[low, high) on activity ids."""
        if self.activity is not None:
            return self.activity, self.activity + "\x00"
        assert self.prefix is not None
        return self.prefix, self.prefix + _TOP


@dataclass(frozen=True)
class Window:
    """Statement timestamps in (since, until], as normalised UTC strings (they sort as time)."""

    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class ResultRow:
    """One result statement as seen by one agent (the actor, or a member of it)."""

    activity: str
    agent: str  # agent key
    timestamp: str
    statement_id: str
    completed: bool
    body: bytes


class ComplianceStore(Protocol):
    """The reads compliance reports need, over the kept statements."""

    def results(self, target: Target, window: Window, *, agents: Sequence[str] | None = None
                ) -> AsyncIterator[ResultRow]:
        """Result statements of `target` in `window`, voided ones excluded, read in pages.

        Without `agents`: ordered by (activity, agent, timestamp desc, id desc). With
        `agents` (sorted agent keys): only theirs, ordered by (agent, activity, timestamp
        desc, id desc).
        """
        ...


@dataclass
class ReportRow:
    """One line of a report."""

    entry: str
    agent: str
    activity: str | None = None
    agent_name: str | None = None
    status: str = "no record"  # "completed", "not completed" or "no record"
    completed_at: str | None = None
    completed_statement: str | None = None
    latest_at: str | None = None
    latest_statement: str | None = None
    completion: bool | None = None
    success: bool | None = None
    score_scaled: float | None = None
    score_raw: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    duration: str | None = None
    evidence: list[str] = field(default_factory=list)
    # The door-check marks (statements.marks) of the deciding statement (the completing
    # one, else the latest): "check:rule" words, space-separated; None when unmarked.
    flags: str | None = None


_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_OR_TIME = "an ISO 8601 date-time, or a date YYYY-MM-DD (the start of that day, UTC)"


def date_or_timestamp(name: str, value: str) -> str:
    """A `since`/`until` of the LRS's own APIs (not the xAPI resources', which xAPI defines
    as timestamps): an ISO 8601 timestamp, or a plain date meaning the start of that day in
    UTC; normalised. InvalidRequest names the parameter `?name`."""
    text = f"{value}T00:00:00Z" if _PLAIN_DATE.fullmatch(value) else value
    try:
        return normalise_timestamp(text)
    except ValueError as exc:
        raise InvalidRequest(f"invalid query parameter '{name}'", (
            Problem(f"?{name}", f"{exc}; give {DATE_OR_TIME}"),)) from None


def parse_window(since: str | None, until: str | None) -> Window:
    """The window from `since`/`until` parameters (date_or_timestamp)."""
    return Window(None if since is None else date_or_timestamp("since", since),
                  None if until is None else date_or_timestamp("until", until))


def parse_activity(value: str, name: str = "activity") -> str:
    """An activity id parameter: an absolute IRI."""
    if not is_iri(value):
        raise InvalidRequest(f"invalid query parameter '{name}'",
                             (Problem(f"?{name}", "must be an absolute IRI"),))
    return value


def parse_roster(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """A roster document `{"roster": [Agent, …]}` as sorted (agent key, agent) pairs."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest("the body is not JSON", (Problem("$", str(exc)),)) from None
    if not isinstance(document, dict) or set(document) != {"roster"} \
            or not isinstance(document["roster"], list):
        raise InvalidRequest("the body must be {\"roster\": [Agent, …]}",
                             (Problem("$.roster", "required: an array of Agents"),))
    roster: dict[str, dict[str, Any]] = {}
    for position, raw in enumerate(document["roster"]):
        key, agent = parse_agent(raw, f"$.roster[{position}]")
        roster.setdefault(key, agent)
    return sorted(roster.items())


def parse_agent(raw: Any, root: str = "$") -> tuple[str, dict[str, Any]]:
    """An Agent (not a Group) with an identifier, validated as in a statement, and its key;
    InvalidRequest names the JSON path below `root` that is wrong."""
    try:
        agent: dict[str, Any] = _ACTOR.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidRequest("invalid agent", (Problem(
            json_path(first["loc"], root=root),
            first["msg"].removeprefix("Value error, ")),)) from None
    key = agent_key(agent)
    if key is None or agent.get("objectType") == "Group":
        raise InvalidRequest("invalid agent", (Problem(
            root, "must be an Agent identified by mbox, mbox_sha1sum, openid or account"),))
    return key, agent


async def report(store: ComplianceStore, entry: str, target: Target, window: Window,
                 roster: Sequence[tuple[str, dict[str, Any]]] | None = None
                 ) -> AsyncIterator[ReportRow]:
    """The rows of one catalogue entry (or activity). With a roster, exactly the roster's
    agents, those without a result in the window as "no record"."""
    agents = [key for key, _ in roster] if roster is not None else None
    rows = _fold(entry, store.results(target, window, agents=agents))
    if roster is None:
        async for row in rows:
            yield row
        return
    names = {key: agent.get("name") for key, agent in roster}
    pending = iter(key for key, _ in roster)
    next_key = next(pending, None)
    async for row in rows:  # both in agent-key order: a merge
        while next_key is not None and next_key < row.agent:
            yield _absent(entry, target, next_key, names[next_key])
            next_key = next(pending, None)
        if next_key == row.agent:
            next_key = next(pending, None)
        row.agent_name = row.agent_name or names.get(row.agent)
        yield row
    while next_key is not None:
        yield _absent(entry, target, next_key, names[next_key])
        next_key = next(pending, None)


def _absent(entry: str, target: Target, key: str, name: Any) -> ReportRow:
    return ReportRow(entry=entry, agent=key, activity=target.activity,
                     agent_name=name if isinstance(name, str) else None)


async def _fold(entry: str, rows: AsyncIterator[ResultRow]) -> AsyncIterator[ReportRow]:
    """Consecutive rows of one (activity, agent), newest first, into one ReportRow."""
    current: ReportRow | None = None
    async for row in rows:
        if current is None or (current.activity, current.agent) != (row.activity, row.agent):
            if current is not None:
                yield current
            current = _latest(entry, row)
        if row.completed and current.completed_statement is None:
            current.status = "completed"
            current.completed_at = row.timestamp
            current.completed_statement = row.statement_id
            if row.statement_id not in current.evidence:
                current.evidence.append(row.statement_id)
    if current is not None:
        yield current


def _latest(entry: str, row: ResultRow) -> ReportRow:
    statement = orjson.loads(row.body)
    result = statement.get("result", {})
    score = result.get("score", {})
    actor = statement.get("actor", {})
    name = actor.get("name") if agent_key(actor) == row.agent else next(
        (m.get("name") for m in actor.get("member", ()) if agent_key(m) == row.agent), None)
    return ReportRow(
        entry=entry, agent=row.agent, activity=row.activity,
        agent_name=name if isinstance(name, str) else None, status="not completed",
        latest_at=row.timestamp, latest_statement=row.statement_id,
        completion=result.get("completion"), success=result.get("success"),
        score_scaled=score.get("scaled"), score_raw=score.get("raw"),
        score_min=score.get("min"), score_max=score.get("max"),
        duration=result.get("duration"), evidence=[row.statement_id],
    )
