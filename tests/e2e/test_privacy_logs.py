"""End to end: a real `lrs serve` tallying identifying statements keeps none of them, in its
store or in its logs (the log of the run is written into the data directory it scans)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lrs.config import Settings
from lrs.storage import open_storage
from tests.e2e.test_serve import serve
from tests.lrs.test_privacy_audit import found, identifying, stored_bytes

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
            batch = []
            for n in range(start, start + 100):
                statement, values = identifying(n)
                batch.append(statement)
                sent |= values
            assert (await client.post("/xapi/statements", json=batch)).status_code == 200
        for n in range(600, 620):  # one at a time too, by PUT
            statement, values = identifying(n)
            sent |= values
            response = await client.put("/xapi/statements", json=statement,
                                        params={"statementId": str(uuid.uuid4())})
            assert response.status_code == 204
    storage = await open_storage(settings)
    try:
        blob = await stored_bytes(settings, storage)  # every file of the data directory too
    finally:
        await storage.close()
    log = (Path(settings.data_dir) / "serve.log").read_bytes()
    assert b"POST /xapi/statements" in log  # the log was written and is being read
    assert found(blob + log, sent) == set()
