"""The delivery worker on real stores: a statement erased while its item waited is not sent
(nothing of it is left to send) and its item goes; a failure is noted and backs off."""

from __future__ import annotations

from aggregation.plan import Batch
from lrs.config import Settings
from lrs.erasure import forget
from lrs.forwarding import Destination
from lrs.forwarding.worker import DeliveryWorker
from lrs.storage import Storage
from statements.indexing import agent_key
from tests.aggregation.test_tally_contract import DAY, FAR
from tests.factories import make_agent, make_statement
from tests.lrs.test_batch_contract import kept

# Nothing listens on port 9 (discard) of the loopback: a send there fails at once.
NOWHERE = Destination("d1", "nowhere", "webhook", "http://127.0.0.1:9/hook", "secret",
                      created="2026-01-01T00:00:00Z")


async def queue(storage: Storage, statement: dict[str, object]) -> None:
    await storage.forwarding.add_destination(NOWHERE)
    stored = kept(statement)
    await storage.commit(Batch(kept=[stored], day=DAY, fingerprint_expires_ms=FAR,
                               forward={stored.id: (NOWHERE.id,)}))


async def test_an_erased_statement_is_not_sent_and_its_item_goes(settings: Settings,
                                                                 storage: Storage) -> None:
    ada = make_agent("ada", mbox="mailto:ada@example.com")
    await queue(storage, make_statement(actor=ada))
    key = agent_key(ada)
    assert key is not None
    await forget(storage, key, now_ms=0, operator="test")
    worker = DeliveryWorker(storage, settings)
    try:
        assert await worker.round()
    finally:
        await worker.close()
    [status] = await storage.forwarding.status()
    assert (status.queued, status.dead, status.last_error) == (0, 0, None)


async def test_a_failed_send_is_noted_and_waits_for_its_backoff(settings: Settings,
                                                                storage: Storage) -> None:
    await queue(storage, make_statement())
    worker = DeliveryWorker(storage, settings.model_copy(update={
        "forwarding_backoff_seconds": 60.0}))
    try:
        assert await worker.round()
        assert not await worker.round()  # backing off: nothing due
    finally:
        await worker.close()
    [status] = await storage.forwarding.status()
    assert (status.queued, status.dead) == (1, 0)
    assert status.last_error is not None and "Connect" in status.last_error
