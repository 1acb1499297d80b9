"""Sharing that starts with the learner: grants of one objective's evidence to one named
person or a secret link, each a sealed snapshot with its own key, and the log of every read.

The types and the `GrantStore` protocol here are the contract with the engines
(`lrs.sharing.sqlite`, `lrs.sharing.mongo`); the rules live in `lrs.sharing.grants`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Grant:
    """Read access to one objective's evidence, granted by a learner: to one named person
    (`grantee`, their sign-in identity) or, for a share link, to whoever holds a token
    (`token_hash`: only the token's SHA-256 is kept).

    `sealed` is the evidence as the learner's open space held it when granting, AES-GCM
    encrypted with a key of this grant alone; `wrapped_key` is that key wrapped by the
    server's envelope key. Revocation and expiry destroy both (None), so nothing the store
    still holds, a backup made afterwards included, can show the evidence again."""

    id: str
    learner: str  # the learner's identity key (lrs.sharing.identity)
    learner_agent: dict[str, Any]  # their xAPI Agent, the actor of an assessment
    learner_name: str
    objective: str  # the objective's id
    objective_title: str
    grantee: str | None  # a person grant: the grantee's identity key; None for a link
    grantee_label: str  # what the learner named them by, or the link's label
    token_hash: str | None  # a share link: the SHA-256 (hex) of its token
    created: datetime
    starts: datetime
    expires: datetime
    revoked: datetime | None = None
    wrapped_key: bytes | None = None
    sealed: bytes | None = None

    @property
    def is_link(self) -> bool:
        """Whether this is a secret share link rather than a grant to a person."""
        return self.token_hash is not None

    def live(self, now: datetime) -> bool:
        """Readable now: not revoked, between its start and its expiry, its key present."""
        return (self.revoked is None and self.starts <= now < self.expires
                and self.wrapped_key is not None and self.sealed is not None)

    def state(self, now: datetime) -> str:
        """"live", "revoked", "expired", "not started" (a link before its start date)."""
        if self.revoked is not None:
            return "revoked"
        if now >= self.expires or self.wrapped_key is None:
            return "expired"
        if now < self.starts:
            return "not started"
        return "live"


@dataclass(frozen=True)
class Read:
    """One read of a grant's evidence, shown to the learner: who, when, what."""

    id: str
    grant: str  # the grant's id
    learner: str  # whose evidence (the learner's identity key), for their log
    reader: str  # a person's name and identity, or "share link '<label>'"
    at: datetime
    what: str  # e.g. "evidence of 'Handles incidents' (3 items)"


class GrantStore(Protocol):
    """Keeps grants, share links and the read log, in every engine alike."""

    async def add(self, grant: Grant) -> None:
        """Store a new grant (its id is unique)."""
        ...

    async def get(self, grant_id: str) -> Grant | None:
        """The grant with this id, or None."""
        ...

    async def find_token(self, token_hash: str) -> Grant | None:
        """The share link whose token hashes to `token_hash`, or None."""
        ...

    async def of_learner(self, learner: str) -> list[Grant]:
        """Every grant and link a learner made, newest first."""
        ...

    async def of_grantee(self, grantee: str) -> list[Grant]:
        """Every grant to this person (identity key), newest first."""
        ...

    async def revoke(self, grant_id: str, learner: str, when: datetime) -> bool:
        """Revoke the learner's grant: `revoked` becomes `when`, its key and snapshot are
        destroyed. False when the learner has no such unrevoked grant."""
        ...

    async def destroy_expired(self, now: datetime) -> int:
        """Destroy the key and snapshot of every grant expired by `now`; how many."""
        ...

    async def log_read(self, read: Read) -> None:
        """Append one read to the log."""
        ...

    async def reads(self, learner: str, *, limit: int = 200) -> list[Read]:
        """The reads of a learner's grants, newest first, at most `limit`."""
        ...

    async def erase_person(self, identity: str, *, dry_run: bool = False) -> int:
        """Delete every grant and link the person made and every grant to them, with the
        reads of those grants (a read by them is a read of a grant to them): erasure. How
        many grants, or would be with `dry_run`."""
        ...


def grant_to_record(grant: Grant) -> dict[str, Any]:
    """A grant's plain fields (times as seconds since the epoch), the same in every engine."""
    return {"id": grant.id, "learner": grant.learner, "learner_agent": grant.learner_agent,
            "learner_name": grant.learner_name, "objective": grant.objective,
            "objective_title": grant.objective_title, "grantee": grant.grantee,
            "grantee_label": grant.grantee_label, "token_hash": grant.token_hash,
            "created": grant.created.timestamp(), "starts": grant.starts.timestamp(),
            "expires": grant.expires.timestamp(),
            "revoked": grant.revoked.timestamp() if grant.revoked is not None else None,
            "wrapped_key": grant.wrapped_key, "sealed": grant.sealed}


def grant_from_record(record: dict[str, Any]) -> Grant:
    """The inverse of `grant_to_record`."""
    def when(seconds: float | None) -> datetime | None:
        return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None

    def some(field: str) -> bytes | None:
        value = record.get(field)
        return bytes(value) if value is not None else None

    return Grant(id=record["id"], learner=record["learner"],
                 learner_agent=record["learner_agent"], learner_name=record["learner_name"],
                 objective=record["objective"], objective_title=record["objective_title"],
                 grantee=record["grantee"], grantee_label=record["grantee_label"],
                 token_hash=record["token_hash"],
                 created=datetime.fromtimestamp(record["created"], UTC),
                 starts=datetime.fromtimestamp(record["starts"], UTC),
                 expires=datetime.fromtimestamp(record["expires"], UTC),
                 revoked=when(record["revoked"]), wrapped_key=some("wrapped_key"),
                 sealed=some("sealed"))
