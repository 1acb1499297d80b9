"""End to end: a third-party retention rule found through the `lrs` entry-point group."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lrs.config import Settings
from tests.e2e.test_serve import serve
from tests.factories import make_statement

pytestmark = pytest.mark.e2e
SAMPLE = Path(__file__).parent.parent / "sample_plugin"
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"


@pytest.fixture
def tallying_server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    """`lrs serve` with the sample plugin installed (on its path, with its dist-info), and
    a credential whose statements are tallied by default."""
    yield from serve(settings, tmp_path, retention="tally",
                     extra_env={"PYTHONPATH": str(SAMPLE)})


def test_plugin_entry_point_rule_keeps_cmi5_statements(
    tallying_server: tuple[str, tuple[str, str]],
) -> None:
    base, auth = tallying_server
    cmi5 = make_statement(context={"contextActivities": {"category": [{"id": CMI5}]}})
    other = make_statement()
    with httpx.Client(base_url=base, auth=auth,
                      headers={"X-Experience-API-Version": "2.0.0"}) as client:
        assert client.post("/xapi/statements", json=[cmi5, other]).status_code == 200
        kept = client.get("/xapi/statements", params={"statementId": cmi5["id"]})
        tallied = client.get("/xapi/statements", params={"statementId": other["id"]})
    assert kept.status_code == 200  # the plugin's rule said full
    assert tallied.status_code == 404  # the credential's default: tally
