"""Compliance reports: per agent and mandatory activity, what the kept statements say, and why.

The report reads every kept, live (not voided) statement whose object is an Activity, with
or without a `result`. For each (activity, agent) a row names the newest statement that
meets the entry's completion rule (statements.completion), which decides the status, or
else the newest statement ("not completed"); the result columns are the newest statement
with a `result`, whatever it says. With a validity period the completion is then `valid`,
`expiring` or `expired` as of the report's moment. The agent is the actor, or each member
of a Group actor. The window applies to the statement's `timestamp` (when the learner did
it; the LRS keeps it in UTC to the millisecond): `since` exclusive, `until` inclusive, as
xAPI's own `since`/`until` are; "as of" is one more `until`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from pydantic import TypeAdapter, ValidationError

from statements.completion import DEFAULT_RULE, CompletionRule, Period, verb_name
from statements.datatypes import (
    format_timestamp,
    is_iri,
    normalise_timestamp,
    parse_timestamp,
)
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
    """One statement about an activity as seen by one agent (the actor, or a member of it);
    `completed`: its result says completion or success is true."""

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
        """Statements about `target`'s activities in `window` (voided and voiding ones
        excluded, with or without a result), read in pages.

        Without `agents`: ordered by (activity, agent, timestamp desc, id desc). With
        `agents` (sorted agent keys): only theirs, ordered by (agent, activity, timestamp
        desc, id desc).
        """
        ...


@dataclass(frozen=True)
class Judgement:
    """How an entry's rows are judged: its completion rule, its validity (None: a
    completion never expires) and warning window, and the moment validity is judged at
    (a normalised UTC timestamp; None: completed rows of an entry with validity only get
    their `valid_until`). A report "as of" a past moment also reads its statements in
    `as_of_window`."""

    as_of: str | None = None
    rule: CompletionRule = DEFAULT_RULE
    valid_for: Period | None = None
    warn_before: Period | None = None


STATUSES = ("completed", "valid", "expiring", "expired", "not completed", "no record")


@dataclass(kw_only=True)
class ReportRow:
    """One line of a report; the JSON and the CSV both write these fields, in this order (a
    new field is a new column of both)."""

    entry: str
    activity: str | None = None
    agent: str
    agent_name: str | None = None
    # "completed" (an entry without validity), "valid", "expiring", "expired" (with one),
    # "not completed" (statements, none meeting the rule), "no record" (roster only).
    status: str = "no record"
    valid_until: str | None = None
    reason: str | None = None
    decided_by: str | None = None  # the statement that decided the status: id, verb, time
    decided_verb: str | None = None
    decided_at: str | None = None
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


def as_of_window(window: Window, as_of: str) -> Window:
    """The window of a report as of `as_of`: statements after it are not read."""
    if window.until is not None and window.until <= as_of:
        return window
    return Window(window.since, as_of)


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
                 roster: Sequence[tuple[str, dict[str, Any]]] | None = None,
                 judgement: Judgement | None = None) -> AsyncIterator[ReportRow]:
    """The rows of one catalogue entry (or activity). With a roster, exactly the roster's
    agents, those without a statement in the window as "no record". Without a judgement:
    the default rule, no validity."""
    judgement = judgement or Judgement()
    agents = [key for key, _ in roster] if roster is not None else None
    rows = _fold(entry, store.results(target, window, agents=agents), judgement)
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
                     agent_name=name if isinstance(name, str) else None,
                     reason="no kept statement about the activity")


async def _fold(entry: str, rows: AsyncIterator[ResultRow], judgement: Judgement
                ) -> AsyncIterator[ReportRow]:
    """Consecutive rows of one (activity, agent), newest first, into one ReportRow: the
    newest statement meeting the rule decides (voided ones never arrive here); without one
    the newest statement does ("not completed")."""
    current: ReportRow | None = None
    done = False
    for_result = True
    async for row in rows:
        if current is None or (current.activity, current.agent) != (row.activity, row.agent):
            if current is not None:
                yield _finish(current, judgement)
            current, done, for_result = None, False, True
        if done and not for_result:
            continue
        statement = orjson.loads(row.body)
        if current is None:
            current = _first(entry, row, statement)
        if for_result and isinstance(statement.get("result"), dict):
            _take_result(current, row, statement)
            for_result = False
        if not done:
            reason = judgement.rule.reason(statement)
            if reason is not None:
                done = True
                current.status = "completed"
                current.reason = reason
                current.completed_at = current.decided_at = row.timestamp
                current.completed_statement = current.decided_by = row.statement_id
                current.decided_verb = statement["verb"]["id"]
                if row.statement_id not in current.evidence:
                    current.evidence.append(row.statement_id)
    if current is not None:
        yield _finish(current, judgement)


def _first(entry: str, row: ResultRow, statement: dict[str, Any]) -> ReportRow:
    """The row as its newest statement makes it: not completed, decided by that one until
    a statement meeting the rule is found."""
    actor = statement.get("actor", {})
    name = actor.get("name") if agent_key(actor) == row.agent else next(
        (m.get("name") for m in actor.get("member", ()) if agent_key(m) == row.agent), None)
    verb = statement["verb"]["id"]
    return ReportRow(
        entry=entry, agent=row.agent, activity=row.activity,
        agent_name=name if isinstance(name, str) else None, status="not completed",
        reason=f"no statement meets the rule; the latest is verb {verb_name(verb)}",
        decided_by=row.statement_id, decided_verb=verb, decided_at=row.timestamp,
        evidence=[row.statement_id])


def _take_result(current: ReportRow, row: ResultRow, statement: dict[str, Any]) -> None:
    """The newest statement with a result fills the result columns, whatever it says (a
    fail after a pass shows there, while the pass decides the status)."""
    result = statement["result"]
    score = result.get("score", {})
    current.latest_at, current.latest_statement = row.timestamp, row.statement_id
    current.completion, current.success = result.get("completion"), result.get("success")
    current.score_scaled, current.score_raw = score.get("scaled"), score.get("raw")
    current.score_min, current.score_max = score.get("min"), score.get("max")
    current.duration = result.get("duration")
    if row.statement_id not in current.evidence:
        current.evidence.append(row.statement_id)


def _finish(row: ReportRow, judgement: Judgement) -> ReportRow:
    """With a validity period, a completed row becomes valid, expiring or expired as of
    the report's moment."""
    if row.status != "completed" or judgement.valid_for is None or row.completed_at is None:
        return row
    completed = parse_timestamp(row.completed_at)
    until = judgement.valid_for.after(completed)
    row.valid_until = format_timestamp(until)
    if judgement.as_of is None:
        return row
    as_of = parse_timestamp(judgement.as_of)
    if as_of >= until:
        row.status = "expired"
    elif judgement.warn_before is not None and as_of >= judgement.warn_before.before(until):
        row.status = "expiring"
    else:
        row.status = "valid"
    return row
