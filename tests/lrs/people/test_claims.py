"""Claims to a Person (roles by the role map, the learner's agent by the agent mapping) and the
`next` check, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from lrs.config import Settings
from lrs.credentials import Scope
from lrs.people import Person, Role
from lrs.people.claims import (
    DEFAULT_NEXT,
    agent_from_claims,
    groups_from_claims,
    person_from_claims,
    roles_from_claims,
    safe_next,
)

ROLE_CASES: list[tuple[dict[str, Any], dict[str, Any], set[Role]]] = [
    ({}, {"groups": ["admin"]}, {Role.ADMIN}),
    ({}, {"groups": "analyst"}, {Role.ANALYST}),  # one string, not a list
    ({}, {"groups": ["learner", "compliance", "staff", 7, None]}, {Role.LEARNER,
                                                                   Role.COMPLIANCE}),
    ({}, {"groups": ["staff"]}, set()),
    ({}, {}, set()),
    ({}, {"groups": {"admin": True}}, set()),  # neither a list nor a string
    ({"oidc_roles_claim": "roles",
      "oidc_role_map": {"LRS.Admin": "admin", "/hr/auditors": "compliance"}},
     {"roles": ["LRS.Admin", "/hr/auditors", "admin"], "groups": ["learner"]},
     {Role.ADMIN, Role.COMPLIANCE}),  # only the configured claim, only mapped values
]


@pytest.mark.parametrize(("overrides", "claims", "expected"), ROLE_CASES)
def test_roles_from_claims_by_the_role_map(overrides: dict[str, Any], claims: dict[str, Any],
                                           expected: set[Role]) -> None:
    assert roles_from_claims(claims, Settings(**overrides)) == expected


def test_role_map_naming_an_unknown_role_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="oidc_role_map"):
        Settings(oidc_role_map={"x": "superuser"})


def test_agent_from_claims_mbox_from_email() -> None:
    agent = agent_from_claims({"email": "ada@example.com", "name": "Ada"}, Settings())
    assert agent == {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
    assert agent_from_claims({"name": "Ada"}, Settings()) is None
    assert agent_from_claims({"email": "not an email"}, Settings()) is None


def test_agent_from_claims_account_with_homepage_and_claim() -> None:
    settings = Settings(oidc_agent_mapping="account",
                        oidc_agent_homepage="https://login.example.com",
                        oidc_agent_name_claim="employee_id")
    agent = agent_from_claims({"employee_id": "E123", "email": "ada@example.com"}, settings)
    assert agent == {"objectType": "Agent",
                     "account": {"homePage": "https://login.example.com", "name": "E123"}}
    assert agent_from_claims({"email": "ada@example.com"}, settings) is None


def test_account_mapping_without_a_homepage_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="LRS_OIDC_AGENT_HOMEPAGE"):
        Settings(oidc_agent_mapping="account")


def test_person_from_claims_names_and_roles() -> None:
    person = person_from_claims("https://idp.example.com", {
        "sub": "248289761001", "preferred_username": "ada", "email": "ada@example.com",
        "groups": ["learner", "analyst"]}, Settings())
    assert person.subject == "248289761001" and person.name == "ada"
    assert person.roles == {Role.LEARNER, Role.ANALYST}
    assert person.issuer == "https://idp.example.com"
    assert person.agent is not None and person.agent["mbox"] == "mailto:ada@example.com"


GROUP_CASES: list[tuple[dict[str, Any], dict[str, Any], set[str]]] = [
    ({}, {"groups": ["learner", "sales-emea", "", 7, None]}, {"learner", "sales-emea"}),
    ({}, {"groups": "sales-emea"}, {"sales-emea"}),  # one string, not a list
    ({}, {"groups": {"sales": True}}, set()),  # neither a list nor a string
    ({}, {}, set()),
    ({"oidc_groups_claim": "departments", "oidc_roles_claim": "roles"},
     {"roles": ["learner"], "departments": ["/eu/sales"], "groups": ["other"]},
     {"/eu/sales"}),  # only the configured claim
]


@pytest.mark.parametrize(("overrides", "claims", "expected"), GROUP_CASES)
def test_groups_from_claims_by_the_groups_claim(overrides: dict[str, Any],
                                                claims: dict[str, Any],
                                                expected: set[str]) -> None:
    assert groups_from_claims(claims, Settings(**overrides)) == expected


def test_person_from_claims_carries_groups_and_the_manager_role() -> None:
    person = person_from_claims("https://idp.example.com", {
        "sub": "m1", "name": "Grace", "groups": ["manager", "sales-emea"]}, Settings())
    assert person.roles == {Role.MANAGER}
    assert person.groups == {"manager", "sales-emea"}
    assert Scope.OBJECTIVES_ASSESS in person.scopes()
    # Existing code that builds a Person without groups keeps working: none.
    assert Person(issuer="i", subject="s", name="n", roles=frozenset()).groups == frozenset()


@pytest.mark.parametrize("target", [
    None, "", "console", "//evil.example", "//evil.example/path", "https://evil.example",
    "http:/evil.example", "/\\evil.example", "/\\/evil.example", "\\\\evil.example",
    "javascript:alert(1)", "/\tevil", "/ok\r\nLocation: https://evil.example", "///evil.example",
])
def test_safe_next_refuses_anything_off_site(target: str | None) -> None:
    assert safe_next(target) == DEFAULT_NEXT


@pytest.mark.parametrize("target", ["/console", "/console/learner?x=1#top", "/dashboard",
                                    "/%2F%2Fevil.example", "/api/v1/me"])
def test_safe_next_keeps_a_same_site_path(target: str) -> None:
    assert safe_next(target) == target
