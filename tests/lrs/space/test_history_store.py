"""The HistoryStore contract (My own history: opt-ins, day keys, the pending buffer), over every
reachable engine, and the buffer written by the engines' commit with the tally's hits."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from aggregation.plan import Batch
from lrs.space.history import OptIn, PendingCopy, tag_of
from lrs.storage import Storage
from tests.aggregation.test_tally_contract import DAY, FAR, tallied

pytestmark = pytest.mark.usefixtures("engine")


def public_key() -> bytes:
    return X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw,
                                                                 PublicFormat.Raw)


def opt_in(owner: str = "mbox_sha1sum:aa", agents: tuple[str, ...] = ("mbox:mailto:a@e.com",)
           ) -> OptIn:
    return OptIn(owner, frozenset(agents), public_key(), "space-1", 1_000)


async def test_history_opt_in_is_off_by_default_then_kept_replaced_and_stopped(
        storage: Storage) -> None:
    assert await storage.history.get("mbox_sha1sum:aa") is None
    assert await storage.history.opted_in() == []
    first = opt_in()
    await storage.history.opt_in(first)
    assert await storage.history.get(first.owner) == first
    again = opt_in(agents=("mbox:mailto:a@e.com", "mbox_sha1sum:aa"))
    await storage.history.opt_in(again)  # a new key: it replaces the first
    other = opt_in("account:http://e.com|bob", ("account:http://e.com|bob",))
    await storage.history.opt_in(other)
    assert await storage.history.opted_in() == [other, again]
    assert await storage.history.opt_out(again.owner) is True
    assert await storage.history.opt_out(again.owner) is False
    assert await storage.history.opted_in() == [other]


async def test_history_day_key_is_made_once_and_never_again_after_its_day_closed(
        storage: Storage) -> None:
    assert await storage.history.day_key(DAY) is None
    key = await storage.history.day_key(DAY, create=True)
    assert key is not None and len(key) == 32
    assert await storage.history.day_key(DAY, create=True) == key
    assert await storage.history.day_key(DAY) == key
    assert await storage.history.flushed_through() is None
    assert await storage.history.close_day(DAY) == 0
    assert await storage.history.flushed_through() == DAY
    assert await storage.history.day_key(DAY) is None
    assert await storage.history.day_key(DAY, create=True) is None
    assert await storage.history.day_key(DAY - 3, create=True) is None
    assert await storage.history.day_key(DAY + 1, create=True) not in (None, key)


async def test_history_copies_are_written_by_the_commit_only_for_new_tallied_statements(
        storage: Storage) -> None:
    items = (tallied(1), tallied(2))
    copies = [PendingCopy("mbox_sha1sum:aa", b"sealed-1", items[0].statement_id),
              PendingCopy("mbox_sha1sum:aa", b"sealed-2", items[1].statement_id)]
    plan = await storage.commit(Batch(tallied=items, day=DAY, fingerprint_expires_ms=FAR),
                                copies)
    assert len(plan.fingerprints) == 2
    rows = await storage.history.pending(DAY)
    assert sorted(r.sealed for r in rows) == [b"sealed-1", b"sealed-2"]
    # Tagged, in the commit, under the key of the batch's day, made then.
    key = await storage.history.day_key(DAY)
    assert key is not None
    assert {r.tag for r in rows} == {tag_of(key, "mbox_sha1sum:aa")}
    assert {r.day for r in rows} == {DAY}
    # A retry stores nothing new: its copies are not written again.
    await storage.commit(Batch(tallied=items, day=DAY, fingerprint_expires_ms=FAR), copies)
    assert len(await storage.history.pending()) == 2
    # A copy whose statement is not in the batch's tallied ones is not written either.
    stray = PendingCopy("mbox_sha1sum:aa", b"stray", "00000000-0000-4000-8000-000000000099")
    await storage.commit(Batch(tallied=(tallied(3),), day=DAY, fingerprint_expires_ms=FAR),
                         [stray])
    assert len(await storage.history.pending()) == 2


async def test_history_copies_of_a_day_flushed_already_go_to_the_next_day(
        storage: Storage) -> None:
    await storage.history.close_day(DAY)  # flushed early (--through-today)
    await storage.commit(Batch(tallied=(tallied(1),), day=DAY, fingerprint_expires_ms=FAR),
                         [PendingCopy("o", b"late", tallied(1).statement_id)])
    rows = await storage.history.pending()
    key = await storage.history.day_key(DAY + 1)
    assert key is not None
    assert [(r.day, r.tag, r.sealed) for r in rows] == [(DAY + 1, tag_of(key, "o"), b"late")]


async def test_history_buffer_rows_move_delete_and_go_with_their_closed_day(
        storage: Storage) -> None:
    items = tuple(tallied(n) for n in range(4))
    await storage.commit(Batch(tallied=items, day=DAY, fingerprint_expires_ms=FAR),
                         [PendingCopy("o", f"s{n}".encode(), t.statement_id)
                          for n, t in enumerate(items)])
    rows = await storage.history.pending(DAY)
    assert len(rows) == 4
    assert await storage.history.delete_pending([rows[0].id]) == 1
    assert await storage.history.delete_pending([rows[0].id]) == 0
    later = await storage.history.day_key(DAY + 1, create=True)
    assert later is not None
    await storage.history.move([rows[1].id], DAY + 1, [tag_of(later, "o")])
    assert [r.sealed for r in await storage.history.pending(DAY + 1)] == [rows[1].sealed]
    assert await storage.history.close_day(DAY) == 2
    assert [r.id for r in await storage.history.pending()] == [rows[1].id]


async def test_history_flush_lease_is_held_by_one_until_it_ends(storage: Storage) -> None:
    assert await storage.history.lease_flush(now_ms=1_000, until_ms=5_000) is True
    assert await storage.history.lease_flush(now_ms=2_000, until_ms=6_000) is False
    assert await storage.history.lease_flush(now_ms=5_001, until_ms=9_000) is True
    await storage.history.end_lease()
    assert await storage.history.lease_flush(now_ms=5_002, until_ms=9_000) is True


async def test_history_copy_key_is_todays_until_today_is_flushed_then_the_next_days(
        storage: Storage) -> None:
    day, key = await storage.history.copy_key(DAY)
    assert day == DAY and key == await storage.history.day_key(DAY)
    assert await storage.history.copy_key(DAY) == (DAY, key)
    await storage.history.close_day(DAY)
    later, other = await storage.history.copy_key(DAY)
    assert later == DAY + 1 and other != key
