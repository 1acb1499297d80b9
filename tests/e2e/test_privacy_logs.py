"""End to end: a real `lrs serve` tallying identifying statements keeps none of them, in its
store or in its logs (the log of the run is written into the data directory it scans), even
when it is also asked about those people (`agent=` queries)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lrs.config import Settings
from lrs.storage import open_storage
from tests.e2e.test_serve import serve
from tests.lrs.test_privacy_audit import found, identifying, identifying_batch, stored_bytes

pytestmark = pytest.mark.e2e


@pytest.fixture
def tallying_server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    yield from serve(settings, tmp_path, retention="tally", extra_env={"LRS_LOG_LEVEL": "debug"})


async def test_privacy_audit_over_http_store_and_logs(
    tallying_server: tuple[str, tuple[str, str]], settings: Settings,
) -> None:
    base, auth = tallying_server
    sent: set[bytes] = set()
    async with httpx.AsyncClient(base_url=base, auth=auth,
                                 headers={"X-Experience-API-Version": "1.0.3"}) as client:
        for start in range(0, 600, 100):
            batch, values = identifying_batch(range(start, start + 100))
            sent |= values
            assert (await client.post("/xapi/statements", json=batch)).status_code == 200
        for n in range(600, 620):  # one at a time too, by PUT
            statement, values = identifying(n)
            sent |= values
            response = await client.put("/xapi/statements", json=statement,
                                        params={"statementId": str(uuid.uuid4())})
            assert response.status_code == 204
        for n in range(620, 640):  # queries naming the people, which the LRS answers
            statement, values = identifying(n)
            sent |= values
            registration = statement["context"]["registration"]
            query = {"agent": json.dumps(statement["actor"]), "related_agents": "true",
                     "registration": registration}
            assert (await client.get("/xapi/statements", params=query)).status_code == 200
            profile = await client.get("/xapi/agents/profile", params={
                "agent": json.dumps(statement["actor"]), "profileId": f"{n}"})
            assert profile.status_code == 404
            agents = await client.get("/xapi/agents", params={"agent": json.dumps(
                statement["actor"])})
            assert agents.status_code == 200
    storage = await open_storage(settings)
    try:
        blob = await stored_bytes(settings, storage)  # every file of the data directory too
    finally:
        await storage.close()
    log = (Path(settings.data_dir) / "serve.log").read_bytes()
    requests = [line for line in map(json.loads, log.splitlines()[1:])  # [0]: the banner
                if line["logger"] == "lrs.access"]
    # The log was written and is being read: one line per request, GETs included.
    assert sum(r["route"] == "/xapi/statements" and r["method"] == "POST"
               for r in requests) == 6
    assert sum(r["route"] == "/xapi/statements" and r["method"] == "GET"
               for r in requests) == 20
    assert {r["route"] for r in requests} >= {"/xapi/agents/profile", "/xapi/agents"}
    assert found(blob + log, sent) == set()
