"""From an identity provider's claims to a Person: roles by the role map, the learner's xAPI
agent by the agent mapping; and the one check of a `next` address (no open redirect)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from lrs.config import Settings
from lrs.people import Person, Role

DEFAULT_NEXT = "/console"


def roles_from_claims(claims: Mapping[str, Any], settings: Settings) -> frozenset[Role]:
    """The roles the configured claim maps to. The claim may be a list of values or one
    string; values the role map does not name are ignored, as are values of other types."""
    value = claims.get(settings.oidc_roles_claim)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return frozenset(Role(settings.oidc_role_map[v]) for v in values
                     if isinstance(v, str) and v in settings.oidc_role_map)


def groups_from_claims(claims: Mapping[str, Any], settings: Settings) -> frozenset[str]:
    """The person's groups: the values of the configured groups claim (a list of values or
    one string), non-empty strings only; what frameworks of objectives are assigned to."""
    value = claims.get(settings.oidc_groups_claim)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return frozenset(v for v in values if isinstance(v, str) and v)


def agent_from_claims(claims: Mapping[str, Any], settings: Settings) -> dict[str, Any] | None:
    """The learner's xAPI Agent by the configured mapping (Data §2.4.2.1 inverse functional
    identifiers: one of mbox or account), or None when the claims lack what it needs."""
    name = claims.get("name")
    named = {"name": name} if isinstance(name, str) and name else {}
    if settings.oidc_agent_mapping == "account":
        account = claims.get(settings.oidc_agent_name_claim)
        if not isinstance(account, str) or not account:
            return None
        return {"objectType": "Agent", **named,
                "account": {"homePage": settings.oidc_agent_homepage, "name": account}}
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or any(c.isspace() for c in email):
        return None
    return {"objectType": "Agent", **named, "mbox": f"mailto:{email}"}


def person_from_claims(issuer: str, claims: Mapping[str, Any], settings: Settings) -> Person:
    """The signed-in person an ID token (and userinfo) describes."""
    subject = str(claims["sub"])
    name = next((claims[c] for c in ("name", "preferred_username", "email")
                 if isinstance(claims.get(c), str) and claims[c]), subject)
    return Person(issuer=issuer, subject=subject, name=name,
                  roles=roles_from_claims(claims, settings),
                  agent=agent_from_claims(claims, settings),
                  groups=groups_from_claims(claims, settings))


def safe_next(target: str | None) -> str:
    """`target` when it is a same-site relative path, else the console: never an open
    redirect. Refused: "//host" (scheme-relative), anything with a backslash (browsers read
    "/\\host" as "//host"), control characters, or a scheme or host once parsed."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return DEFAULT_NEXT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return target
