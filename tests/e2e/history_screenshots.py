"""The screenshots of "My history" in docs/personal-space.md, from the real page of a real
`lrs serve` (people signing in at the test OpenID provider, `make tests/oidc/node_modules`):

    .venv/bin/python -m tests.e2e.history_screenshots [docs/img]

docs/img/console-history.png at laptop size (1280x800) and console-history-phone.png
(390x844): a learner who keeps their history, after a flush, reading it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx

from tests.e2e.browser import chromium
from tests.e2e.console_screenshots import LAPTOP, PHONE, shoot
from tests.e2e.oidc import free_port, run_provider, serve_with_sign_in, sign_in_page
from tests.e2e.test_history_browser import PAGES, PASSPHRASE, VERSION, intranet, viewed


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        root = Path(data)
        (root / "lrs").mkdir()
        urls = [f"http://127.0.0.1:{free_port()}"]
        with run_provider(root, root / "jwks.json", urls) as provider, \
                serve_with_sign_in(provider, root / "lrs") as lrs:
            platform = intranet(lrs)
            shots = ((LAPTOP, "", "ada"), (PHONE, "-phone", "bob"))
            for _, _, login in shots:  # each seals their space and opts in
                with chromium(viewport=LAPTOP) as browser:
                    page = browser.new_page()
                    sign_in_page(page, lrs.url, login, next_path="/console/history")
                    token = page.get_attribute('meta[name="csrf-token"]', "content")
                    csrf = {"x-csrftoken": token, "X-Requested-With": "screenshots"}
                    page.request.post(f"{lrs.url}/api/v1/space", headers=csrf)
                    page.request.post(f"{lrs.url}/api/v1/space/seal", headers=csrf,
                                      data={"passphrase": PASSPHRASE})
                    page.request.post(f"{lrs.url}/api/v1/space/history", headers=csrf)
                httpx.post(f"{lrs.url}/xapi/statements", auth=platform, headers=VERSION,
                           json=[viewed(f"{login}@example.com", iri) for iri in PAGES * 2])
            httpx.post(f"{lrs.url}/api/v1/admin/space/history/flush", auth=lrs.basic,
                       json={"through_today": True})
            for size, suffix, login in shots:
                with chromium(viewport=size) as browser:
                    page = browser.new_page()
                    sign_in_page(page, lrs.url, login, next_path="/console/history")
                    page.wait_for_selector("#unlock-form:not([hidden])")
                    page.fill("#passphrase", PASSPHRASE)
                    page.click("#unlock")
                    page.wait_for_selector("#history tbody tr >> text=holidays")
                    shoot(page, folder / f"console-history{suffix}.png")

if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
