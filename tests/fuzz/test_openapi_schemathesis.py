"""Schemathesis against the LRS's own OpenAPI document (/api/v1: aggregates, beacon,
catalogue), sent over a socket to a real `lrs serve`: no 5xx, and every 4xx says what is
wrong in the documented error shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from lrs.api.openapi import DOCUMENT
from lrs.config import Settings
from tests.e2e.test_serve import serve
from tests.fuzz.conftest import TALLY

pytestmark = pytest.mark.e2e
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tuple[str, str]]]:
    """One `lrs serve` on SQLite for the module; its beacon accepts one page origin."""
    data = tmp_path_factory.mktemp("openapi")
    settings = Settings(data_dir=data, store=f"sqlite:///{data / 'lrs.db'}")
    yield from serve(settings, data, retention="tally", extra_env={
        "LRS_BEACON_ORIGINS": '["https://intranet.example.com"]',
        "LRS_BEACON_HITS_PER_MINUTE": "1000000"})


@schema.parametrize()
def test_api_v1_never_fails_and_explains_every_refusal(
        case: Any, running: tuple[str, tuple[str, str]]) -> None:
    base, (key, secret) = running
    response = case.call(base_url=base, auth=(key, secret), timeout=30)
    TALLY["openapi requests"] += 1
    TALLY[f"openapi {response.status_code // 100}xx"] += 1
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500 and case.method.upper() != "HEAD":
        error = response.json()["error"]
        assert error["message"].strip() and error["status"] == response.status_code


def test_openapi_document_is_served_as_fuzzed(running: tuple[str, tuple[str, str]]) -> None:
    base, _ = running
    assert httpx.get(f"{base}/api/v1/openapi.json").json() == DOCUMENT
