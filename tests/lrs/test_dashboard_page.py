"""The dashboard page and its static files, served by the LRS itself (no CDN)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from lrs.dashboard import STATIC
from tests.conftest import Client

VENDOR = STATIC / "vendor" / "uplot"


def test_vendored_uplot_matches_its_recorded_version_and_hashes() -> None:
    record = json.loads((VENDOR / "VENDORED.json").read_text())
    assert record["package"] == "uplot" and re.fullmatch(r"\d+\.\d+\.\d+", record["version"])
    assert record["source"].endswith(f"/uplot-{record['version']}.tgz")
    on_disk = {p.name for p in VENDOR.iterdir()} - {"VENDORED.json"}
    assert on_disk == set(record["files"])
    for name, entry in record["files"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == entry["sha256"], name
    assert "MIT License" in (VENDOR / "LICENSE").read_text()


def test_page_loads_only_files_the_lrs_serves() -> None:
    html = (STATIC / "index.html").read_text()
    # What the page loads (scripts, styles); its links (to the console, to sign in) load nothing.
    sources = [s for s in re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"#]+)"', html)
               if s != "data:,"]  # the empty favicon: no request at all
    assert sources and all(s.startswith("/dashboard/static/") for s in sources), sources
    for source in sources:
        assert (STATIC / source.removeprefix("/dashboard/static/")).is_file(), source


@pytest.mark.usefixtures("engine")
async def test_dashboard_is_served_with_a_strict_content_security_policy(
    client: Client,
) -> None:
    page = await client.get("/dashboard", headers={"Authorization": ""})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'id="sign-in-form"' in page.text
    script = await client.get("/dashboard/static/dashboard.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    chart = await client.get("/dashboard/static/vendor/uplot/uPlot.iife.min.js")
    assert chart.content == (VENDOR / "uPlot.iife.min.js").read_bytes()
    assert (await client.get("/dashboard/static/nothing.js")).status_code == 404


def test_static_files_share_one_route_template_in_logs_and_metrics() -> None:
    from lrs.dashboard import routes
    from lrs.requestlog import route_template

    def template(path: str) -> str | None:
        return route_template(routes, {"type": "http", "path": path, "method": "GET",
                                       "root_path": ""})

    assert template("/dashboard/static/vendor/uplot/uPlot.min.css") == \
        "/dashboard/static/{path}"
    assert template("/dashboard") == "/dashboard"
