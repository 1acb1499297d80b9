"""The README and docs/ link only to files that exist (an operator follows them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_relative_links_point_at_existing_files(page: Path) -> None:
    targets = [t for t in LINK.findall(page.read_text()) if "://" not in t
               and not t.startswith("mailto:")]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert missing == []


def test_readme_links_the_operations_and_scaling_guides() -> None:
    readme = (ROOT / "README.md").read_text()
    for guide in ("docs/operations.md", "docs/scaling.md", "docs/configuration.md",
                  "docs/alerts.yml"):
        assert f"]({guide})" in readme, guide
