"""End to end: forwarding between real processes, on each engine of the sender.

A sending `lrs serve`, a second `lrs serve` receiving over xAPI, and a webhook receiver
(tests/e2e/webhook_receiver.py) that checks the HMAC signature and dedupes by id. The
sender is killed with SIGKILL mid-delivery and the receiver mid-batch: every matching kept
statement arrives, none twice; a receiver that answers 500 or hangs leads to backoff, dead
letters, and a replay that delivers.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lrs.config import Settings
from statements.attachments import RawAttachment, render_multipart
from tests.conftest import METRICS_TOKEN
from tests.e2e.forwarding_processes import (
    HOOK_SECRET,
    Hook,
    Lrs,
    configure,
    receiver,
    sender,
    status,
    stored_ids,
    wait_for,
)
from tests.factories import make_agent, make_statement
from tests.lrs.test_metrics import sample

pytestmark = pytest.mark.e2e
COURSE = "http://example.com/course/"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


@pytest.fixture
def processes() -> Iterator[list[Lrs | Hook]]:
    """Whatever a test starts, stopped at its end."""
    started: list[Lrs | Hook] = []
    yield started
    for one in started:
        if isinstance(one, Hook):
            if one.process is not None and one.process.poll() is None:
                one.kill()
        else:
            one.stop()


def course_statement(number: int, **overrides: Any) -> dict[str, Any]:
    return make_statement(object={"objectType": "Activity", "id": f"{COURSE}{number}"},
                          **overrides)


def post(lrs: Lrs, name: str, statements: list[dict[str, Any]]) -> None:
    with lrs.client(name) as client:
        for start in range(0, len(statements), 10):
            answer = client.post("/xapi/statements", json=statements[start:start + 10])
            assert answer.status_code == 200, answer.text


def webhook_sender(settings: Settings, tmp_path: Path, processes: list[Lrs | Hook],
                   hook_mode: str = "ok", **extra: str) -> tuple[Lrs, Hook]:
    """A sender whose kept statements all go to a started webhook receiver."""
    hook = Hook(tmp_path / "hook")
    hook.start()
    hook.mode(hook_mode)
    processes.append(hook)
    lrs = sender(settings, tmp_path / "sender", **extra)
    lrs.credential("lms", "full")
    lrs.start()
    processes.append(lrs)
    configure(lrs, "lms", {"name": "hook", "kind": "webhook", "url": hook.url,
                           "secret": HOOK_SECRET}, {"decision": "kept"})
    return lrs, hook


def test_kept_statements_reach_a_second_lrs_with_attachments_and_hits_a_webhook(
        settings: Settings, tmp_path: Path, processes: list[Lrs | Hook]) -> None:
    peer = receiver(tmp_path / "peer")
    peer_auth = peer.credential("from-sender", "full")
    peer.start()
    processes.append(peer)
    hook = Hook(tmp_path / "hook")
    hook.start()
    processes.append(hook)
    lrs = sender(settings, tmp_path / "sender")
    lrs.credential("lms", "full")
    lrs.credential("intranet", "tally")
    lrs.start()
    processes.append(lrs)
    configure(lrs, "lms", {"name": "peer", "kind": "xapi", "url": f"{peer.base}/xapi",
                           "username": peer_auth[0], "secret": peer_auth[1],
                           "xapi_version": "2.0.0"}, {"activity": f"{COURSE}*"})
    configure(lrs, "lms", {"name": "hook", "kind": "webhook", "url": hook.url,
                           "secret": HOOK_SECRET}, {"decision": "tallied", "verbs": [EXPERIENCED]})

    matching = [course_statement(n) for n in range(12)]
    other = [make_statement(object={"objectType": "Activity", "id": "http://example.com/x"})]
    post(lrs, "lms", matching + other)
    # One with an attachment: it travels as multipart/mixed, its bytes with it.
    data = b"certificate of completion"
    sha2 = hashlib.sha256(data).hexdigest()
    attached = course_statement(99, attachments=[{
        "usageType": "http://adlnet.gov/expapi/attachments/certificate",
        "display": {"en-US": "certificate"}, "contentType": "text/plain",
        "length": len(data), "sha2": sha2}])
    body, content_type = render_multipart(
        f"[{__import__('json').dumps(attached)}]".encode(),
        [RawAttachment(sha2, "text/plain", data)])
    with lrs.client("lms") as client:
        answer = client.post("/xapi/statements", content=body,
                             headers={"Content-Type": content_type})
        assert answer.status_code == 200, answer.text
    # Tallied: only the anonymous hits leave, to the webhook.
    learner = make_agent("bob", mbox="mailto:bob@example.com")
    hits = [make_statement(actor=learner, verb={"id": EXPERIENCED},
                           object={"objectType": "Activity", "id": "http://example.com/page"},
                           context={"platform": "intranet"}) for _ in range(3)]
    post(lrs, "intranet", hits)

    expected = {s["id"] for s in matching} | {attached["id"]}
    wait_for("the peer LRS to hold the matching statements",
             lambda: set(stored_ids(peer, "from-sender")) == expected)
    ids = stored_ids(peer, "from-sender")
    assert len(ids) == len(set(ids))
    with peer.client("from-sender") as client:
        got = client.get("/xapi/statements", params={"statementId": attached["id"],
                                                     "attachments": "true"})
        assert got.status_code == 200 and data in got.content
    wait_for("the webhook to hold three hits", lambda: len(hook.items()) == 3)
    for item in hook.items().values():
        assert item["kind"] == "hit"
        assert set(item["hit"]) == {"resource", "verb", "platform", "hour"}
        assert item["hit"]["resource"] == "http://example.com/page"
        assert "bob" not in str(item) and item["id"] not in {h["id"] for h in hits}
    peer_status = status(lrs, "lms", "peer")
    assert (peer_status["queued"], peer_status["dead"], peer_status["delivered"]) == (0, 0, 13)


def test_sender_killed_mid_delivery_then_restarted_delivers_everything_once(
        settings: Settings, tmp_path: Path, processes: list[Lrs | Hook]) -> None:
    lrs, hook = webhook_sender(settings, tmp_path, processes, hook_mode="slow")
    statements = [course_statement(n) for n in range(40)]
    post(lrs, "lms", statements)
    # The receiver has a batch and is slow to answer: the sender dies waiting.
    wait_for("a batch to reach the receiver", lambda: bool(hook.delivered_ids()))
    lrs.kill()
    hook.mode("ok")
    lrs.start()
    expected = {s["id"] for s in statements}
    # The batch in flight at the kill is sent again once its lease has expired.
    wait_for("an empty queue", lambda: status(lrs, "lms", "hook")["queued"] == 0)
    assert set(hook.items()) == expected
    # At least once: the receiver got that batch twice, and kept it once.
    assert len(hook.delivered_ids()) > len(expected)
    assert len(hook.items()) == len(expected)


def test_receiver_killed_mid_batch_gets_everything_after_its_restart(
        settings: Settings, tmp_path: Path, processes: list[Lrs | Hook]) -> None:
    lrs, hook = webhook_sender(settings, tmp_path, processes, hook_mode="slow",
                               LRS_FORWARDING_MAX_ATTEMPTS="50")
    statements = [course_statement(n) for n in range(20)]
    post(lrs, "lms", statements)
    wait_for("a batch to reach the receiver", lambda: bool(hook.delivered_ids()))
    hook.kill()  # mid-batch: it stored the batch, never answered
    wait_for("the sender to see the failure",
             lambda: status(lrs, "lms", "hook")["last_error"] is not None)
    hook.mode("ok")
    hook.start()
    expected = {s["id"] for s in statements}
    wait_for("an empty queue", lambda: status(lrs, "lms", "hook")["queued"] == 0)
    assert set(hook.items()) == expected
    assert len(hook.delivered_ids()) > len(expected)  # the batch it died on came again
    assert status(lrs, "lms", "hook")["dead"] == 0


def test_a_failing_or_hanging_receiver_backs_off_then_dead_letters_then_replay_delivers(
        settings: Settings, tmp_path: Path, processes: list[Lrs | Hook]) -> None:
    lrs, hook = webhook_sender(settings, tmp_path, processes, hook_mode="fail")
    failing = [course_statement(n) for n in range(3)]
    started = time.monotonic()
    post(lrs, "lms", failing)
    wait_for("three dead letters", lambda: status(lrs, "lms", "hook")["dead"] == 3)
    # Three attempts, with a backoff of at least 50% of 0.1 s then 0.2 s between them.
    assert time.monotonic() - started >= 0.15
    assert status(lrs, "lms", "hook")["last_error"].startswith("HTTP 500")
    hook.mode("hang")
    hanging = [course_statement(n) for n in range(3, 5)]
    post(lrs, "lms", hanging)
    wait_for("five dead letters", lambda: status(lrs, "lms", "hook")["dead"] == 5)
    assert "Timeout" in status(lrs, "lms", "hook")["last_error"]
    with lrs.client("lms") as client:
        dead = client.get("/api/v1/admin/forwarding/destinations/hook/dead").json()
        assert sorted(d["statement_id"] for d in dead) == sorted(
            s["id"] for s in failing + hanging)
        assert {d["attempts"] for d in dead} == {3}

        def dead_gauge() -> float:
            text = httpx.get(f"{lrs.base}/metrics",
                             headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
            return sample(text, "lrs_forwarding_dead_letters", destination="hook")

        wait_for("the dead-letter gauge", lambda: dead_gauge() == 5, 20)
        hook.mode("ok")
        replayed = client.post("/api/v1/admin/forwarding/destinations/hook/dead/replay",
                               json={})
        assert replayed.json() == {"replayed": 5}
    expected = {s["id"] for s in failing + hanging}
    wait_for("the replayed statements at the receiver", lambda: set(hook.items()) == expected)
    final = status(lrs, "lms", "hook")
    assert (final["queued"], final["dead"]) == (0, 0)
    assert str(uuid.UUID(next(iter(hook.items())))) in expected


def test_two_processes_on_one_store_never_send_the_same_item(
        settings: Settings, tmp_path: Path, processes: list[Lrs | Hook]) -> None:
    lrs, hook = webhook_sender(settings, tmp_path, processes)
    other = Lrs(lrs.env, tmp_path / "other.log", credentials=lrs.credentials)
    other.start()
    processes.append(other)
    statements = [course_statement(n) for n in range(80)]
    for start in range(0, len(statements), 20):
        post(lrs if start % 40 else other, "lms", statements[start:start + 20])
    expected = {s["id"] for s in statements}
    wait_for("every statement at the receiver", lambda: set(hook.items()) == expected)
    wait_for("an empty queue", lambda: status(lrs, "lms", "hook")["queued"] == 0)
    # Both workers leased from the one outbox; no lease expired, so each item went once.
    assert sorted(hook.delivered_ids()) == sorted(expected)
    sent = [sample(httpx.get(f"{one.base}/metrics", headers={
        "Authorization": f"Bearer {METRICS_TOKEN}"}).text, "lrs_forwarding_delivered_total",
        destination="hook") for one in (lrs, other)]
    assert sum(sent) == len(expected), sent
