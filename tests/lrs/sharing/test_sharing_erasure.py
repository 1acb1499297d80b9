"""Erasure (lrs.erasure.forget) takes a person's grants and links with it, and the grants to
them with their reads, whichever of their identifiers the erasure is asked for."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta

from lrs.erasure import forget
from lrs.sharing.grants import Sharing, Who, identity_of
from lrs.sharing.sealing import EnvelopeKeyWrap
from lrs.space.crypto import derive_kek
from lrs.storage import Storage


def who(email: str, name: str) -> Who:
    agent = {"objectType": "Agent", "name": name, "mbox": f"mailto:{email}"}
    identity = identity_of(agent)
    assert identity is not None
    return Who(identity, agent, name)


ADA, BOB, MAL = (who("ada@example.com", "Ada"), who("bob@example.com", "Bob"),
                 who("mal@example.com", "Mal"))
OBJECTIVE = ("https://case.example/items/incidents", "Handles incidents")


async def test_forget_deletes_their_grants_and_those_to_them(storage: Storage) -> None:
    sharing = Sharing(storage.grants, EnvelopeKeyWrap(derive_kek(os.urandom(32))[0]))
    until = datetime.now(UTC) + timedelta(days=3)
    ada_to_mal = await sharing.grant(ADA, OBJECTIVE, {"evidence": []}, grantee=MAL.agent,
                                     label="mal@example.com", expires=until)
    bob_to_ada = await sharing.grant(BOB, OBJECTIVE, {"evidence": []}, grantee=ADA.agent,
                                     label="ada@example.com", expires=until)
    bob_to_mal = await sharing.grant(BOB, OBJECTIVE, {"evidence": []}, grantee=MAL.agent,
                                     label="mal@example.com", expires=until)
    await sharing.read(ADA, bob_to_ada.id)  # Bob's log names Ada
    await sharing.read(MAL, bob_to_mal.id)
    # Asked by the mbox's SHA-1: the same person (Data §2.4.2.3).
    sha1 = hashlib.sha1(b"mailto:ada@example.com", usedforsecurity=False).hexdigest()
    dry = await forget(storage, f"mbox_sha1sum:{sha1}", now_ms=0, operator="dpo",
                       dry_run=True)
    assert dry.done["grants_deleted"] == 2
    assert await storage.grants.get(ada_to_mal.id) is not None
    done = await forget(storage, f"mbox_sha1sum:{sha1}", now_ms=0, operator="dpo")
    assert done.done["grants_deleted"] == 2
    assert await storage.grants.get(ada_to_mal.id) is None
    assert await storage.grants.get(bob_to_ada.id) is None
    assert [g.id for g in await storage.grants.of_learner(BOB.identity)] == [bob_to_mal.id]
    assert [r.reader for r in await sharing.reads(BOB)] == ["Mal (mal@example.com)"]
