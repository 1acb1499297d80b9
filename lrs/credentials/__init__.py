"""Credentials: one per platform, with scopes, an authority Agent and a retention default."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from statements.checks import CheckMode

__all__ = ["CheckMode", "Credential", "CredentialStore", "Retention", "Scope"]


class Scope(StrEnum):
    """What a credential may do (Communication §4.2 scopes, used for HTTP Basic keys too)."""

    STATEMENTS_WRITE = "statements/write"
    STATEMENTS_READ = "statements/read"
    STATEMENTS_READ_MINE = "statements/read/mine"
    ALL_READ = "all/read"
    ALL = "all"
    STATE = "state"
    PROFILE = "profile"
    DEFINE = "define"
    AGGREGATES_READ = "aggregates/read"  # the aggregates API and the dashboard
    HITS_WRITE = "hits/write"  # the beacon
    ADMIN = "admin"  # the compliance catalogue and other administration
    COMPLIANCE_READ = "compliance/read"  # compliance reports and evidence export
    OBJECTIVES_ASSESS = "objectives/assess"  # a manager's assessments (lrs.objectives)


class Retention(StrEnum):
    """What the retention chain does by default with what a credential sends (DESIGN §3)."""

    FULL = "full"
    TALLY = "tally"


class DocumentPuts(StrEnum):
    """How a document PUT without If-Match/If-None-Match is answered (docs/compatibility.md).

    `strict` is what the conformance suites expect; `lenient` accepts the PUTs that xAPI's
    LRS requirements leave open (Communication §3.1), as TinCanPython sends them.
    """

    STRICT = "strict"
    LENIENT = "lenient"


@dataclass(frozen=True)
class Credential:
    """A platform's credential. The secret itself is never kept: only `secret_hash`."""

    key: str
    name: str
    secret_hash: str
    scopes: frozenset[Scope]
    retention: Retention
    authority: dict[str, Any]
    created: datetime
    revoked: datetime | None = None
    # When the slow check of its secret last succeeded (lrs.auth): to the cache period,
    # not to the request.
    last_used: datetime | None = None
    document_puts: DocumentPuts = DocumentPuts.STRICT
    # Days the statements it sent and had rejected are kept in the quarantine (0: off,
    # docs/quarantine.md).
    quarantine_days: int = 0
    # The door checks (lrs.door, docs/cmi5.md): off unless set.
    cmi5: CheckMode = CheckMode.OFF
    profiles: CheckMode = CheckMode.OFF
    # The credential is the cmi5 LMS's: it alone may send satisfied, abandoned, waived
    # (cmi5 §9.3.6, §9.3.7, §9.3.9) when its cmi5 mode is on.
    cmi5_lms: bool = False

    def allows(self, *wanted: Scope) -> bool:
        """Whether any of `wanted`, or `all`, is among the scopes."""
        return Scope.ALL in self.scopes or any(scope in self.scopes for scope in wanted)


class CredentialStore(Protocol):
    """Keeps credentials."""

    async def add(self, credential: Credential) -> None:
        """Store a new credential; its key is unique."""
        ...

    async def get(self, key: str) -> Credential | None:
        """The credential with this key, revoked or not."""
        ...

    async def find_by_name(self, name: str) -> Credential | None:
        """The newest unrevoked credential with this name."""
        ...

    async def list(self) -> list[Credential]:
        """Every credential, oldest first."""
        ...

    async def revoke(self, key: str, when: datetime) -> bool:
        """Mark a credential revoked; False when there is no such unrevoked credential."""
        ...

    async def replace_secret(self, key: str, secret_hash: str) -> None:
        """Give a credential a new secret."""
        ...

    async def record_use(self, key: str, when: datetime) -> None:
        """Remember that the credential was used at `when` (no-op for an unknown key)."""
        ...

    async def erase(self, key: str, *, name: str, authority: dict[str, Any],
                    when: datetime) -> None:
        """Revoke the credential (if it is not) and replace its name and authority: what
        erasing the person it was bound to leaves of it (lrs.erasure)."""
    async def set_checks(self, key: str, *, cmi5: CheckMode, profiles: CheckMode,
                         cmi5_lms: bool) -> None:
        """Set a credential's door-check modes (no-op for an unknown key)."""
        ...


# scrypt: a slow, salted, memory-hard hash from the standard library (RFC 7914).
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def new_key() -> str:
    """A public credential key (the Basic user name)."""
    return secrets.token_hex(10)


def new_secret() -> str:
    """A credential secret (the Basic password); shown once, never stored."""
    return secrets.token_hex(24)  # hex: never starts with "-", safe on any command line


def hash_secret(secret: str) -> str:
    """`scrypt$n$r$p$salt$digest`, hex-encoded."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Check a secret against `hash_secret` output in constant time."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), dklen=32,
                                   n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def authority_for(key: str, name: str, public_url: str) -> dict[str, Any]:
    """The authority Agent of a credential: the same for the same credential, always
    (LRS book 4.2.4.2 asks for a deterministic mapping)."""
    return {"objectType": "Agent", "name": name,
            "account": {"homePage": public_url.rstrip("/"), "name": key}}
