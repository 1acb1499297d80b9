"""The GrantStore contract, written once and run over every reachable engine."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lrs.sharing import Grant, Read
from lrs.storage import Storage
from statements.errors import StoreUnavailable

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ADA = "mailto:ada@example.com"
MAL = "mailto:mal@example.com"


def make_grant(**overrides: object) -> Grant:
    fields: dict[str, object] = {
        "id": uuid.uuid4().hex, "learner": ADA,
        "learner_agent": {"objectType": "Agent", "mbox": ADA}, "learner_name": "Ada",
        "objective": "obj-1", "objective_title": "Handles incidents", "grantee": MAL,
        "grantee_label": "mal@example.com", "token_hash": None, "created": T0,
        "starts": T0, "expires": T0 + timedelta(days=7), "wrapped_key": b"\x01wrapped",
        "sealed": b"\x02sealed"}
    fields.update(overrides)
    return Grant(**fields)  # type: ignore[arg-type]  # a test factory: fields by name


async def test_grants_add_then_get_round_trips(storage: Storage) -> None:
    grant = make_grant()
    await storage.grants.add(grant)
    assert await storage.grants.get(grant.id) == grant
    assert await storage.grants.get("no-such-grant") is None


async def test_grants_links_are_found_by_token_hash_only(storage: Storage) -> None:
    link = make_grant(grantee=None, grantee_label="for the panel", token_hash="ab" * 32,
                      starts=T0 + timedelta(days=1))
    person = make_grant()
    await storage.grants.add(link)
    await storage.grants.add(person)
    assert await storage.grants.find_token("ab" * 32) == link
    assert await storage.grants.find_token("cd" * 32) is None
    assert (await storage.grants.get(person.id)) == person  # no token on a person grant


async def test_grants_ids_and_token_hashes_are_unique(storage: Storage) -> None:
    grant = make_grant(token_hash="ef" * 32, grantee=None)
    await storage.grants.add(grant)
    with pytest.raises(StoreUnavailable):
        await storage.grants.add(grant)
    with pytest.raises(StoreUnavailable):
        await storage.grants.add(make_grant(token_hash="ef" * 32, grantee=None))
    assert len(await storage.grants.of_learner(ADA)) == 1


async def test_grants_of_learner_and_grantee_newest_first(storage: Storage) -> None:
    older = make_grant(created=T0)
    newer = make_grant(created=T0 + timedelta(hours=1), grantee="mailto:someone@else.org")
    other = make_grant(learner="mailto:bob@example.com", created=T0 + timedelta(hours=2))
    for grant in (older, newer, other):
        await storage.grants.add(grant)
    assert [g.id for g in await storage.grants.of_learner(ADA)] == [newer.id, older.id]
    assert [g.id for g in await storage.grants.of_grantee(MAL)] == [other.id, older.id]
    assert await storage.grants.of_grantee("mailto:nobody@example.com") == []


async def test_grants_revoke_destroys_the_key_and_snapshot(storage: Storage) -> None:
    grant = make_grant()
    await storage.grants.add(grant)
    assert not await storage.grants.revoke(grant.id, "mailto:bob@example.com", T0)  # not his
    assert not await storage.grants.revoke("no-such-grant", ADA, T0)
    when = T0 + timedelta(hours=3)
    assert await storage.grants.revoke(grant.id, ADA, when)
    got = await storage.grants.get(grant.id)
    assert got == replace(grant, revoked=when, wrapped_key=None, sealed=None)
    assert got is not None and got.state(when) == "revoked" and not got.live(when)
    assert not await storage.grants.revoke(grant.id, ADA, when)  # once only


async def test_grants_destroy_expired_only_past_their_expiry(storage: Storage) -> None:
    soon = make_grant(expires=T0 + timedelta(days=1))
    later = make_grant(expires=T0 + timedelta(days=9))
    await storage.grants.add(soon)
    await storage.grants.add(later)
    assert await storage.grants.destroy_expired(T0 + timedelta(hours=23)) == 0
    assert await storage.grants.destroy_expired(T0 + timedelta(days=1)) == 1
    assert await storage.grants.destroy_expired(T0 + timedelta(days=2)) == 0  # done already
    gone = await storage.grants.get(soon.id)
    assert gone is not None and gone.wrapped_key is None and gone.sealed is None
    assert gone.revoked is None and gone.state(T0 + timedelta(days=2)) == "expired"
    assert await storage.grants.get(later.id) == later


async def test_grants_read_log_newest_first_per_learner(storage: Storage) -> None:
    grant = make_grant()
    await storage.grants.add(grant)
    reads = [Read(id=uuid.uuid4().hex, grant=grant.id, learner=ADA, reader=f"Mal ({MAL})",
                  at=T0 + timedelta(minutes=n), what=f"evidence of 'Handles incidents' ({n})")
             for n in range(3)]
    for read in reads:
        await storage.grants.log_read(read)
    await storage.grants.log_read(replace(reads[0], id=uuid.uuid4().hex,
                                          learner="mailto:bob@example.com"))
    assert await storage.grants.reads(ADA) == reads[::-1]
    assert await storage.grants.reads(ADA, limit=2) == reads[:0:-1]


async def test_grants_erase_person_removes_theirs_and_those_to_them(storage: Storage) -> None:
    mine = make_grant()  # Ada's, to Mal
    to_ada = make_grant(learner="mailto:bob@example.com", grantee=ADA)
    unrelated = make_grant(learner="mailto:bob@example.com", grantee="mailto:carol@x.org")
    for grant in (mine, to_ada, unrelated):
        await storage.grants.add(grant)
    bob = "mailto:bob@example.com"
    await storage.grants.log_read(Read(id="r1", grant=mine.id, learner=ADA, reader="Mal",
                                       at=T0, what="evidence"))
    await storage.grants.log_read(Read(id="r2", grant=to_ada.id, learner=bob,
                                       reader="Ada (ada@example.com)", at=T0, what="evidence"))
    await storage.grants.log_read(Read(id="r3", grant=unrelated.id, learner=bob,
                                       reader="Carol", at=T0, what="evidence"))
    assert await storage.grants.erase_person(ADA, dry_run=True) == 2
    assert len(await storage.grants.reads(ADA)) == 1  # nothing went
    assert await storage.grants.erase_person(ADA) == 2
    assert await storage.grants.of_learner(ADA) == []
    assert await storage.grants.of_grantee(ADA) == []
    assert await storage.grants.reads(ADA) == []
    assert [r.id for r in await storage.grants.reads(bob)] == ["r3"]  # Ada's read of his: gone
    assert await storage.grants.get(unrelated.id) == unrelated


def test_grant_state_follows_start_expiry_and_key() -> None:
    link = make_grant(grantee=None, token_hash="aa" * 32, starts=T0 + timedelta(days=1),
                      expires=T0 + timedelta(days=2))
    assert link.is_link and not make_grant().is_link
    assert link.state(T0) == "not started" and not link.live(T0)
    assert link.state(T0 + timedelta(days=1)) == "live" and link.live(T0 + timedelta(days=1))
    assert link.state(T0 + timedelta(days=2)) == "expired"
    assert replace(link, wrapped_key=None).state(T0 + timedelta(days=1)) == "expired"
