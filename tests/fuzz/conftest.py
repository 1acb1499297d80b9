"""Fuzzing fixtures: the app on each engine behind a synchronous client that checks, on
every answer, that the LRS never fails (5xx) and that every client error says what is wrong.

`make test` runs a small deterministic sample (the `ci` Hypothesis profile); `make fuzz`
runs the `fuzz` profile (>= 100,000 requests over both engines) and writes its figures to
bench/results/ (LRS_FUZZ_REPORT).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from lrs.config import Settings
from lrs.credentials import Scope
from lrs.storage import open_storage
from tests.conftest import ENGINES, Client, add_credential, app_client

settings.register_profile("ci", max_examples=25, derandomize=True, database=None,
                          deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("fuzz", max_examples=int(os.environ.get("LRS_FUZZ_EXAMPLES", "8000")),
                          database=None, deadline=None, print_blob=True,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("LRS_HYPOTHESIS_PROFILE", "ci"))
TALLY: Counter[str] = Counter()


class Checked:
    """Synchronous requests (for Hypothesis) to the app running in its own event loop
    thread; each answer is checked and counted."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: Client, engine: str) -> None:
        self.loop, self.client, self.engine = loop, client, engine

    def run(self, work: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=120)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.run(self.client.request(method, path, **kwargs))
        TALLY[f"{self.engine} requests"] += 1
        TALLY[f"{self.engine} {response.status_code // 100}xx"] += 1
        if sum(TALLY[f"{e} requests"] for e in ENGINES) % 2000 == 0:
            write_report("running")
        assert response.status_code < 500, (method, path, kwargs, response.text)
        if response.status_code >= 400 and method != "HEAD":
            error = response.json()["error"]
            assert error["message"].strip(), response.text
            if response.status_code == 400:
                assert error["problems"] or error["message"], response.text
        return response


@pytest.fixture(scope="module", params=ENGINES)
def lrs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Checked]:
    """The LRS (scope `all`, retention full) on one engine, for a whole module."""
    engine = str(request.param)
    data = tmp_path_factory.mktemp(f"fuzz-{engine}")
    url = f"sqlite:///{data / 'lrs.db'}" if engine == "sqlite" else (
        request.getfixturevalue("secantus_url") if engine == "mongodb"
        else os.environ["LRS_TEST_MONGODB_URL"])
    config = Settings(data_dir=data, store=url, mongodb_database=f"fuzz_{data.name[-8:]}",
                      max_body_bytes=256 * 1024)

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    storage = asyncio.run_coroutine_threadsafe(open_storage(config), loop).result()
    ready: asyncio.Future[Client] = loop.create_future()
    done = asyncio.Event()

    async def serve() -> None:
        auth = await add_credential(storage, Scope.ALL)
        async with app_client(config, storage, headers={
                **auth, "X-Experience-API-Version": "2.0.0"}) as client:
            ready.set_result(client)
            await done.wait()
        await storage.close()

    served = asyncio.run_coroutine_threadsafe(serve(), loop)
    client = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(timeout=60)
    try:
        yield Checked(loop, client, engine)
    finally:
        loop.call_soon_threadsafe(done.set)
        served.result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def _wait(ready: asyncio.Future[Client]) -> Client:
    return await ready


def write_report(status: str) -> None:
    """Write the figures so far of a dedicated fuzz run (LRS_FUZZ_REPORT), if one is on."""
    report = os.environ.get("LRS_FUZZ_REPORT")
    if report and TALLY:
        total = sum(n for k, n in TALLY.items() if k.endswith(" requests"))
        Path(report).write_text(json.dumps({"status": status, "requests": total,
                                            **dict(sorted(TALLY.items()))}, indent=2) + "\n")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The figures of the whole run."""
    write_report(f"finished, exit status {int(exitstatus)}")
