"""The screenshots of "My space" in docs/personal-space.md, from the real page of a real
`lrs serve` (people signing in at the test OpenID provider, `make tests/oidc/node_modules`):

    .venv/bin/python -m tests.e2e.space_screenshots [docs/img]

docs/img/console-space.png at laptop size (1280x800) and console-space-phone.png (390x844).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.browser import chromium
from tests.e2e.console_screenshots import LAPTOP, PHONE, shoot, signing_in_lrs
from tests.e2e.oidc import sign_in_page

ENTRIES = [
    ("meeting", "Mentoring with Grace", "We went through my first quarterly review.",
     "Ask for feedback early, not at the review.", "Book a monthly half hour with Grace.",
     "mentoring, feedback"),
    ("resource", "Read: Designing Data-Intensive Applications, ch. 5",
     "Replication: leaders, followers, lag.", "Read-your-writes needs thought per screen.",
     "Check our app's session consistency.", "databases, reading"),
]


def record(page: Any, kind: str, title: str, happened: str, learned: str, nxt: str,
           tags: str) -> None:
    page.select_option("#e-kind", kind)
    page.fill("#e-title", title)
    page.fill("#e-happened", happened)
    page.fill("#e-learned", learned)
    page.fill("#e-next", nxt)
    page.fill("#e-tags", tags)
    page.click("#entry-submit")
    page.wait_for_selector(f"#entries .entry h3 >> text={title}")


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, signing_in_lrs(Path(data)) as base:
        for size, suffix in ((LAPTOP, ""), (PHONE, "-phone")):
            with chromium(viewport=size) as browser:
                page = browser.new_page()
                login = "ada" if not suffix else "bob"
                sign_in_page(page, base, login, next_path="/console/space")
                page.wait_for_selector("#entry-panel:not([hidden])")
                for entry in ENTRIES:
                    record(page, *entry)
                page.evaluate("window.scrollTo(0, 0)")
                shoot(page, folder / f"console-space{suffix}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
