"""Door checks (issue 17): per-credential rules a statement must follow beyond xAPI itself.

A check (cmi5, xAPI Profiles) looks at a batch of enriched statements and returns its
`Finding`s per statement. The door (`lrs.door`) runs the checks whose mode the credential
sets to `flag` or `reject`: `reject` refuses the whole batch with a 400 naming each finding
(a batch is all or nothing, Communication §2.1.2), `flag` accepts it, counts the findings
and keeps them as marks beside each stored statement (never inside the statement JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from statements.query import StatementQuery
from statements.store import StatementPage


class CheckMode(StrEnum):
    """What the door does with a check's findings for one credential."""

    OFF = "off"  # the check does not run at all
    FLAG = "flag"  # accepted; findings counted and marked beside the stored statement
    REJECT = "reject"  # the whole request answered 400, nothing written


@dataclass(frozen=True)
class Finding:
    """One rule a statement breaks: the check and rule, the spec section, where and what.

    `path` is a JSON path within the statement (`$.context.registration`); the door puts
    the statement's place in the batch in front (`$[2].context.registration`). `about`
    optionally names what matched (a profile template, a cmi5 verb).
    """

    check: str  # "cmi5", "profiles": a metrics label
    rule: str  # a stable id within the check: a metrics label
    section: str  # e.g. "cmi5 §9.6.3.1"
    path: str
    message: str
    about: str = ""

    def as_json(self) -> dict[str, str]:
        """The mark kept beside a stored statement."""
        found = {"check": self.check, "rule": self.rule, "section": self.section,
                 "path": self.path, "message": self.message}
        if self.about:
            found["about"] = self.about
        return found


class StatementReader(Protocol):
    """A read-only view of the kept statements, for stateful rules."""

    async def query(self, query: StatementQuery) -> StatementPage:
        """A page of kept statements matching `query` (StatementStore.query)."""
        ...


@dataclass(frozen=True)
class CheckContext:
    """What a check may know besides the statements: the credential that sent them (an
    `lrs.credentials.Credential`; typed loosely, this package imports nothing above it)
    and a read-only view of the store."""

    credential: Any
    store: StatementReader


class DoorCheck(Protocol):
    """A check run at the door."""

    name: str  # unique; the metrics' `check` label

    def mode_of(self, credential: Any) -> CheckMode:
        """This check's mode for `credential` (e.g. its `cmi5` field)."""
        ...

    async def check(self, statements: Sequence[dict[str, Any]], context: CheckContext
                    ) -> list[list[Finding]]:
        """The findings about each of `statements` (a whole batch, in the order sent; one
        list per statement, empty when it passes)."""
        ...
