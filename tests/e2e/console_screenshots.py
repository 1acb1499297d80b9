"""The docs' screenshots of the console, taken from the real pages of a real `lrs serve`
whose people sign in at the test OpenID provider (tests/oidc, `make tests/oidc/node_modules`),
with the known data of tests/e2e/console_data.py:

    .venv/bin/python -m tests.e2e.console_screenshots [docs/img]

Each page at laptop size (1280x800) as docs/img/console-<page>.png, and at phone size
(390x844) as docs/img/console-<page>-phone.png.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.browser import chromium
from tests.e2e.console_data import ADA, FIRE, ROSTER_ONLY, seed
from tests.e2e.oidc import free_port, run_provider, serve_with_sign_in, sign_in_page

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextmanager
def signing_in_lrs(folder: Path) -> Iterator[str]:
    """The provider and an `lrs serve` signing people in at it, with the known data."""
    urls = [f"http://127.0.0.1:{free_port()}"]
    (folder / "lrs").mkdir()
    with run_provider(folder, folder / "jwks.json", urls) as provider, \
            serve_with_sign_in(provider, folder / "lrs",
                               extra_env={"LRS_RETENTION_DEFAULT_DAYS": "730"}) as lrs:
        seed(lrs.url, lrs.basic)
        yield lrs.url


def settle(page: Any) -> None:
    """Wait until the page's scripts have said they are done (its status region is filled)
    and nothing is loading any more."""
    page.wait_for_load_state("networkidle")


def shoot(page: Any, target: Path) -> None:
    settle(page)
    page.screenshot(path=target, full_page=True)
    print(f"saved {target}")


def compliance_report(page: Any) -> None:
    page.select_option("#r-activity", f"activity:{FIRE}")
    roster = "\n".join(email for email, _ in [ADA, ("bob@example.com", ""), ROSTER_ONLY])
    page.fill("#r-roster", roster)
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#results:not([hidden])")


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, signing_in_lrs(Path(data)) as base:
        for size, suffix in ((LAPTOP, ""), (PHONE, "-phone")):
            with chromium(viewport=size) as browser:
                page = browser.new_page()
                sign_in_page(page, base, "multi")  # every role
                shoot(page, folder / f"console-home{suffix}.png")
                for name in ("credentials", "catalogue", "settings", "audit"):
                    page.goto(f"{base}/console/{name}")
                    if name == "credentials" and not suffix:
                        page.fill("#c-name", "intranet")
                        page.click("#create-form button[type=submit]")
                        page.wait_for_selector("#secret-box:not([hidden])")
                    shoot(page, folder / f"console-{name}{suffix}.png")
                page.goto(f"{base}/console/compliance")
                settle(page)
                compliance_report(page)
                shoot(page, folder / f"console-compliance{suffix}.png")
                page.goto(f"{base}/dashboard")
                page.wait_for_selector("#board:not([hidden])")
                page.wait_for_selector("body:not([aria-busy])", state="attached")
                shoot(page, folder / f"console-dashboard{suffix}.png")
            with chromium(viewport=size) as browser:
                page = browser.new_page()
                sign_in_page(page, base, "ada", next_path="/console/me")
                shoot(page, folder / f"console-me{suffix}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
