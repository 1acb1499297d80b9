"""The README's screenshot of the dashboard, taken from the real page on `lrs demo` data:

    .venv/bin/python -m tests.e2e.dashboard_screenshot [docs/img/dashboard.png]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from lrs.config import Settings
from tests.e2e.browser import chromium, sign_in
from tests.e2e.test_serve import run_lrs, serve


def main(target: Path) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data))
        run_lrs("demo", env={**os.environ, "LRS_DATA_DIR": data})
        for base, (key, secret) in serve(settings, Path(data), retention="tally"):
            with chromium(viewport={"width": 1200, "height": 900}) as browser:
                page = browser.new_page()
                page.goto(f"{base}/dashboard?window=month")
                sign_in(page, key, secret)
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=target, full_page=True)
    print(f"saved {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img/dashboard.png"))
