"""The rules of sharing (lrs.sharing.grants) over each engine's real store: grants to one
named person, share links, reads logged, revocation and expiry destroying the key."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lrs.sharing.grants import Sharing, Who, grantee_agent, identity_of, token_hash
from lrs.sharing.sealing import EnvelopeKeyWrap, SnapshotUnreadable, seal, unseal
from lrs.space.crypto import derive_kek
from lrs.storage import Storage
from statements.errors import Forbidden, InvalidRequest, NotFound

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def who(email: str, name: str) -> Who:
    agent = {"objectType": "Agent", "mbox": f"mailto:{email}"}
    identity = identity_of(agent)
    assert identity is not None
    return Who(identity, agent, name)


ADA = who("ada@example.com", "Ada Lovelace")
MAL = who("mal@example.com", "Mal Manager")
BOB = who("bob@example.com", "Bob")
OBJECTIVE = ("https://case.example/items/incidents", "Handles incidents")
SECRET_TEXT = "I calmed the room and rerouted the pager rota"
SNAPSHOT = {"objective": {"iri": OBJECTIVE[0], "title": OBJECTIVE[1]},
            "evidence": [{"kind": "entry", "id": "e1", "title": "Night shift",
                          "text": SECRET_TEXT}]}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sharing(storage: Storage, clock: Clock) -> Sharing:
    return Sharing(storage.grants, EnvelopeKeyWrap(derive_kek(os.urandom(32))[0]), clock)


async def _grant_to_mal(sharing: Sharing, days: int = 7) -> str:
    grant = await sharing.grant(ADA, OBJECTIVE, SNAPSHOT, grantee=MAL.agent,
                                label="mal@example.com", expires=T0 + timedelta(days=days))
    return grant.id


async def test_grant_read_by_the_grantee_only_and_logged(sharing: Sharing) -> None:
    grant_id = await _grant_to_mal(sharing)
    assert [g.id for g in await sharing.shared_with(MAL)] == [grant_id]
    assert await sharing.shared_with(BOB) == []
    grant, snapshot = await sharing.read(MAL, grant_id)
    assert snapshot == SNAPSHOT and grant.learner_agent == ADA.agent
    with pytest.raises(NotFound):
        await sharing.read(BOB, grant_id)
    with pytest.raises(NotFound):
        await sharing.read(MAL, "no-such-grant")
    [read] = await sharing.reads(ADA)
    assert read.grant == grant_id and read.at == T0
    assert read.reader == "Mal Manager (mal@example.com)"
    assert read.what == "evidence of 'Handles incidents' (1 item)"


async def test_grant_revoked_is_unreadable_and_its_key_destroyed(
        sharing: Sharing, storage: Storage, clock: Clock) -> None:
    grant_id = await _grant_to_mal(sharing)
    with pytest.raises(NotFound):
        await sharing.revoke(BOB, grant_id)  # not his to revoke
    clock.now = T0 + timedelta(hours=1)
    await sharing.revoke(ADA, grant_id)
    with pytest.raises(InvalidRequest):
        await sharing.revoke(ADA, grant_id)
    with pytest.raises(Forbidden, match="revoked"):
        await sharing.read(MAL, grant_id)
    assert await sharing.shared_with(MAL) == []
    stored = await storage.grants.get(grant_id)
    assert stored is not None and stored.wrapped_key is None and stored.sealed is None
    assert stored.revoked == clock.now
    assert await sharing.reads(ADA) == []  # a refused read reads nothing


async def test_grant_expired_is_unreadable_and_its_key_destroyed(
        sharing: Sharing, storage: Storage, clock: Clock) -> None:
    grant_id = await _grant_to_mal(sharing, days=1)
    await sharing.read(MAL, grant_id)
    clock.now = T0 + timedelta(days=1)
    with pytest.raises(Forbidden, match="expired"):
        await sharing.read(MAL, grant_id)
    stored = await storage.grants.get(grant_id)
    assert stored is not None and stored.wrapped_key is None and stored.sealed is None
    assert [g.state(clock.now) for g in await sharing.mine(ADA)] == ["expired"]


@pytest.mark.parametrize(("days", "message"), [
    (0, "not in the future"), (-1, "not in the future"), (367, "too long")])
async def test_grant_period_is_checked(sharing: Sharing, days: int, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as raised:
        await _grant_to_mal(sharing, days=days)
    assert raised.value.problems[0].path == "$.expires"


async def test_grant_to_oneself_is_refused(sharing: Sharing) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await sharing.grant(ADA, OBJECTIVE, SNAPSHOT, grantee=ADA.agent, label="me",
                            expires=T0 + timedelta(days=1))
    assert raised.value.problems[0].path == "$.grantee"


async def test_link_opens_between_its_dates_and_logs_reads(
        sharing: Sharing, storage: Storage, clock: Clock) -> None:
    grant, token = await sharing.link(ADA, OBJECTIVE, SNAPSHOT, label="Promotion panel",
                                      starts=T0 + timedelta(days=1),
                                      ends=T0 + timedelta(days=3))
    assert grant.token_hash == token_hash(token) and token not in repr(grant)
    with pytest.raises(Forbidden, match="start date"):
        await sharing.read_link(token)
    clock.now = T0 + timedelta(days=2)
    assert (await sharing.read_link(token))[1] == SNAPSHOT
    with pytest.raises(NotFound):
        await sharing.read_link(token + "x")
    with pytest.raises(NotFound):  # a link is no grant to a person
        await sharing.read(MAL, grant.id)
    [read] = await sharing.reads(ADA)
    assert read.reader == "share link 'Promotion panel'"
    clock.now = T0 + timedelta(days=3)
    with pytest.raises(Forbidden, match="expired"):
        await sharing.read_link(token)


async def test_link_period_end_before_start_is_refused(sharing: Sharing) -> None:
    with pytest.raises(InvalidRequest, match="not after the start") as raised:
        await sharing.link(ADA, OBJECTIVE, SNAPSHOT, label="x", starts=T0 + timedelta(days=2),
                           ends=T0 + timedelta(days=1))
    assert raised.value.problems[0].path == "$.ends"


async def test_grant_evidence_never_plaintext_in_the_files_written(
        sharing: Sharing, storage: Storage, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    grant_id = await _grant_to_mal(sharing)
    await sharing.read(MAL, grant_id)
    await storage.close()
    # SQLite's file, or SecantusDB's data directory (WiredTiger files, journal included).
    where = [tmp_path] if storage.engine == "sqlite" else \
        list(tmp_path_factory.getbasetemp().glob("secantus*"))
    written = b"".join(p.read_bytes() for d in where for p in d.rglob("*") if p.is_file())
    assert b"Handles incidents" in written  # the scan sees what is stored in plain text
    assert SECRET_TEXT.encode() not in written and b"Night shift" not in written


def test_sealed_snapshot_is_bound_to_its_grant_and_key() -> None:
    envelope = EnvelopeKeyWrap(derive_kek(os.urandom(32))[0])
    wrapped, sealed = seal(SNAPSHOT, "g1", envelope)
    assert unseal(wrapped, sealed, "g1", envelope) == SNAPSHOT
    with pytest.raises(SnapshotUnreadable):
        unseal(wrapped, sealed, "g2", envelope)  # moved onto another grant
    with pytest.raises(SnapshotUnreadable):
        unseal(wrapped, sealed, "g1", EnvelopeKeyWrap(derive_kek(os.urandom(32))[0]))
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SnapshotUnreadable):
        unseal(wrapped, tampered, "g1", envelope)


def test_identity_of_agents_is_the_canonical_agent_key() -> None:
    sha1 = hashlib.sha1(b"mailto:ada@example.com").hexdigest()
    assert identity_of({"mbox": "mailto:ada@EXAMPLE.com"}) == f"mbox_sha1sum:{sha1}"
    assert identity_of({"mbox_sha1sum": sha1.upper()}) == f"mbox_sha1sum:{sha1}"
    assert identity_of({"account": {"homePage": "https://idp", "name": "ada"}}) == \
        "account:https://idp|ada"
    assert identity_of({"name": "no identifier"}) is None and identity_of(None) is None


def test_grantee_agent_by_the_sign_in_mapping() -> None:
    assert grantee_agent(" mal@example.com ", mapping="mbox", homepage="") == MAL.agent
    assert grantee_agent("mal", mapping="account", homepage="https://idp") == {
        "objectType": "Agent", "account": {"homePage": "https://idp", "name": "mal"}}
    for bad in ("mal", "mal@localhost", "m al@example.com", ""):
        with pytest.raises(InvalidRequest) as raised:
            grantee_agent(bad, mapping="mbox", homepage="")
        assert raised.value.problems[0].path == "$.grantee"
