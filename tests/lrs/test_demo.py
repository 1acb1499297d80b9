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


def test_lrs_demo_prints_a_dashboard_credential_and_replaces_it_when_forced_again(
        tmp_path: Path) -> None:
    def demo(*extra: str) -> tuple[str, str]:
        out = CliRunner().invoke(main, ["demo", "--learners", "20", "--days", "3",
                                        "--data-dir", str(tmp_path), *extra])
        assert out.exit_code == 0, out.output
        assert re.search(r"Sent \d+ statements", out.output)
        assert f"lrs serve --data-dir {tmp_path}" in out.output
        key = re.search(r"key:\s+(\S+)", out.output)
        secret = re.search(r"secret:\s+(\S+)", out.output)
        assert key and secret and "/dashboard" in out.output
        return key[1], secret[1]

    first, second = demo(), demo("--force")
    assert first[0] != second[0]
    listing = CliRunner().invoke(main, ["credentials", "list", "--data-dir", str(tmp_path)])
    lines = [line for line in listing.output.splitlines() if "demo-dashboard" in line]
    assert len(lines) == 2 and sum("revoked" in line for line in lines) == 1


def test_lrs_demo_uses_a_directory_of_its_own_by_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRS_DATA_DIR", raising=False)
    monkeypatch.delenv("LRS_STORE", raising=False)
    out = CliRunner().invoke(main, ["demo", "--learners", "5", "--days", "1"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "data-demo" / "lrs.db").exists()
    assert not (tmp_path / "data").exists()
    assert "lrs serve --data-dir data-demo" in out.output


@pytest.mark.parametrize("existing", ["credentials", "catalogue"])
def test_lrs_demo_refuses_a_store_that_holds_data_without_force(
        tmp_path: Path, existing: str) -> None:
    if existing == "credentials":
        made = CliRunner().invoke(main, ["credentials", "create", "--name", "lms", "--scopes",
                                         "all", "--data-dir", str(tmp_path)])
    else:
        catalogue = tmp_path / "c.json"
        catalogue.write_text('{"version": 1, "entries": [{"kind": "activity", '
                             '"value": "http://e.test/a"}]}')
        made = CliRunner().invoke(main, ["catalogue", "load", str(catalogue), "--data-dir",
                                         str(tmp_path)])
    assert made.exit_code == 0, made.output
    out = CliRunner().invoke(main, ["demo", "--learners", "5", "--days", "1", "--data-dir",
                                    str(tmp_path)])
    assert out.exit_code != 0 and "--force" in out.output and "already holds" in out.output
    listing = CliRunner().invoke(main, ["credentials", "list", "--json", "--data-dir",
                                        str(tmp_path)])
    assert "demo-" not in listing.output  # nothing was merged in


def recipe(target: str) -> list[str]:
    """The commands of a Makefile target."""
    lines = (Path(__file__).parents[2] / "Makefile").read_text().splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"{target}:")))
    commands = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        commands.append(line.strip())
    return commands


def test_make_demo_fills_and_serves_its_own_directory_never_data() -> None:
    commands = recipe("demo")
    assert commands == ["rm -rf data-demo", "$(BIN)/lrs demo --data-dir data-demo",
                        "$(BIN)/lrs serve --data-dir data-demo"]
    assert "$(BIN)/lrs credentials demo" in recipe("serve")  # the quick start's, in data/
