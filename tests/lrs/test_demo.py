"""`lrs demo`: made-up traffic through the real ingest path, read back through the
aggregates API the dashboard uses, on every engine."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.credentials import Scope
from lrs.demo import COURSES, GONE, INTRANET, LMS, RARE, fill
from lrs.storage import Storage
from tests.conftest import app_client


@pytest.mark.usefixtures("engine")
async def test_demo_traffic_reaches_every_panel(settings: Settings, storage: Storage) -> None:
    result = await fill(storage, settings, learners=60, days=10)
    assert result.reader.scopes == {Scope.AGGREGATES_READ}
    token = base64.b64encode(f"{result.reader.key}:{result.reader_secret}".encode()).decode()
    async with app_client(settings, storage,
                          headers={"Authorization": f"Basic {token}"}) as client:
        summary = (await client.get("/api/v1/aggregates/summary")).json()
        popular = (await client.get("/api/v1/aggregates/popular",
                                    params={"limit": "50"})).json()["activities"]
        unopened = (await client.get("/api/v1/aggregates/unopened")).json()
        ten_days = str(datetime.now(UTC).date() - timedelta(days=9))
        compliance = (await client.get("/api/v1/aggregates/compliance",
                                       params={"from": ten_days})).json()
    # Every hit in the window is some activity's; the rare card is a suppressed small group.
    shown = [r["hits"] for r in popular if isinstance(r["hits"], int)]
    assert sum(shown) <= summary["hits"] and len(popular) >= 10
    assert set(summary["by_platform"]) == {"intranet", "video-portal"}
    rare = next(r for r in popular if r["activity"] == INTRANET + RARE[0])
    assert rare["hits"] == {"fewer_than": 5} and rare["name"] == {"en": RARE[1]}
    assert INTRANET + GONE[0] in [a["activity"] for a in unopened["activities"]]
    assert [r["activity"] for r in compliance["activities"]][:2] == [
        LMS + COURSES[0][0], LMS + COURSES[1][0]]
    assert compliance["activities"][2]["learners"] == {"fewer_than": 5}
    assert "mailto" not in str([summary, popular, unopened, compliance])


def test_lrs_demo_prints_a_dashboard_credential_and_replaces_it_when_run_again(
        tmp_path: Path) -> None:
    def demo() -> tuple[str, str]:
        out = CliRunner().invoke(main, ["demo", "--learners", "20", "--days", "3",
                                        "--data-dir", str(tmp_path)])
        assert out.exit_code == 0, out.output
        assert re.search(r"Sent \d+ statements", out.output)
        key = re.search(r"key:\s+(\S+)", out.output)
        secret = re.search(r"secret:\s+(\S+)", out.output)
        assert key and secret and "/dashboard" in out.output
        return key[1], secret[1]

    first, second = demo(), demo()
    assert first[0] != second[0]
    listing = CliRunner().invoke(main, ["credentials", "list", "--data-dir", str(tmp_path)])
    lines = [line for line in listing.output.splitlines() if "demo-dashboard" in line]
    assert len(lines) == 2 and sum("revoked" in line for line in lines) == 1
