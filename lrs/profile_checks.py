"""The door's xAPI Profiles check: each statement against the loaded profiles' templates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from statements.errors import Problem
from statements.profiles import Finding, Outcome, Profile, check


@dataclass(frozen=True)
class ProfileChecks:
    """The profiles loaded at start-up (lrs.profile_sources), checked statement by statement.

    `count`, when given, is told each statement's outcome and whether its findings were
    flagged or rejected (the metrics per profile and template)."""

    profiles: tuple[Profile, ...]
    require_category: bool = True
    count: Callable[[Outcome, str], None] | None = None

    def outcomes(self, statements: Sequence[dict[str, Any]]) -> list[Outcome]:
        """Profiles Part Three §2.1 for each statement, in order."""
        return [check(s, self.profiles, require_category=self.require_category)
                for s in statements]

    def counted(self, outcomes: Sequence[Outcome], action: str) -> None:
        """Tell the metrics what came of the batch: `action` is what the credential's mode
        did with the findings (`flagged` or `rejected`)."""
        if self.count is not None:
            for outcome in outcomes:
                self.count(outcome, action)


def problems(outcomes: Sequence[Outcome], *, single: bool = False) -> tuple[Problem, ...]:
    """The findings of a batch as the 400's problems: each names the statement's JSON path
    (`$[2].result.duration`, or `$.result.duration` for a PUT), the template and the rule."""
    out: list[Problem] = []
    for index, outcome in enumerate(outcomes):
        prefix = "$" if single else f"$[{index}]"
        out.extend(Problem(prefix + f.path[1:], describe(f)) for f in outcome.findings)
    return tuple(out)


def describe(finding: Finding) -> str:
    """One finding in words: what is wrong, and which template and rule says so."""
    return (f"{finding.message} (profile {finding.profile}, template {finding.template}, "
            f"{finding.rule})")
