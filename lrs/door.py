"""The door: the credential's checks (cmi5, profiles) run on a request before its commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pluggy

from lrs.config import Settings
from statements.checks import CheckContext, CheckMode, DoorCheck, Finding
from statements.errors import InvalidRequest, Problem
from statements.profiles import Outcome
from statements.store import StatementStore

# Told each finding a flag-mode check made of a newly stored statement, or a reject-mode
# check made of a refused request: (check, rule, "flagged" | "rejected").
Count = Callable[[str, str, str], None]


@dataclass(frozen=True)
class Verdict:
    """What the door made of an accepted request: the marks to write beside its flagged
    statements (statement id → findings JSON) and the findings to count once stored."""

    marks: Mapping[str, bytes] = field(default_factory=dict)
    flagged: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)


_PASS = Verdict()  # one instance, shared: a request with no findings allocates none


@dataclass
class Door:
    """The registry of door checks the app builds at start-up (`lrs.ingest.build_ingest`);
    a check is added with `add` (the profiles check is one, cmi5 another)."""

    checks: list[DoorCheck] = field(default_factory=list)
    count: Count | None = None

    def add(self, check: DoorCheck) -> None:
        """Run `check` on every request from now on (names are unique)."""
        if any(c.name == check.name for c in self.checks):
            raise ValueError(f"a door check named {check.name!r} is registered already")
        self.checks.append(check)

    async def inspect(self, statements: Sequence[dict[str, Any]], ids: Sequence[str], *,
                      credential: Any, store: StatementStore, single: bool) -> Verdict:
        """Run the credential's checks on the batch. A finding of a `reject` check raises
        InvalidRequest (400) naming every such finding's check, rule, section and JSON path;
        the findings of `flag` checks come back as marks. With every check off this reads
        nothing and allocates nothing."""
        for check in self.checks:
            if check.mode_of(credential) is not CheckMode.OFF:
                break
        else:
            return _PASS
        context = CheckContext(credential, store)
        rejected: list[tuple[int, Finding]] = []
        flagged: dict[str, list[Finding]] = {}
        for check in self.checks:
            mode = check.mode_of(credential)
            if mode is CheckMode.OFF:
                continue
            found = await check.check(statements, context)
            for index, findings in enumerate(found):
                if mode is CheckMode.REJECT:
                    rejected.extend((index, f) for f in findings)
                elif findings:
                    flagged.setdefault(ids[index], []).extend(findings)
        if rejected:
            if self.count is not None:
                for _, finding in rejected:
                    self.count(finding.check, finding.rule, "rejected")
            raise InvalidRequest(_refusal(rejected), problems(rejected, single=single))
        if not flagged:
            return _PASS
        return Verdict(
            marks={i: orjson.dumps([f.as_json() for f in fs]) for i, fs in flagged.items()},
            flagged={i: tuple(fs) for i, fs in flagged.items()})

    def stored(self, verdict: Verdict, new_ids: Sequence[str]) -> None:
        """Count the flagged findings of the statements this commit stored for the first
        time (a retry counts nothing again, as the decisions are counted: DESIGN §4)."""
        if self.count is None or not verdict.flagged:
            return
        for statement_id in new_ids:
            for finding in verdict.flagged.get(statement_id, ()):
                self.count(finding.check, finding.rule, "flagged")


def problems(found: Sequence[tuple[int, Finding]], *, single: bool = False
             ) -> tuple[Problem, ...]:
    """The findings as a 400's problems: the JSON path in the request (`$[3].result`, or
    `$.result` for one statement sent alone), and the check, rule and section in words."""
    return tuple(Problem(("$" if single else f"$[{index}]") + f.path[1:], describe(f))
                 for index, f in found)


def describe(finding: Finding) -> str:
    """`<message> (<check> rule <rule>, <section>)`, with what it is about when told."""
    about = f", {finding.about}" if finding.about else ""
    return f"{finding.message} ({finding.check} rule {finding.rule}, {finding.section}{about})"


def _refusal(found: Sequence[tuple[int, Finding]]) -> str:
    checks = sorted({f.check for _, f in found})
    return (f"the statements break {len(found)} rule(s) of the {', '.join(checks)} "
            f"check{'s' if len(checks) > 1 else ''} this credential enforces")


def default_door(count: Count | None = None) -> Door:
    """The built-in checks (cmi5); `count` is told of each finding (lrs.metrics)."""
    from statements.cmi5 import Cmi5Check

    door = Door(count=count)
    door.add(Cmi5Check())
    return door


async def build_door(settings: Settings, plugins: pluggy.PluginManager, *,
                     count: Count | None = None,
                     count_profile: Callable[[Outcome, str], None] | None = None) -> Door:
    """The door the app, `lrs import` and the demo run: the built-in checks, and the xAPI
    Profiles check when profiles are loaded (LRS_PROFILES, the `lrs_profiles_documents`
    hook; docs/profiles.md). `count_profile` is told each profile outcome (lrs.metrics)."""
    from lrs.profile_checks import ProfilesCheck
    from lrs.profile_sources import load_profiles

    door = default_door(count)
    if profiles := await load_profiles(settings, plugins):
        door.add(ProfilesCheck(profiles, require_category=settings.profiles_require_category,
                               count=count_profile))
    return door
