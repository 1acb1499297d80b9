"""Erasing a person (lrs.erasure.forget) takes their history with them, on every engine: the
opt-in, the copies waiting in the buffer and the batches in their space; nobody else's."""

from __future__ import annotations

import pytest

from lrs.config import Settings
from lrs.erasure import forget
from lrs.space.history import KIND
from lrs.space.history_flush import flush_history
from lrs.space.history_service import SpaceHistory, status, stop
from lrs.space.service import Spaces, open_spaces
from lrs.storage import Storage
from statements.indexing import agent_key
from tests.factories import make_agent
from tests.lrs.space.test_history_flush import (
    AFTER,
    CREDENTIAL,
    NOW,
    sealed_learner,
    send,
    viewed,
)

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture
def spaces(settings: Settings, storage: Storage) -> Spaces:
    return open_spaces(settings, storage.space, storage.engine)


async def batches(storage: Storage, spaces: Spaces, owner: str) -> int:
    record = await spaces.record_of(owner)
    return len(await storage.space.blobs(record.space, KIND)) if record is not None else 0


async def test_history_forget_removes_opt_in_buffer_rows_and_batches(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    ada = await sealed_learner(storage, spaces, "ada")
    bob = await sealed_learner(storage, spaces, "bob")
    await send(storage, settings, [viewed("ada", 1), viewed("bob", 1)])
    await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER,
                        capacity=settings.history_batch_bytes, grace_minutes=10)
    await send(storage, settings, [viewed("ada", 2), viewed("ada", 3), viewed("bob", 2)],
               at=NOW.replace(day=NOW.day + 1))
    assert len(await storage.history.pending()) == 3
    key = agent_key(make_agent("ada"))
    assert key is not None

    dry = await forget(storage, key, now_ms=AFTER, operator="dpo", dry_run=True)
    assert dry.done["history_opt_ins"] == 1 and dry.done["history_batches_deleted"] == 1
    assert await storage.history.get(ada) is not None

    report = await forget(storage, key, now_ms=AFTER, operator="dpo")
    assert {k: v for k, v in report.done.items() if k.startswith("history_")} == {
        "history_opt_ins": 1, "history_pending_deleted": 2, "history_batches_deleted": 1}
    assert await storage.history.get(ada) is None
    assert await batches(storage, spaces, ada) == 0
    left = await storage.history.pending()
    assert len(left) == 1  # bob's
    assert (await status(storage.history, spaces, bob)).describe()["keeping"] is True
    assert await batches(storage, spaces, bob) == 1


async def test_history_forget_removes_a_copy_kept_after_stopping(
        storage: Storage, settings: Settings, spaces: Spaces) -> None:
    await storage.credentials.add(CREDENTIAL)
    ada = await sealed_learner(storage, spaces, "ada")
    await send(storage, settings, [viewed("ada", 1)])
    await flush_history(storage.history, SpaceHistory(spaces), now_ms=AFTER,
                        capacity=settings.history_batch_bytes, grace_minutes=10)
    await stop(storage.history, storage.space, ada, delete_copy=False)
    assert await batches(storage, spaces, ada) == 1
    key = agent_key(make_agent("ada"))
    assert key is not None
    report = await forget(storage, key, now_ms=AFTER, operator="dpo")
    assert report.done["history_batches_deleted"] == 1 and "history_opt_ins" not in report.done
    assert await batches(storage, spaces, ada) == 0


async def test_history_forget_of_someone_without_history_reports_nothing_of_it(
        storage: Storage) -> None:
    key = agent_key(make_agent("carol"))
    assert key is not None
    report = await forget(storage, key, now_ms=AFTER, operator="dpo")
    assert not [k for k in report.done if k.startswith("history_")]
