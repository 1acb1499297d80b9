"""The door's xAPI Profiles check: each statement against the loaded profiles' templates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from statements.checks import CheckContext, CheckMode, Finding
from statements.profiles import Outcome, Profile, check

NAME = "profiles"


class ProfilesCheck:
    """A door check (statements.checks.DoorCheck) over the profiles loaded at start-up
    (lrs.profile_sources): for a credential whose `profiles` mode is flag or reject.

    `count`, when given, is told each checked statement's outcome and what the mode does
    with its findings (`flagged` or `rejected`): the metrics per profile and template."""

    name = NAME

    def __init__(self, profiles: tuple[Profile, ...], *, require_category: bool = True,
                 count: Callable[[Outcome, str], None] | None = None) -> None:
        self.profiles = profiles
        self.require_category = require_category
        self.count = count

    def mode_of(self, credential: Any) -> CheckMode:
        """The credential's `profiles` mode."""
        mode: CheckMode = credential.profiles
        return mode

    async def check(self, statements: Sequence[dict[str, Any]], context: CheckContext
                    ) -> list[list[Finding]]:
        """Profiles Part Three §2.1 for each statement: a finding per rule broken, its
        section the template's IRI and what it is about the profile's."""
        action = "rejected" if self.mode_of(context.credential) is CheckMode.REJECT \
            else "flagged"
        out = []
        for statement in statements:
            outcome = check(statement, self.profiles, require_category=self.require_category)
            if self.count is not None:
                self.count(outcome, action)
            out.append([Finding(NAME, f.rule, f.template, f.path, f.message, about=f.profile)
                        for f in outcome.findings])
        return out
