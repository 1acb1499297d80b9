"""The rules of sharing: who may be named, how long a grant or link may live, reading one
(logged, only while live), revoking, and destroying the keys of what has expired."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lrs.sharing import Grant, GrantStore, Read
from lrs.sharing.sealing import KeyWrap, SnapshotUnreadable, seal, unseal
from statements.erasure import canonical_key
from statements.errors import Forbidden, InvalidRequest, NotFound, Problem
from statements.indexing import agent_key

# A grant or link lives at most this long: sharing is for a review, not for ever.
MAX_LIFETIME = timedelta(days=366)
MAX_LABEL = 200


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Who:
    """A signed-in person as sharing sees them: their identity key, Agent and name."""

    identity: str
    agent: dict[str, Any]
    name: str


def identity_of(agent: dict[str, Any] | None) -> str | None:
    """The one string an Agent's inverse functional identifier (Data §2.4.2.1) comes to, in
    the canonical form erasure records and the space is owned under (an mbox as its
    mbox_sha1sum, Data §2.4.2.3), so that forgetting a person finds their grants; None when
    the Agent has no identifier."""
    key = agent_key(agent) if agent else None
    return canonical_key(key) if key is not None else None


def grantee_agent(named: str, *, mapping: str, homepage: str) -> dict[str, Any]:
    """The Agent that sign-in gives the person the learner names (their email, or their
    account name under the account mapping: lrs.people.claims.agent_from_claims)."""
    named = named.strip()
    if mapping == "account":
        if not named or len(named) > MAX_LABEL:
            raise InvalidRequest("invalid grantee", (
                Problem("$.grantee", "an account name of 1 to 200 characters"),))
        return {"objectType": "Agent", "account": {"homePage": homepage, "name": named}}
    local, at, domain = named.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in named) \
            or len(named) > MAX_LABEL:
        raise InvalidRequest("invalid grantee", (
            Problem("$.grantee", "must be the email address the person signs in with"),))
    return {"objectType": "Agent", "mbox": f"mailto:{named}"}


def token_hash(token: str) -> str:
    """What the store keeps of a share link's token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Sharing:
    """Grants and share links over one store and envelope key."""

    store: GrantStore
    envelope: KeyWrap
    clock: Callable[[], datetime] = field(default=_utc_now)

    def _check_period(self, starts: datetime, expires: datetime, *, path: str) -> None:
        now = self.clock()
        if expires <= now:
            raise InvalidRequest("the end is not in the future", (
                Problem(path, "must be later than now"),))
        if expires <= starts:
            raise InvalidRequest("the end is not after the start", (
                Problem(path, "must be later than the start"),))
        if expires - max(starts, now) > MAX_LIFETIME:
            raise InvalidRequest("the period is too long", (
                Problem(path, f"at most {MAX_LIFETIME.days} days from the start"),))

    def _grant(self, learner: Who, objective: tuple[str, str], snapshot: dict[str, Any],
               **fields: Any) -> Grant:
        grant_id = str(uuid.uuid4())
        wrapped, sealed = seal(snapshot, grant_id, self.envelope)
        return Grant(id=grant_id, learner=learner.identity, learner_agent=learner.agent,
                     learner_name=learner.name, objective=objective[0],
                     objective_title=objective[1], created=self.clock(), wrapped_key=wrapped,
                     sealed=sealed, **fields)

    async def grant(self, learner: Who, objective: tuple[str, str], snapshot: dict[str, Any],
                    *, grantee: dict[str, Any], label: str, expires: datetime) -> Grant:
        """Give the person `grantee` (an Agent) read access to `snapshot`, the evidence of
        `objective` (IRI, title), until `expires`."""
        identity = identity_of(grantee)
        assert identity is not None  # grantee_agent always gives one
        if identity == learner.identity:
            raise InvalidRequest("a grant to yourself", (
                Problem("$.grantee", "name someone else: you can read your own evidence"),))
        self._check_period(self.clock(), expires, path="$.expires")
        grant = self._grant(learner, objective, snapshot, grantee=identity,
                            grantee_label=label, token_hash=None, starts=self.clock(),
                            expires=expires)
        await self.store.add(grant)
        return grant

    async def link(self, learner: Who, objective: tuple[str, str], snapshot: dict[str, Any],
                   *, label: str, starts: datetime, ends: datetime) -> tuple[Grant, str]:
        """A secret share link to `snapshot` readable from `starts` until `ends`: the grant
        and its token (shown once; only its hash is kept)."""
        self._check_period(starts, ends, path="$.ends")
        token = secrets.token_urlsafe(32)
        grant = self._grant(learner, objective, snapshot, grantee=None, grantee_label=label,
                            token_hash=token_hash(token), starts=starts, expires=ends)
        await self.store.add(grant)
        return grant, token

    async def revoke(self, learner: Who, grant_id: str) -> None:
        """End one of the learner's grants or links now, destroying its key."""
        if not await self.store.revoke(grant_id, learner.identity, self.clock()):
            grant = await self.store.get(grant_id)
            if grant is None or grant.learner != learner.identity:
                raise NotFound(f"you have no grant {grant_id!r}")
            raise InvalidRequest(f"grant {grant_id!r} is revoked already")

    async def mine(self, learner: Who) -> list[Grant]:
        """The learner's grants and links, newest first (expired keys destroyed first)."""
        await self.store.destroy_expired(self.clock())
        return await self.store.of_learner(learner.identity)

    async def shared_with(self, reader: Who) -> list[Grant]:
        """The live grants to this person, newest first."""
        now = self.clock()
        await self.store.destroy_expired(now)
        return [g for g in await self.store.of_grantee(reader.identity) if g.live(now)]

    async def _open(self, grant: Grant, reader: str, why: str = "") -> dict[str, Any]:
        now = self.clock()
        if not grant.live(now):
            if now >= grant.expires:
                await self.store.destroy_expired(now)
            state = grant.state(now)
            raise Forbidden("this link cannot be read before its start date"
                            if state == "not started" else
                            f"this grant is {state}: its evidence can no longer be read")
        assert grant.wrapped_key is not None and grant.sealed is not None
        try:
            snapshot = unseal(grant.wrapped_key, grant.sealed, grant.id, self.envelope)
        except SnapshotUnreadable:
            raise Forbidden("this grant's evidence cannot be decrypted") from None
        count = len(snapshot.get("evidence", []))
        await self.store.log_read(Read(
            id=str(uuid.uuid4()), grant=grant.id, learner=grant.learner, reader=reader,
            at=now, what=f"evidence of '{grant.objective_title}' ({count} "
                         f"item{'s' if count != 1 else ''}){why}"))
        return snapshot

    async def read(self, reader: Who, grant_id: str, *, to_assess: bool = False
                   ) -> tuple[Grant, dict[str, Any]]:
        """A grant to `reader` and its evidence, the read logged for the learner (saying so
        when it is read `to_assess`). NotFound unless it was granted to them; Forbidden once
        revoked or expired."""
        grant = await self.store.get(grant_id)
        if grant is None or grant.is_link or grant.grantee != reader.identity:
            raise NotFound(f"nothing was shared with you as {grant_id!r}")
        return grant, await self._open(grant, f"{reader.name} ({grant.grantee_label})",
                                       ", to assess it" if to_assess else "")

    async def read_link(self, token: str) -> tuple[Grant, dict[str, Any]]:
        """The share link a token opens and its evidence, the read logged."""
        grant = await self.store.find_token(token_hash(token))
        if grant is None:
            raise NotFound("no such share link")
        return grant, await self._open(grant, f"share link '{grant.grantee_label}'")

    async def reads(self, learner: Who) -> list[Read]:
        """Who read the learner's evidence, when, and what: newest first."""
        return await self.store.reads(learner.identity)
