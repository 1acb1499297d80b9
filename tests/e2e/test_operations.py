"""End to end: a real `lrs serve` answers its probes, guards its metrics with the configured
token (handed to uvicorn's app through the environment intact), and logs JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lrs.config import Settings
from tests.e2e.test_serve import free_port, serve
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
TOKEN = "m3trics-t0ken"


@pytest.fixture
def guarded_server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    yield from serve(settings, tmp_path, retention="full",
                     extra_env={"LRS_METRICS_TOKEN": TOKEN})


def test_serve_probes_metrics_and_json_log(guarded_server: tuple[str, tuple[str, str]],
                                           settings: Settings) -> None:
    base, auth = guarded_server
    with httpx.Client(base_url=base) as client:
        assert client.get("/health/live").json() == {"status": "ok"}
        assert client.get("/health/ready").status_code == 200
        posted = client.post("/xapi/statements", json=make_statement(), auth=auth,
                             headers={"X-Experience-API-Version": "2.0.0",
                                      "X-Request-Id": "e2e-request-1"})
        assert posted.status_code == 200
        assert posted.headers["x-request-id"] == "e2e-request-1"
        assert client.get("/metrics").status_code == 401
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert metrics.status_code == 200
    assert 'lrs_statements_total{credential="e2e",decision="full"} 1.0' in metrics.text
    log = (Path(settings.data_dir) / "serve.log").read_text()
    lines = [json.loads(line) for line in log.splitlines()[1:]]  # [0]: the banner
    [line] = [one for one in lines if one.get("request_id") == "e2e-request-1"]
    assert (line["route"], line["status"], line["credential"]) == ("/xapi/statements", 200,
                                                                   "e2e")
    assert TOKEN not in log


def test_serve_with_metrics_port_serves_metrics_only_there(settings: Settings,
                                                           tmp_path: Path) -> None:
    port = free_port()
    server = serve(settings, tmp_path, retention="tally",
                   extra_env={"LRS_METRICS_PORT": str(port)})
    base, auth = next(server)
    try:
        with httpx.Client(base_url=base) as client:
            posted = client.post("/xapi/statements", json=[make_statement(), make_statement()],
                                 auth=auth, headers={"X-Experience-API-Version": "2.0.0"})
            assert posted.status_code == 200
            assert client.get("/metrics").status_code == 404
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        server.close()
    assert 'lrs_statements_total{credential="e2e",decision="tally"} 2.0' in metrics
    assert "lrs_store_up 1.0" in metrics
    assert 'lrs_store_rows{table="fingerprints"} 2.0' in metrics
