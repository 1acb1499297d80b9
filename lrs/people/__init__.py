"""People: OIDC sign-in, server-side sessions, CSRF, roles from claims, bearer tokens.

The types here are the contract between sign-in (this package) and everything that serves a
person (the console, the JSON APIs): a signed-in `Person` holds `Role`s, and each role grants
the scopes of `ROLE_SCOPES`, so the `/api/v1` handlers authorise a person exactly as they
authorise a platform's credential (DESIGN §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from lrs.credentials import Credential, Retention, Scope


class Role(StrEnum):
    """What a person may do, mapped from a configurable claim of their ID token."""

    ADMIN = "admin"  # credentials, catalogue, settings, audit
    COMPLIANCE = "compliance"  # kept statements, compliance reports, evidence
    ANALYST = "analyst"  # aggregates and the dashboard only: never an identifier
    LEARNER = "learner"  # their own record
    MANAGER = "manager"  # assesses objectives; reads only what a learner granted them


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset({Scope.ADMIN}),
    Role.COMPLIANCE: frozenset({Scope.COMPLIANCE_READ}),
    Role.ANALYST: frozenset({Scope.AGGREGATES_READ}),
    Role.LEARNER: frozenset({Scope.STATEMENTS_READ_MINE}),
    Role.MANAGER: frozenset({Scope.OBJECTIVES_ASSESS}),
}


@dataclass(frozen=True)
class Person:
    """Someone signed in through the organisation's identity provider (or dev mode)."""

    issuer: str
    subject: str  # the ID token's `sub`: what the audit log records
    name: str
    roles: frozenset[Role]
    # The learner's xAPI Agent, from the ID token by the configured mapping; None when the
    # token does not carry what the mapping needs (then the learner pages say so).
    agent: dict[str, Any] | None = None
    # The person's groups, from the configured groups claim (LRS_OIDC_GROUPS_CLAIM): what
    # frameworks of objectives are assigned to (lrs.objectives).
    groups: frozenset[str] = frozenset()

    def scopes(self) -> frozenset[Scope]:
        """The union of the scopes of every role held."""
        return frozenset().union(*(ROLE_SCOPES[role] for role in self.roles))


def principal_of(person: Person, *, created: datetime) -> Credential:
    """The person as the `/api/v1` handlers see a caller: a credential-shaped principal whose
    scopes come from the roles. Its name `person:<subject>` is what the audit log records as
    the operator; its authority is the learner's Agent (so `statements/read/mine` reads their
    own statements) or, without one, an account under the issuer that matches nobody else."""
    authority = person.agent or {"objectType": "Agent", "name": person.name,
                                 "account": {"homePage": person.issuer, "name": person.subject}}
    return Credential(key=f"person:{person.subject}", name=f"person:{person.subject}",
                      secret_hash="", scopes=person.scopes(), retention=Retention.TALLY,
                      authority=authority, created=created)
