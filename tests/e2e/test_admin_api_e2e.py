"""End to end: a credential's whole life through the admin API of a real `lrs serve` (both
engines): created over HTTP, used on /xapi/statements, rotated (the old secret refused once
the verification cache has expired), revoked; the audit log has each step."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lrs.config import Settings
from tests.e2e.test_serve import serve
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
CACHE_SECONDS = 1.0
V = {"X-Experience-API-Version": "2.0.0"}


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    yield from serve(settings, tmp_path, retention="full",
                     extra_env={"LRS_CREDENTIAL_CACHE_SECONDS": str(CACHE_SECONDS)})


def post_statement(base: str, auth: tuple[str, str]) -> int:
    return httpx.post(f"{base}/xapi/statements", json=make_statement(), auth=auth,
                      headers=V).status_code


def test_credential_lifecycle_through_a_real_server(
        server: tuple[str, tuple[str, str]]) -> None:
    base, admin = server
    with httpx.Client(base_url=f"{base}/api/v1/admin", auth=admin, headers=V) as api:
        created = api.post("/credentials", json={"name": "lms", "scopes": ["statements/write"],
                                                 "retention": "full"})
        assert created.status_code == 201, created.text
        made = created.json()
        first = (made["key"], made["secret"])
        assert post_statement(base, first) == 200
        [lms] = [c for c in api.get("/credentials").json() if c["name"] == "lms"]
        assert lms["last_used"] is not None and "secret" not in lms

        rotated = api.post("/credentials/lms/rotate")
        assert rotated.status_code == 200, rotated.text
        second = (made["key"], rotated.json()["secret"])
        assert post_statement(base, second) == 200
        time.sleep(CACHE_SECONDS + 0.5)  # the old secret's cache entry expires
        assert post_statement(base, first) == 401

        assert api.delete(f"/credentials/{made['key']}").status_code == 204
        time.sleep(CACHE_SECONDS + 0.5)
        assert post_statement(base, second) == 401
        assert api.delete("/credentials/lms").status_code == 404

        actions = [(r["action"], r["operator"], r["detail"].get("credential"))
                   for r in api.get("/audit").json()]
    assert actions == [("credential_create", "cli", "e2e"),  # `lrs credentials create`
                       ("credential_create", "e2e", "lms"), ("credential_rotate", "e2e", "lms"),
                       ("credential_revoke", "e2e", "lms")]
