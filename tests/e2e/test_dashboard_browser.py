"""End to end: the dashboard in a real headless Chromium against a real `lrs serve` filled
with known traffic. Screenshots go to test-artifacts/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from lrs.config import Settings
from tests.e2e.browser import ARTIFACTS, CHROMIUM, chromium, loaded, sign_in
from tests.e2e.test_serve import serve

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]
PAGES = "https://intranet.example.com/pages/"
FIRE = "https://lms.example.com/courses/fire-safety"
VIEWED = "http://id.tincanapi.com/verb/viewed"
LIKED = "http://activitystrea.ms/schema/1.0/like"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
# (page, display name, verb, platform, how many learners hit it once each, today)
TRAFFIC = [("handbook", "Staff handbook", VIEWED, "intranet", 12),
           ("expenses", "Expense claims", VIEWED, "intranet", 7),
           ("kudos", "Kudos wall", LIKED, "social", 6),
           ("insurance", "Travel insurance", VIEWED, "intranet", 3)]


def statement(learner: int, page: str, name: str, verb: str, platform: str, *,
              days_ago: int = 0) -> dict[str, Any]:
    moment = datetime.now(UTC) - timedelta(days=days_ago, seconds=5)
    return {"id": str(uuid.uuid4()), "actor": {"mbox": f"mailto:p{learner}@example.com"},
            "verb": {"id": verb},
            "object": {"id": PAGES + page, "definition": {
                "name": {"en": name}, "type": "http://activitystrea.ms/schema/1.0/page"}},
            "context": {"platform": platform},
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


@pytest.fixture
def filled(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, tuple[str, str]]]:
    """`lrs serve` with the known traffic in it, sent over HTTP like any platform would."""
    for base, auth in serve(settings, tmp_path, retention="tally"):
        with httpx.Client(base_url=base, auth=auth,
                          headers={"X-Experience-API-Version": "2.0.0"}) as client:
            catalogue = {"version": 1, "entries": [{"kind": "activity", "value": FIRE,
                                                    "name": "Fire safety"}]}
            assert client.post("/api/v1/catalogue", json=catalogue).status_code == 200
            batch = [statement(n, page, name, verb, platform)
                     for page, name, verb, platform, learners in TRAFFIC
                     for n in range(learners)]
            batch.append(statement(1, "old-news", "Old news", VIEWED, "intranet", days_ago=20))
            batch += [{"actor": {"mbox": f"mailto:p{n}@example.com"}, "verb": {"id": COMPLETED},
                       "object": {"id": FIRE}} for n in range(6)]
            posted = client.post("/xapi/statements", json=batch)
            assert posted.status_code == 200, posted.text
        yield base, auth


def rows(page: Any, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(c => c.innerText.trim()))")


def test_dashboard_shows_the_known_traffic(filled: tuple[str, tuple[str, str]],
                                           engine: str) -> None:
    base, (key, secret) = filled
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium(viewport={"width": 1280, "height": 900}) as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" else None)  # CSP violations, failed loads
        page.goto(f"{base}/dashboard")
        sign_in(page, key, secret)
        top = [(r[1].splitlines()[0], r[2], r[3]) for r in rows(page, "popular-table")]
        assert [t[:2] for t in top] == [("Staff handbook", "12"), ("Expense claims", "7"),
                                        ("Kudos wall", "6"),
                                        ("Travel insurance", "fewer than 5")]
        # Learners are sketch estimates: two people may share a register (p < 1%), so
        # allow one less.
        for (_, hits, learners) in top[:3]:
            assert int(hits) - 1 <= int(learners) <= int(hits)
        assert top[3][2] == "fewer than 5"
        # The learner column says what it counts: a week is seven key days, so learner-days,
        # and its tooltip says that a learner who came on two days counts twice.
        head = page.locator("#learners-head")
        assert head.inner_text() == "Learner-days"
        assert "counts twice" in (head.get_attribute("title") or "")
        assert "learner-days" in page.inner_text("#uniques-note")
        assert page.locator("#privacy-note").is_hidden()  # differential privacy is off
        suppressed = page.locator("#popular-table tbody tr").nth(3).locator("td.suppressed")
        assert suppressed.count() == 2
        # The charts: one sparkline per row and the trend chart, drawn on canvases.
        assert page.locator("#popular-table .spark canvas").count() == 4
        assert page.locator("#trend-chart canvas").count() == 1
        assert page.eval_on_selector("#trend-chart canvas", "c => c.width") > 200
        assert "Staff handbook" in page.inner_text("#trend-caption")
        never = page.inner_text("#unopened-list")
        assert "Old news" in never and "Fire safety" not in never  # completed: kept, opened
        assert [r[1:] for r in rows(page, "compliance-table")] == [["6", "6"]]
        assert rows(page, "platform-table")[1][:2] == ["social", "6"]
        # The secret is in no URL and no storage.
        assert secret not in page.url and key not in page.url
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        page.screenshot(path=ARTIFACTS / f"dashboard-{engine}.png", full_page=True)
        # Keyboard only: Tab reaches the filters, the tables, the trend picks and the
        # chart's table alternative; Space on a pick takes that resource off the chart.
        focused = []
        for _ in range(30):
            page.keyboard.press("Tab")
            focused.append(page.evaluate(
                "document.activeElement.id || document.activeElement.tagName"))
        for stop in ("f-window", "f-verb", "f-type", "trend-0", "trend-3", "SUMMARY"):
            assert stop in focused, (stop, focused)
        page.focus("#trend-0")
        page.keyboard.press("Space")
        assert "Staff handbook" not in page.inner_text("#trend-caption")
        page.keyboard.press("Space")

        # A filter chosen in the form lands in the URL, so the view can be shared...
        page.select_option("#f-verb", LIKED)
        page.click("#filters button[type=submit]")
        loaded(page)
        assert f"verb={LIKED}" in page.url.replace("%3A", ":").replace("%2F", "/")
        assert [r[1].splitlines()[0] for r in rows(page, "popular-table")] == ["Kudos wall"]
        assert errors == []

    # ...and a shared URL opens on that view after signing in (a new browser: no memory).
    with chromium(viewport={"width": 640, "height": 450}) as browser:  # 1280 px at 200%
        page = browser.new_page()
        page.goto(f"{base}/dashboard?" + urlencode({"platform": "intranet", "window": "day"}))
        sign_in(page, key, secret)
        assert page.input_value("#f-platform") == "intranet"
        assert page.input_value("#f-window") == "day"
        names = [r[1].splitlines()[0] for r in rows(page, "popular-table")]
        assert names == ["Staff handbook", "Expense claims", "Travel insurance"]
        # Readable at 200% zoom: the page reflows instead of scrolling sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
        page.screenshot(path=ARTIFACTS / f"dashboard-200pct-{engine}.png", full_page=True)


def test_wrong_secret_is_refused_without_a_browser_dialog(
        filled: tuple[str, tuple[str, str]]) -> None:
    base, (key, _) = filled
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/dashboard")
        page.fill("#key", key)
        page.fill("#secret", "not-the-secret")
        page.press("#secret", "Enter")
        page.wait_for_selector("#sign-in-error:not(:empty)")
        assert "Unknown key or secret" in page.inner_text("#sign-in-error")
        assert page.is_hidden("#board")


def test_dashboard_shows_epsilon_and_the_remaining_budget_with_dp_on(
        settings: Settings, tmp_path: Path) -> None:
    env = {"LRS_DP_ENABLED": "true", "LRS_DP_EPSILON": "1", "LRS_DP_BUDGET_PER_DAY": "10",
           "LRS_TALLY_KEY_PERIOD": "week"}
    for base, (key, secret) in serve(settings, tmp_path, retention="tally", extra_env=env):
        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"{base}/dashboard")
            sign_in(page, key, secret)
            note = page.locator("#privacy-note")
            assert note.is_visible()
            text = note.inner_text()
            # The week's six closed days: one popularity and one summary release each.
            assert "ε = 1 per release" in text and "budget 10 per day, 8 left" in text, text
            yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
            assert f"closed days up to {yesterday}" in text
            # Releases are per day: learner-days, whatever the weekly key.
            assert page.inner_text("#learners-head") == "Learner-days"
