"""End to end: SIGKILL at random moments loses nothing acknowledged and doubles nothing.

Clients post batches concurrently through two credentials, one kept in full and one
tallied; the `lrs serve` process is killed with SIGKILL at a random moment, restarted on
the same store, and the clients retry what was in flight, as clients do. In the end every
acknowledged statement is stored exactly once, every acknowledged tallied statement is
counted exactly once (a batch is all or nothing, so an unacknowledged batch is counted
wholly or not at all), and the store opens cleanly. We kill the LRS, never the database.

`LRS_CRASH_ROUNDS` sets the number of kills (3 in `make test`; `make crash` runs many).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from lrs.config import Settings
from tests.e2e.test_graceful_shutdown import start
from tests.e2e.test_serve import run_lrs
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
ROUNDS = int(os.environ.get("LRS_CRASH_ROUNDS", "3"))
CLIENTS = 8
BATCH = 4
MAX_BATCHES = 300  # a round's cap, so one popular-report page holds a round's batches
HEADERS = {"X-Experience-API-Version": "2.0.0"}
RETRY_SECONDS = 300


@dataclass
class Ledger:
    """What the clients sent: batches acknowledged, and batches whose answer never came."""

    acknowledged: list[list[dict[str, Any]]] = field(default_factory=list)
    in_doubt: list[list[dict[str, Any]]] = field(default_factory=list)


def batch(kind: str, round_number: int) -> list[dict[str, Any]]:
    """BATCH fresh statements about one activity of their own (so its count is the
    batch's), now-stamped, on the round's platform."""
    activity = f"http://example.com/crash/{kind}/{uuid.uuid4()}"
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [make_statement(
        object={"objectType": "Activity", "id": activity},
        context={"platform": f"round-{round_number}"}, timestamp=now)
        for _ in range(BATCH)]


async def post_until_cut(base: str, auth: tuple[str, str], kind: str, round_number: int,
                         ledger: Ledger, budget: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, auth=auth, headers=HEADERS,
                                 timeout=30) as client:
        while budget[0] > 0:
            budget[0] -= 1
            sent = batch(kind, round_number)
            try:
                response = await client.post("/xapi/statements", json=sent)
            except httpx.TransportError:
                ledger.in_doubt.append(sent)
                return
            assert response.status_code == 200, response.text
            ledger.acknowledged.append(sent)


async def retry(base: str, auth: tuple[str, str], batches: list[list[dict[str, Any]]]
                ) -> float:
    """Clients resend what got no answer, the same ids and content, as clients do: again
    after a 503 or a timeout, for up to RETRY_SECONDS. Returns the longest wait.

    On MongoDB a batch cut by the kill may leave its transaction open on the server until
    the server expires it; a retry of the same ids meets that transaction's writes and is
    answered 503 (after the store's save timeout) until then.
    """
    waits = [0.0]
    async with httpx.AsyncClient(base_url=base, auth=auth, headers=HEADERS,
                                 timeout=60) as client:
        async def resend(sent: list[dict[str, Any]]) -> None:
            begin = loop.time()
            while True:
                try:
                    response = await client.post("/xapi/statements", json=sent)
                    if response.status_code == 200:
                        waits.append(loop.time() - begin)
                        return
                    assert response.status_code == 503, response.text
                except httpx.TimeoutException:
                    pass
                assert loop.time() - begin < RETRY_SECONDS, "retries did not get through"
                await asyncio.sleep(1)

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(resend(sent) for sent in batches))
    return max(waits)


async def stored_ids(base: str, auth: tuple[str, str]) -> Counter[str]:
    """Every statement id the LRS returns, following `more` to the end."""
    seen: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=base, auth=auth, headers=HEADERS,
                                 timeout=60) as client:
        page = (await client.get("/xapi/statements", params={"limit": "500"})).json()
        seen.update(s["id"] for s in page["statements"])
        while page["more"]:
            page = (await client.get(page["more"])).json()
            seen.update(s["id"] for s in page["statements"])
    return seen


async def hit_counts(base: str, auth: tuple[str, str], rounds: int) -> dict[str, int]:
    """Hits per activity, per round's platform (suppression is off in this test)."""
    counts: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=base, auth=auth, headers=HEADERS,
                                 timeout=60) as client:
        for number in range(rounds):
            response = await client.get("/api/v1/aggregates/popular", params={
                "by": "hits", "platform": f"round-{number}", "limit": "1000"})
            assert response.status_code == 200, response.text
            rows = response.json()["activities"]
            assert len(rows) < 1000
            counts |= {row["activity"]: row["hits"] for row in rows}
    return counts


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


async def test_sigkill_at_random_moments_loses_and_doubles_nothing(
        settings: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "LRS_STORE": settings.store_url(),
           "LRS_MONGODB_DATABASE": settings.mongodb_database, "LRS_DATA_DIR": str(tmp_path),
           "LRS_SUPPRESSION_THRESHOLD": "1"}
    creds = {}
    for kind in ("full", "tally"):
        created = json.loads(run_lrs("credentials", "create", "--name", kind, "--scopes",
                                     "all", "--retention", kind, "--json", env=env))
        creds[kind] = (created["key"], created["secret"])
    ledgers = {"full": Ledger(), "tally": Ledger()}
    chance = random.Random()
    log = tmp_path / "serve.log"
    survived = cut = 0
    for number in range(ROUNDS):
        process, base = start(env, log)
        try:
            cut_before = sum(len(ledger.in_doubt) for ledger in ledgers.values())
            budget = [MAX_BATCHES]
            clients = [asyncio.create_task(post_until_cut(
                base, creds[kind], kind, number, ledgers[kind], budget))
                for kind in ("full", "tally") for _ in range(CLIENTS // 2)]
            await asyncio.sleep(chance.uniform(0.3, 2.0))
            kill(process)
            await asyncio.wait_for(asyncio.gather(*clients), timeout=60)
            survived += 1
            cut += sum(len(ledger.in_doubt) for ledger in ledgers.values()) - cut_before
        finally:
            if process.poll() is None:
                kill(process)
    process, base = start(env, log)  # the store opens cleanly after the last kill
    try:
        # The clients retry what the kills cut off (all of it now: on MongoDB a retry may
        # have to wait for the server to expire the killed process's transactions).
        waits = await asyncio.gather(*(retry(base, creds[kind], ledger.in_doubt)
                                       for kind, ledger in ledgers.items()))
        for ledger in ledgers.values():
            ledger.acknowledged += ledger.in_doubt
            ledger.in_doubt = []
        stored = await stored_ids(base, creds["full"])
        counts = await hit_counts(base, creds["full"], ROUNDS)
        health = httpx.get(f"{base}/health/ready")
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert survived == ROUNDS and health.status_code == 200
    kept = [s["id"] for b in ledgers["full"].acknowledged for s in b]
    tallied = [s["id"] for b in ledgers["tally"].acknowledged for s in b]
    assert kept and tallied
    assert [i for i, n in stored.items() if n > 1] == []  # nothing doubled
    assert set(kept) - set(stored) == set()  # nothing acknowledged lost
    assert set(stored) & set(tallied) == set()  # tallied statements are not kept
    activity_counts = {b[0]["object"]["id"]: n for b in ledgers["tally"].acknowledged
                       for n in [counts.get(b[0]["object"]["id"])]}
    wrong = {a: n for a, n in activity_counts.items() if n != BATCH}
    assert wrong == {}, f"hits per tallied batch of {BATCH}: {wrong}"
    assert sum(counts.values()) == len(tallied)  # and no hit from anywhere else
    if settings.store_url().startswith("sqlite:"):
        path = settings.store_url().removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    print(f"crash rounds survived: {survived}; batches cut in flight and retried: {cut} "
          f"(longest retry {max(waits):.1f} s); statements kept {len(kept)}, tallied "
          f"{len(tallied)}")
