"""The harness's load generators and resource watch against a real `lrs serve` (SQLite):
both load tools send the rotation, follow `more`, and count what is not 2xx."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.fill import fill_statements, settings_for
from bench.generator import StatementGenerator
from bench.load import Call, Load, LoadResult, run_python_calls, run_wrk_calls
from bench.resources import Watch
from bench.scenarios import statement_queries
from bench.servers import RunningLrs, lrs_serve
from lrs.storage import open_storage

pytestmark = pytest.mark.e2e
STORED = 250


@pytest.fixture(scope="module")
async def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bench-load")
    storage = await open_storage(settings_for(work / "data", None))
    try:
        await fill_statements(storage, 2026, 0, STORED)
    finally:
        await storage.close()
    return work


@pytest.fixture(scope="module")
def lrs(filled: Path) -> Iterator[RunningLrs]:
    with lrs_serve(filled, None) as running:
        yield running


def _calls() -> list[Call]:
    sample = StatementGenerator(2026).statements(STORED)
    # `since` at least 100 from the end: each query has a second page to follow.
    return [*statement_queries("since", sample, STORED, count=5),
            Call("GET", "/xapi/statements?registration=not-a-uuid")]  # a 400 on purpose


def _check(result: LoadResult) -> None:
    assert result.requests > 0
    assert result.followed > 0  # `more` links were requested
    assert result.errors.get("status 400", 0) > 0  # the bad request counted, by status
    assert result.ok + result.error_count == result.requests
    assert result.latency_ms["p50"] <= result.latency_ms["p99"]


def test_the_python_fallback_sends_follows_and_counts(lrs: RunningLrs, filled: Path) -> None:
    with Watch({"server": lrs.pid}) as watch:
        result = run_python_calls(lrs.base_url, lrs.authorization, _calls(),
                                  Load(clients=2, duration_s=1.5, max_requests=200), 1,
                                  follow=True)
    _check(result)
    server = watch.figures()["server"]
    assert server["cpu_s"] > 0
    assert server["peak_rss_bytes"] > 10 * 2**20


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_sends_follows_and_counts(lrs: RunningLrs, filled: Path) -> None:
    result = run_wrk_calls(lrs.base_url, lrs.authorization, _calls(),
                           Load(clients=2, duration_s=1, max_requests=200), 1, filled,
                           follow=True)
    _check(result)
