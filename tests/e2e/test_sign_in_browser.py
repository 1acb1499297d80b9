"""End to end in headless Chromium: a person signs in through the real provider's login and
consent forms with the keyboard (the helper the console's browser tests use), and the dev
sign-in form works with the keyboard alone."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import CHROMIUM, chromium
from tests.e2e.oidc import (
    LRS,
    OidcProvider,
    SignInLrs,
    free_port,
    serve_with_sign_in,
    sign_in_page,
    wait_until_up,
)

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]


@pytest.fixture(scope="module")
def lrs(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[SignInLrs]:
    with serve_with_sign_in(oidc_provider, tmp_path_factory.mktemp("lrs")) as running:
        yield running


def test_browser_signs_in_through_the_provider_forms(lrs: SignInLrs) -> None:
    with chromium() as browser:
        page = browser.new_page()
        sign_in_page(page, lrs.url, "analyst", next_path="/api/v1/me")
        me = json.loads(page.inner_text("body"))
        assert me["subject"] == "analyst" and me["roles"] == ["analyst"]
        cookie = next(c for c in browser.cookies() if c["name"] == "lrs_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_dev_sign_in_form_with_the_keyboard_alone(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LRS_DATA_DIR": str(tmp_path), "LRS_DEV_SIGN_IN": "true",
           "LRS_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([*LRS, "serve", "--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/xapi/about", process, log)
        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"{base}/sign-in?next=/api/v1/me")
            assert "DEV SIGN-IN" in page.inner_text(".dev-banner")
            page.wait_for_selector("#name:focus")  # autofocus: typing starts at once
            page.keyboard.type("Ada Lovelace")
            page.keyboard.press("Tab")
            page.keyboard.type("ada@example.com")
            page.keyboard.press("Tab")  # the first role checkbox: admin
            page.keyboard.press("Tab")  # compliance
            page.keyboard.press("Tab")  # analyst
            page.keyboard.press("Tab")  # learner
            page.keyboard.press("Space")
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/api/v1/me")
            me = json.loads(page.inner_text("body"))
            assert me["roles"] == ["learner"] and me["name"] == "Ada Lovelace"
        assert httpx.get(f"{base}/api/v1/me").status_code == 401  # only that browser
    finally:
        process.terminate()
        process.wait(timeout=15)
