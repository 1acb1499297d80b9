"""Quarantine: the statements a request had rejected, kept for a short while with the error
and its JSON path, so that an admin can correct and replay them (docs/quarantine.md).

Entries hold whatever the platform sent, identities included: erasure removes a person's
(`involving`), the retention purge the expired ones (`purge`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from statements.erasure import agent_keys_anywhere
from statements.errors import Problem

_INDEX = re.compile(r"\[\d+\]")
_BATCH = re.compile(r"^\$\[(\d+)\]")
# A statement rejected only because another one of its batch was (a batch is all or
# nothing: Communication §2.1.2): kept too, under this kind.
WITH_BATCH = "rejected with its batch"


@dataclass(frozen=True)
class QuarantineEntry:
    """One rejected statement (or a body that was no statement at all)."""

    id: str  # also the statement id a replay gives a statement sent without one
    credential: str  # the key of the credential that sent it
    at_ms: int
    expires_ms: int
    kind: str  # what went wrong, for listing: the first problem's path without indexes
    message: str
    problems: tuple[Problem, ...]  # paths relative to the statement ($ = the statement)
    body: bytes  # the statement as sent (JSON), or the raw body when it was not JSON
    agents: frozenset[str] = frozenset()  # agent keys found in it (statements.indexing)
    version: str = "2.0.0"  # the xAPI version it was sent as, and is replayed as

    def describe(self) -> dict[str, Any]:
        """The entry as the admin API lists it and the download writes it (one JSON line)."""
        try:
            statement: Any = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            statement = None
        return {"id": self.id, "credential": self.credential, "at_ms": self.at_ms,
                "expires_ms": self.expires_ms, "version": self.version, "kind": self.kind,
                "message": self.message,
                "problems": [{"path": p.path, "message": p.message} for p in self.problems],
                "statement": statement,
                **({} if statement is not None else
                   {"body": self.body.decode("utf-8", "replace")})}


def kind_of(problems: Sequence[Problem]) -> str:
    """The error kind of a rejection: its first problem's JSON path with array indexes
    taken out (`$.object.id`, `$.result.score`), the same for every statement wrong alike."""
    if not problems:
        return "$"
    return _INDEX.sub("", problems[0].path) or "$"


def entries_of(body: bytes, message: str, problems: Sequence[Problem], *, credential: str,
               at_ms: int, expires_ms: int, version: str) -> list[QuarantineEntry]:
    """The quarantine entries of one rejected statement request (its statements part).

    An array becomes one entry per statement, each with the problems found in it (paths
    relative to that statement) or, when it had none, the kind WITH_BATCH. A body that is
    not a statement or an array of them (not JSON, a problem outside the statements) is one
    entry as it came.
    """
    def entry(raw: bytes, own: Sequence[Problem], kind: str, text: str,
              parsed: Any = None) -> QuarantineEntry:
        return QuarantineEntry(str(uuid.uuid4()), credential, at_ms, expires_ms, kind, text,
                               tuple(own), raw, frozenset(agent_keys_anywhere(parsed)), version)

    try:
        sent = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [entry(body, problems, kind_of(problems), message)]
    if not isinstance(sent, list) or not all(_BATCH.match(p.path) for p in problems):
        return [entry(body, problems, kind_of(problems), message, sent)]
    by_index: dict[int, list[Problem]] = {}
    for problem in problems:
        found = _BATCH.match(problem.path)
        assert found is not None
        rest = problem.path[found.end():]
        by_index.setdefault(int(found[1]), []).append(Problem("$" + rest, problem.message))
    out = []
    for index, statement in enumerate(sent):
        own = by_index.get(index, [])
        out.append(entry(orjson.dumps(statement), own,
                         kind_of(own) if own else WITH_BATCH,
                         message if own else f"{message} (another statement of the batch)",
                         statement))
    return out


def mentions(entry: QuarantineEntry, keys: Collection[str], needles: Collection[str]) -> bool:
    """Whether the entry names the person: one of their agent keys is in it, or (a body that
    was not JSON) one of their identifiers appears in its text."""
    if entry.agents & set(keys):
        return True
    return any(needle.encode() in entry.body for needle in needles)


class QuarantineStore(Protocol):
    """Keeps rejected statements until they expire, are replayed or their person erased."""

    async def add(self, entries: Sequence[QuarantineEntry]) -> None:
        """Keep these entries."""
        ...

    async def get(self, entry_id: str) -> QuarantineEntry | None:
        """The entry with this id."""
        ...

    async def list(self, kind: str | None = None, credential: str | None = None,
                   limit: int | None = None) -> list[QuarantineEntry]:
        """The entries (of one kind, of one credential's), oldest first."""
        ...

    async def kinds(self) -> dict[str, int]:
        """How many entries there are of each kind."""
        ...

    async def remove(self, entry_ids: Collection[str]) -> int:
        """Delete these entries; how many there were."""
        ...

    async def purge(self, now_ms: int, *, dry_run: bool = False) -> int:
        """Delete (or, dry, count) the entries expired at `now_ms`."""
        ...
