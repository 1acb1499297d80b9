"""My own history end to end below HTTP, on every engine: capture at the door, the daily padded
flush into real sealed spaces, reading it back, the buffer naming nobody, and the tags
unlinkable once a day is flushed."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bson
import orjson
import pytest

from lrs.config import Settings
from lrs.consistency import StoredClock
from lrs.credentials import Credential, Retention, Scope, authority_for, hash_secret
from lrs.ingest import build_ingest
from lrs.space.history import DAY_MS, KIND, tag_of
from lrs.space.history_flush import flush_history, scheduled_flush
from lrs.space.history_service import SpaceHistory, read, start, status, stop
from lrs.space.keys import owner_key
from lrs.space.service import Spaces, open_spaces
from lrs.storage import Storage
from statements.errors import Conflict
from statements.versions import XapiVersion
from tests.factories import make_agent, make_statement

pytestmark = pytest.mark.usefixtures("engine")
NOW = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
DAY = int(NOW.timestamp() * 1000) // DAY_MS
AFTER = (DAY + 1) * DAY_MS + 30 * 60_000  # the next day, past the grace
PASSPHRASE = "a long enough passphrase"
VIEWED = "http://id.tincanapi.com/verb/viewed"
CREDENTIAL = Credential(
    key="intranet-key", name="intranet", secret_hash=hash_secret("s" * 32),
    scopes=frozenset({Scope.STATEMENTS_WRITE}), retention=Retention.TALLY,
    authority=authority_for("intranet-key", "intranet", "http://lrs.test"), created=NOW)


class Recording(SpaceHistory):
    """The real SpaceHistory, noting each append's owner, day and plaintext size."""

    def __init__(self, spaces: Spaces) -> None:
        super().__init__(spaces)
        self.appends: list[tuple[str, int, int]] = []

    async def append_history(self, owner: str, day: int, body: bytes) -> None:
        self.appends.append((owner, day, len(body)))
        await super().append_history(owner, day, body)


@pytest.fixture
def spaces(settings: Settings, storage: Storage) -> Spaces:
    return open_spaces(settings, storage.space, storage.engine)


def viewed(person: str, n: int) -> dict[str, Any]:
    return make_statement(actor=make_agent(person), verb={"id": VIEWED},
                          object={"id": f"http://intranet.example.com/pages/{n % 3}"},
                          result=None, context={"platform": "intranet"},
                          timestamp="2026-11-03T09:00:00.000Z")


async def sealed_learner(storage: Storage, spaces: Spaces, person: str) -> str:
    owner = owner_key(make_agent(person))
    await spaces.create(owner)
    await spaces.seal(owner, PASSPHRASE)
    await start(storage.history, spaces, owner, make_agent(person), now_ms=0)
    return owner


async def send(storage: Storage, settings: Settings, statements: list[dict[str, Any]],
               at: datetime = NOW) -> None:
    ingest = await build_ingest(storage, settings, clock=StoredClock(lambda: at))
    for start_at in range(0, len(statements), 10):
        await ingest(orjson.dumps(statements[start_at:start_at + 10]),
                     content_type="application/json", version=XapiVersion.V2,
                     credential=CREDENTIAL)


async def test_history_flush_appends_same_size_batches_whatever_each_learner_did(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    busy, quiet, idle = [await sealed_learner(storage, spaces, p)
                         for p in ("busy", "quiet", "idle")]
    sent = [viewed("busy", n) for n in range(25)] + [viewed("quiet", 1)] \
        + [viewed("stranger", n) for n in range(5)]
    await send(storage, settings, sent)
    assert len(await storage.history.pending()) == 26
    recorder = Recording(spaces)
    report = await flush_history(storage.history, recorder, now_ms=AFTER,
                                 capacity=settings.history_batch_bytes, grace_minutes=10)
    assert report.days == [DAY] and report.batches == 3 and report.copies == 26
    assert report.discarded == 0  # every row went into a batch
    # One batch per opted-in learner, all of one size, all for the same day, in one flush:
    # 25 statements, 1 and none look alike.
    assert sorted(recorder.appends) == sorted(
        (o, DAY, settings.history_batch_bytes) for o in (busy, quiet, idle))
    sizes = set()
    for owner in (busy, quiet, idle):
        record = await spaces.record_of(owner)
        assert record is not None
        blobs = await storage.space.blobs(record.space, KIND)
        assert len(blobs) == 1
        sizes.add(len(blobs[0].data))
    assert len(sizes) == 1
    assert await storage.history.pending() == []
    for owner, expected in ((busy, 25), (quiet, 1), (idle, 0)):
        key = await spaces.unlock(owner, PASSPHRASE)
        mine = await read(spaces, key)
        assert len(mine) == expected
        assert {s["actor"]["mbox"] for s in mine} <= {"mailto:busy@example.com",
                                                      "mailto:quiet@example.com"}
    busy_key = await spaces.unlock(busy, PASSPHRASE)
    assert sorted(s["id"] for s in await read(spaces, busy_key)) == sorted(
        s["id"] for s in sent[:25])
    # A flush run again finds nothing more to do.
    again = await flush_history(storage.history, recorder, now_ms=AFTER,
                                capacity=settings.history_batch_bytes, grace_minutes=10)
    assert again.days == [] and len(recorder.appends) == 3


async def test_history_buffer_rows_name_nobody_and_tags_unlink_after_the_flush(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    owner = await sealed_learner(storage, spaces, "ada")
    await send(storage, settings, [viewed("ada", n) for n in range(3)])
    rows = await storage.history.pending()
    assert len(rows) == 3
    agent = make_agent("ada")
    needles = [b"ada@example.com", agent["name"].encode(), owner.encode(),
               owner.removeprefix("mbox_sha1sum:").encode(),
               hashlib.sha1(b"mailto:ada@example.com").digest()]
    for row in rows:
        stored = row.id.encode() + row.tag + row.sealed + str(row.day).encode()
        for needle in needles:
            assert needle not in stored
    # While the day is open the owner's tag finds their rows; once flushed, its key is gone.
    key = await storage.history.day_key(DAY)
    assert key is not None and {r.tag for r in rows} == {tag_of(key, owner)}
    await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER,
                        capacity=settings.history_batch_bytes, grace_minutes=10)
    assert await storage.history.day_key(DAY) is None
    assert await storage.history.day_key(DAY, create=True) is None
    # The next day's statements are tagged under a new key: nothing ties them to the old tags.
    await send(storage, settings, [viewed("ada", 9)], at=NOW + timedelta(days=1))
    later = await storage.history.pending()
    assert len(later) == 1 and later[0].tag not in {r.tag for r in rows}


async def test_history_full_batch_carries_the_rest_over_to_the_next_day(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    owner = await sealed_learner(storage, spaces, "ada")
    await send(storage, settings, [viewed("ada", n) for n in range(12)])
    capacity = 4096  # room for three copies of about 1 KiB
    first = await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER,
                                capacity=capacity, grace_minutes=10)
    assert first.copies == 3 and first.carried == 9
    assert len(await storage.history.pending(DAY + 1)) == 9
    later = await flush_history(storage.history, SpaceHistory(spaces),
                                now_ms=AFTER + 3 * DAY_MS, capacity=capacity, grace_minutes=10)
    assert later.days == [DAY + 1, DAY + 2, DAY + 3] and later.copies == 9
    key = await spaces.unlock(owner, PASSPHRASE)
    assert len(await read(spaces, key)) == 12
    record = await spaces.record_of(owner)
    assert record is not None
    assert len({len(b.data) for b in await storage.space.blobs(record.space, KIND)}) == 1


async def test_history_stop_deletes_what_waits_and_on_request_the_copy(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    owner = await sealed_learner(storage, spaces, "ada")
    other = await sealed_learner(storage, spaces, "bob")
    await send(storage, settings, [viewed("ada", 1), viewed("bob", 1)])
    await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER,
                        capacity=settings.history_batch_bytes, grace_minutes=10)
    tomorrow = NOW + timedelta(days=1)
    await send(storage, settings, [viewed("ada", 2), viewed("bob", 2)], at=tomorrow)
    assert (await status(storage.history, spaces, owner)).describe() == {
        "keeping": True, "since_ms": 0, "sealed": True, "batches": 1}
    done = await stop(storage.history, storage.space, owner, delete_copy=False)
    assert done == {"stopped": 1, "pending_deleted": 1}
    assert len(await storage.history.pending()) == 1  # bob's
    await send(storage, settings, [viewed("ada", 3)], at=tomorrow)
    assert len(await storage.history.pending()) == 1  # no copy after stopping
    assert (await status(storage.history, spaces, owner)).batches == 1  # kept, not asked
    done = await stop(storage.history, storage.space, owner, delete_copy=True)
    assert done == {"stopped": 0, "pending_deleted": 0, "batches_deleted": 1}
    assert (await status(storage.history, spaces, owner)).describe() == {
        "keeping": False, "since_ms": None, "sealed": True, "batches": 0}
    assert (await status(storage.history, spaces, other)).batches == 1


async def test_history_flush_through_today_then_later_copies_wait_for_tomorrow(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    owner = await sealed_learner(storage, spaces, "ada")
    await send(storage, settings, [viewed("ada", 1)])
    now_ms = int(NOW.timestamp() * 1000)
    report = await flush_history(storage.history, SpaceHistory(spaces), now_ms=now_ms,
                                 capacity=settings.history_batch_bytes, grace_minutes=10,
                                 through_today=True)
    assert report.days == [DAY] and report.copies == 1
    await send(storage, settings, [viewed("ada", 2)])  # still today
    assert [r.day for r in await storage.history.pending()] == [DAY + 1]
    await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER + DAY_MS,
                        capacity=settings.history_batch_bytes, grace_minutes=10)
    key = await spaces.unlock(owner, PASSPHRASE)
    assert len(await read(spaces, key)) == 2


async def test_history_flush_stops_a_learner_whose_sealed_space_went_away(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    owner = await sealed_learner(storage, spaces, "ada")
    await send(storage, settings, [viewed("ada", 1)])
    await spaces.destroy(owner)
    report = await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER,
                                 capacity=settings.history_batch_bytes, grace_minutes=10)
    assert report.stopped == 1 and report.batches == 0 and report.discarded == 1
    assert await storage.history.get(owner) is None


MARKER = "history-marker-7f3c1e"  # only in the copies: the tally drops result.response


async def stored_anywhere(storage: Storage, settings: Settings, needle: bytes) -> list[str]:
    """Where the LRS stored `needle`: each file under the data directory (SQLite: database,
    WAL, keyring), or each MongoDB collection whose documents hold it."""
    if storage.engine == "sqlite":
        return [str(p) for p in Path(settings.data_dir).rglob("*")
                if p.is_file() and needle in p.read_bytes()]
    db = storage._resource[settings.mongodb_database]
    found = []
    for name in await db.list_collection_names():
        if any(needle in bson.encode(d) for d in await db[name].find().to_list(None)):
            found.append(name)
    return found


async def test_history_copies_are_never_stored_in_plaintext_and_kept_ones_not_copied(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    owner = await sealed_learner(storage, spaces, "ada")
    marked = [make_statement(actor=make_agent("ada"), verb={"id": VIEWED},
                             object={"id": "http://intranet.example.com/pages/1"},
                             result={"response": f"{MARKER}-{n}"}, context=None,
                             timestamp="2026-11-03T09:00:00.000Z") for n in range(3)]
    await send(storage, settings, marked)
    assert len(await storage.history.pending()) == 3
    assert await stored_anywhere(storage, settings, MARKER.encode()) == []
    # A kept statement is in the learner's record already: no copy of it.
    kept = Credential(**{**CREDENTIAL.__dict__, "key": "lms-key", "name": "lms",
                         "retention": Retention.FULL})
    await storage.credentials.add(kept)
    ingest = await build_ingest(storage, settings, clock=StoredClock(lambda: NOW))
    await ingest(orjson.dumps([viewed("ada", 7)]), content_type="application/json",
                 version=XapiVersion.V2, credential=kept)
    assert len(await storage.history.pending()) == 3
    await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER,
                        capacity=settings.history_batch_bytes, grace_minutes=10)
    assert await stored_anywhere(storage, settings, MARKER.encode()) == []
    key = await spaces.unlock(owner, PASSPHRASE)
    assert sorted(s["result"]["response"] for s in await read(spaces, key)) == [
        f"{MARKER}-{n}" for n in range(3)]


async def test_history_a_refused_batch_writes_no_copy_and_no_hit(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    await sealed_learner(storage, spaces, "ada")
    first = viewed("ada", 1)
    await send(storage, settings, [first])
    fingerprints = await storage.tally.where([first["id"]])
    assert fingerprints == {first["id"]: "tally"}
    fresh, changed = viewed("ada", 2), {**first, "object": {"id": "http://other.example/x"}}
    with pytest.raises(Conflict):  # the same id with other content: a 409, all or nothing
        await send(storage, settings, [fresh, changed])
    assert len(await storage.history.pending()) == 1
    assert await storage.tally.where([fresh["id"]]) == {}


async def test_history_scheduled_flush_puts_a_closed_day_in_the_space_while_the_app_runs(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    owner = await sealed_learner(storage, spaces, "ada")
    await send(storage, settings, [viewed("ada", n) for n in range(3)])
    assert len(await storage.history.pending()) == 3
    every_few_ms = settings.model_copy(update={"history_flush_check_minutes": 0.0005,
                                               "history_flush_grace_minutes": 10})
    async with scheduled_flush(every_few_ms, storage.history, SpaceHistory(spaces),
                               lambda: AFTER):
        for _ in range(1000):
            if not await storage.history.pending():
                break
            await asyncio.sleep(0.01)
    assert await storage.history.pending() == []
    assert len(await read(spaces, await spaces.unlock(owner, PASSPHRASE))) == 3
