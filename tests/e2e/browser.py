"""Debian's chromium driven by Playwright (never Playwright's own browser downloads)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextmanager
def chromium(**context: Any) -> Iterator[Any]:
    """A fresh browser context (its own new profile directory) on /usr/bin/chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=ARGS, headless=True, **context)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Any, key: str, secret: str) -> None:
    """Sign in with the keyboard only, as a user without a mouse would."""
    page.wait_for_selector("#key:focus")
    page.keyboard.type(key)
    page.keyboard.press("Tab")
    page.keyboard.type(secret)
    page.keyboard.press("Enter")
    page.wait_for_selector("#board:not([hidden])")
    loaded(page)


def loaded(page: Any) -> None:
    """Wait until the figures have loaded. (Selectors, not wait_for_function: the page's
    Content-Security-Policy rightly forbids the eval that one needs.)"""
    page.wait_for_selector("body:not([aria-busy])", state="attached")
