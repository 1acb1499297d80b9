"""End to end: the console in a real headless Chromium against a real `lrs serve`, each role
signed in through the real OpenID provider (tests/oidc), using its pages, and what each
role must not see or do. Screenshots of failures go to test-artifacts/."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.browser import ARTIFACTS, CHROMIUM, chromium
from tests.e2e.console_data import ADA, BOB, FIRE, GDPR, LEARNERS, ROSTER_ONLY, seed
from tests.e2e.oidc import OidcProvider, SignInLrs, serve_with_sign_in, sign_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                  "(make test installs it with apt-get)")]
VERSION = {"X-Experience-API-Version": "2.0.0"}
NEW_ACTIVITY = "https://lms.example.com/courses/first-aid"
# Everything that identifies a seeded learner: no analyst may see any of it.
IDENTIFIERS = [text for email, name in [*LEARNERS, ROSTER_ONLY] for text in (email, name)]


@pytest.fixture(scope="module")
def lrs(oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[SignInLrs]:
    """One LRS (SQLite) signing people in at the provider, with the known data; secrets are
    checked on every request (no cache), so a rotated or revoked one fails at once."""
    with serve_with_sign_in(oidc_provider, tmp_path_factory.mktemp("console"),
                            extra_env={"LRS_CREDENTIAL_CACHE_SECONDS": "0"}) as running:
        seed(running.url, running.basic)
        yield running


class Watched:
    """A page, with every page error and console error, and the text of every response from
    the LRS the page received (to scan for what it must not see)."""

    def __init__(self, page: Any, lrs_url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.responses: list[Any] = []
        # The LRS's pages only (the provider's login page asks the network for a font).
        page.on("pageerror", lambda exc: self.errors.append(str(exc))
                if page.url.startswith(lrs_url) else None)
        page.on("console", lambda m: self.errors.append(m.text)
                if m.type == "error" and page.url.startswith(lrs_url) else None)
        page.on("response", lambda r: self.responses.append(r)
                if r.url.startswith(lrs_url) else None)

        self.texts: list[str] = []

    def collect(self) -> None:
        """Read the bodies received so far (before the page navigates away from them)."""
        from playwright.sync_api import Error as PlaywrightError

        for response in self.responses:
            try:
                self.texts.append(response.body().decode("utf-8", "replace"))
            except PlaywrightError:  # a redirect has no body to read
                continue
        self.responses.clear()

    def bodies(self) -> str:
        self.collect()
        return "\n".join(self.texts)


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium(viewport={"width": 1280, "height": 800}, accept_downloads=True) as context:
        yield context


def csrf(page: Any) -> str:
    token: str = page.get_attribute('meta[name="csrf-token"]', "content")
    return token


def nav(page: Any) -> list[str]:
    links: list[str] = page.eval_on_selector_all(
        'nav[aria-label="Console"] a', "links => links.map(a => a.getAttribute('href'))")
    return links


def rows(page: Any, table: str) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        f"#{table} tbody tr", "trs => trs.map(tr => tr.innerText)")
    return texts


def sign_out(page: Any, lrs: SignInLrs) -> None:
    """Sign out from the console's header: the LRS ends the session, then the provider asks
    to confirm its own logout and sends the browser back."""
    page.click("header form.sign-out button[type=submit]")
    page.wait_for_url(f"{lrs.provider.issuer}/**")
    page.click("button[name=logout][value=yes]")
    page.wait_for_url(f"{lrs.url}/signed-out*")
    assert page.request.get(f"{lrs.url}/api/v1/me").status == 401
    page.goto(f"{lrs.url}/console")
    assert page.url.startswith(lrs.provider.issuer)  # signed out here: off to sign in again


def post_statement(lrs: SignInLrs, auth: tuple[str, str]) -> int:
    statement = {"actor": {"mbox": "mailto:platform-test@example.com"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                 "object": {"id": "https://intranet.example.com/pages/news"}}
    return httpx.post(f"{lrs.url}/xapi/statements", json=statement, auth=auth,
                      headers=VERSION).status_code


def test_admin_creates_rotates_and_revokes_a_credential(lrs: SignInLrs, browser: Any) -> None:
    page = browser.new_page()
    watched = Watched(page, lrs.url)
    sign_in_page(page, lrs.url, "admin", next_path="/console/credentials")
    assert nav(page) == ["/console", "/console/credentials", "/console/catalogue",
                         "/console/settings", "/console/audit", "/console/forwarding",
                         "/console/quarantine", "/console/frameworks"]
    page.wait_for_selector("#credentials tbody tr >> text=seed-platform")
    checked = next(r for r in rows(page, "credentials") if r.startswith("seed-cmi5-lms"))
    assert "cmi5 flag (the LMS)" in checked and "profiles reject" in checked
    assert "quarantine 7 d" in checked
    seeded = next(r for r in rows(page, "credentials") if r.startswith("seed-platform"))
    assert "cmi5" not in seeded and "quarantine" not in seeded  # defaults are not shown

    page.fill("#c-name", "lms-e2e")
    page.check("input[name=scopes][value='statements/read']")
    page.check("input[name=retention][value=full]")
    page.click("#create-form button[type=submit]")
    page.wait_for_selector("#secret-box:not([hidden])")
    assert "you will not see it again" in page.inner_text("#secret-box")
    key, secret = page.inner_text("#secret-key"), page.input_value("#secret-value")
    assert len(secret) >= 20
    assert post_statement(lrs, (key, secret)) == 200
    created = next(r for r in rows(page, "credentials") if r.startswith("lms-e2e"))
    assert "statements/write" in created and "statements/read" in created and "full" in created
    page.click("#secret-done")
    assert page.is_hidden("#secret-box") and page.input_value("#secret-value") == ""
    page.reload()
    page.wait_for_selector("#credentials tbody tr >> text=lms-e2e")
    assert secret not in page.content()  # shown once: never again

    page.click("button[aria-label='Rotate the secret of lms-e2e']")
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm-yes")
    page.wait_for_selector("#secret-box:not([hidden])")
    rotated = page.input_value("#secret-value")
    assert rotated != secret and page.inner_text("#secret-key") == key
    assert post_statement(lrs, (key, secret)) == 401
    assert post_statement(lrs, (key, rotated)) == 200

    page.click("button[aria-label='Revoke lms-e2e']")
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm-no")  # cancelling changes nothing
    assert post_statement(lrs, (key, rotated)) == 200
    page.click("button[aria-label='Revoke lms-e2e']")
    page.click("#confirm-yes")
    page.wait_for_selector("#credentials tbody tr:has-text('lms-e2e') .revoked")
    assert post_statement(lrs, (key, rotated)) == 401
    assert "last used" not in page.inner_text("#status")  # no stale status line
    credential_row = next(r for r in rows(page, "credentials") if r.startswith("lms-e2e"))
    assert "never" not in credential_row  # its last use is recorded

    # The audit log, newest first, names the person who did it.
    page.click("nav >> text=Audit log")
    page.wait_for_selector("#audit tbody tr >> text=credential_revoke")
    actions = [r.split("\t")[1].strip() for r in rows(page, "audit")]
    assert actions[:3] == ["credential_revoke", "credential_rotate", "credential_create"]
    assert "person:admin" in rows(page, "audit")[0]

    page.click("nav >> text=Settings")
    page.wait_for_selector("#settings-retention")
    assert "Suppression threshold" in page.inner_text("#settings")
    # The privacy report, by the page's own link, with the browser's session.
    href = page.get_attribute("a >> text=Markdown", "href")
    assert href == "/api/v1/admin/privacy-report?format=markdown"
    report = page.request.get(lrs.url + href)
    assert report.status == 200 and report.text().startswith("# Record of processing")
    assert watched.errors == []
    sign_out(page, lrs)


def test_admin_adds_imports_and_removes_catalogue_entries(lrs: SignInLrs, browser: Any,
                                                           tmp_path: Path) -> None:
    page = browser.new_page()
    watched = Watched(page, lrs.url)
    sign_in_page(page, lrs.url, "admin", next_path="/console/catalogue")
    page.wait_for_selector(f"#entries tbody tr:has-text('{FIRE}') .matches >> text=4 statements")
    page.select_option("#a-kind", "activity")
    page.fill("#a-value", NEW_ACTIVITY)
    page.fill("#a-name", "First aid")
    page.fill("#a-days", "30")
    page.fill("#a-verbs", "http://adlnet.gov/expapi/verbs/passed")
    page.check("#a-success")
    page.fill("#a-valid", "P12M")
    page.click("#add-form button[type=submit]")
    page.wait_for_selector(f"#entries tbody tr:has-text('{NEW_ACTIVITY}')")
    added = next(r for r in rows(page, "entries") if NEW_ACTIVITY in r)
    assert "First aid" in added and "30 days" in added
    assert "verb passed, success" in added and "P12M" in added
    # Statements about it from now on are kept, and the page counts them.
    assert post_statement(lrs, lrs.basic) == 200
    kept = {"actor": {"mbox": "mailto:dan@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": NEW_ACTIVITY}}
    assert httpx.post(f"{lrs.url}/xapi/statements", json=kept, auth=lrs.basic,
                      headers=VERSION).status_code == 200
    page.reload()
    page.wait_for_selector(f"#entries tbody tr:has-text('{NEW_ACTIVITY}') >> text=1 statement")

    # A bad entry: the API's message and where it is wrong.
    page.fill("#a-value", "not an iri")
    page.click("#add-form button[type=submit]")
    page.wait_for_selector("#errors:not(:empty)")
    assert "Could not add the entry" in page.inner_text("#errors")
    assert page.locator("#errors code").count() >= 1  # the JSON path

    upload = tmp_path / "catalogue.yaml"
    upload.write_text("version: 1\nentries:\n  - kind: prefix\n"
                      "    value: https://lms.example.com/safety/\n    name: Safety series\n")
    page.set_input_files("#i-file", str(upload))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#entries tbody tr >> text=Safety series")
    assert "Imported 1 entry from catalogue.yaml" in page.inner_text("#status")

    page.click(f"button[aria-label='Remove activity {NEW_ACTIVITY}']")
    page.click("#confirm-yes")
    page.wait_for_selector(f"#status >> text=Removed {NEW_ACTIVITY}")
    assert not any(NEW_ACTIVITY in r for r in rows(page, "entries"))
    assert [e for e in watched.errors if "400" not in e] == []  # the bad entry's 400 only


def test_compliance_reports_with_a_roster_downloads_csv_and_cannot_administer(
        lrs: SignInLrs, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page()
    watched = Watched(page, lrs.url)
    sign_in_page(page, lrs.url, "compliance", next_path="/console/compliance")
    assert nav(page) == ["/console", "/console/compliance"]
    page.wait_for_selector(f"#r-activity option[value='activity:{FIRE}']", state="attached")
    page.select_option("#r-activity", f"activity:{FIRE}")
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\n" + "".join(f"{e},{n}\n" for e, n in [ADA, BOB, ROSTER_ONLY]))
    page.set_input_files("#r-roster-file", str(roster))
    page.wait_for_selector("#status >> text=Loaded the roster")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#results:not([hidden])")
    assert [r.split("\n")[0] for r in rows(page, "completed")] == [ADA[1]]
    assert ADA[0] in rows(page, "completed")[0]
    assert BOB[0] in rows(page, "not-completed")[0] and len(rows(page, "not-completed")) == 1
    assert ROSTER_ONLY[0] in rows(page, "no-record")[0] and len(rows(page, "no-record")) == 1
    assert "1 completed, 1 did not complete, 1 has no record" in page.inner_text("#summary")
    assert "verb completed" in rows(page, "completed")[0]  # the statement that decided it

    with page.expect_download() as download:
        page.click("#r-csv")
    lines = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert {(line["agent"], line["status"]) for line in lines} == {
        (f"mbox:mailto:{ADA[0]}", "completed"), (f"mbox:mailto:{BOB[0]}", "not completed"),
        (f"mbox:mailto:{ROSTER_ONLY[0]}", "no record")}

    # The evidence of one person on this activity, from their row.
    with page.expect_download() as download:
        page.click(f"#completed button[aria-label='Export the evidence of {ADA[1]}']")
    with zipfile.ZipFile(download.value.path()) as archive:
        kept = [json.loads(line) for line in archive.read("statements.jsonl").splitlines()]
    assert kept and all(s["actor"]["mbox"] == f"mailto:{ADA[0]}" for s in kept)
    assert {s["object"]["id"] for s in kept} == {FIRE}
    # ...and of one activity, everyone's.
    with page.expect_download() as download:
        page.click("#e-activity")
    with zipfile.ZipFile(download.value.path()) as archive:
        kept = [json.loads(line) for line in archive.read("statements.jsonl").splitlines()]
    assert {s["actor"]["mbox"] for s in kept} >= {f"mailto:{ADA[0]}", f"mailto:{BOB[0]}"}

    # As of a day before anything was sent: nobody had a record.
    page.fill("#r-as-of", "2000-01-01")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#summary >> text=0 completed, 0 did not complete, 3 have no record")
    page.fill("#r-as-of", "")

    # A roster entry the API refuses: its message, its JSON path, and the line it came from.
    page.fill("#r-roster", f"{ADA[0]}\n{{\"mbox\": \"bob-at-example\"}}")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#errors:not(:empty)")
    error = page.inner_text("#errors")
    assert "$.roster[1].mbox" in error and "roster line 2" in error

    # Not an administrator: no link, a 403 page, and the API refuses the session too.
    page.goto(f"{lrs.url}/console/credentials")
    assert "Not for your roles" in page.inner_text("main")
    assert "needs the admin role" in page.inner_text("main")
    assert page.locator("#create-form").count() == 0
    token = csrf(page)
    refused = page.request.post(f"{lrs.url}/api/v1/admin/credentials", headers={
        "x-csrftoken": token, "content-type": "application/json"},
        data=json.dumps({"name": "sneaky", "scopes": ["all"], "retention": "full"}))
    assert refused.status == 403 and "admin" in refused.json()["error"]["message"]
    assert "sneaky" not in httpx.get(f"{lrs.url}/api/v1/admin/credentials",
                                     auth=lrs.basic).text
    assert [e for e in watched.errors if "400" not in e and "403" not in e] == []
    sign_out(page, lrs)


def test_analyst_sees_the_dashboard_and_never_an_identifier(lrs: SignInLrs,
                                                            browser: Any) -> None:
    page = browser.new_page()
    watched = Watched(page, lrs.url)
    sign_in_page(page, lrs.url, "analyst", next_path="/dashboard")
    page.wait_for_selector("#board:not([hidden])")
    page.wait_for_selector("body:not([aria-busy])", state="attached")
    assert page.is_hidden("#sign-in")  # the session, not a key and secret
    popular = rows(page, "popular-table")
    assert any("Staff handbook" in r for r in popular), popular
    assert "Andy Analyst" in page.inner_text("#person")
    seen = [page.inner_text("body")]
    watched.collect()
    assert len(watched.texts) >= 10  # the page, its scripts, and its calls to the API
    assert any('"activities"' in text for text in watched.texts)  # the aggregates' answers
    page.goto(f"{lrs.url}/console")
    assert nav(page) == ["/console", "/dashboard"]
    seen.append(page.inner_text("body"))
    for path in ("/console/compliance", "/console/me", "/console/audit"):
        watched.collect()
        page.goto(f"{lrs.url}{path}")
        assert "Not for your roles" in page.inner_text("main"), path
        seen.append(page.inner_text("body"))
    for api in ("/api/v1/compliance/report", "/api/v1/portfolio", "/api/v1/admin/audit",
                "/api/v1/catalogue"):
        assert page.request.get(f"{lrs.url}{api}").status == 403, api
    everything = "\n".join(seen) + watched.bodies()
    assert "Staff handbook" in everything  # the scan sees what the page received
    leaked = [text for text in IDENTIFIERS if text.lower() in everything.lower()]
    assert leaked == []
    assert [e for e in watched.errors if "403" not in e] == []  # the forbidden pages
    sign_out(page, lrs)


def test_learner_sees_only_their_own_record_and_downloads_the_portfolio(
        lrs: SignInLrs, browser: Any) -> None:
    page = browser.new_page()
    watched = Watched(page, lrs.url)
    sign_in_page(page, lrs.url, "bob", next_path="/console/me")
    assert nav(page) == ["/console", "/console/me", "/console/space", "/console/history",
                         "/console/my-credentials", "/console/objectives"]
    page.wait_for_selector("#statements tbody tr >> text=Data protection")
    statements = rows(page, "statements")
    assert len(statements) == 2  # fire safety attempted, data protection completed
    completions = rows(page, "completions")
    assert len(completions) == 1 and "Data protection" in completions[0]
    policy = page.inner_text("#policy")
    assert "Fire safety" in policy and "2555 days" in policy
    assert "cannot" in policy or "nobody" in policy  # tallied activity is not theirs to get
    everything = page.inner_text("body") + watched.bodies()
    assert f"mailto:{BOB[0]}" in everything  # the scan sees what the page received...
    for text in (*ADA, "cleo@example.com", "dan@example.com"):  # ...and nothing of others
        assert text not in everything, text

    with page.expect_download() as download:
        page.click("#download-zip")
    with zipfile.ZipFile(download.value.path()) as archive:
        kept = json.loads(archive.read("statements.json"))
    assert {s["actor"]["mbox"] for s in kept} == {f"mailto:{BOB[0]}"}
    assert {s["object"]["id"] for s in kept} == {FIRE, GDPR}
    page.goto(f"{lrs.url}/console/compliance")
    assert "Not for your roles" in page.inner_text("main")
    assert page.request.get(f"{lrs.url}/api/v1/compliance/report").status == 403
    # (The 403 the browser logs is the forbidden page it was sent to, on purpose.)
    assert [e for e in watched.errors if "403" not in e] == []
    sign_out(page, lrs)

    ada = browser.new_page()
    sign_in_page(ada, lrs.url, "ada", next_path="/console/me")
    ada.wait_for_selector("#completions tbody tr >> text=Fire safety")
    assert BOB[0] not in ada.inner_text("body") and BOB[1] not in ada.inner_text("main")


def test_an_ended_session_sends_the_page_to_sign_in_again(lrs: SignInLrs,
                                                          browser: Any) -> None:
    page = browser.new_page()
    sign_in_page(page, lrs.url, "admin", next_path="/console/credentials")
    page.wait_for_selector("#credentials tbody tr >> text=seed-platform")
    browser.clear_cookies()  # the session is gone (expired, or ended elsewhere)
    page.fill("#c-name", "too-late")
    page.click("#create-form button[type=submit]")
    page.wait_for_url(f"{lrs.provider.issuer}/**")  # the API's 401: off to sign in again
    assert "too-late" not in httpx.get(f"{lrs.url}/api/v1/admin/credentials",
                                       auth=lrs.basic).text
    sign_in_page(page, lrs.url, "admin", next_path="/console/credentials")
    assert page.url == f"{lrs.url}/console/credentials"  # back where they were


def test_keyboard_only_creates_a_credential(lrs: SignInLrs, browser: Any) -> None:
    page = browser.new_page()
    sign_in_page(page, lrs.url, "admin", next_path="/console/credentials")  # by keyboard
    page.wait_for_selector("#credentials tbody tr >> text=seed-platform")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")  # skip the navigation
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id"))
        if reached[-1] == "c-name":
            break
    assert reached[-1] == "c-name", reached
    page.keyboard.type("keyboard-only")
    page.keyboard.press("Tab")  # the first scope, statements/write, is checked already
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # statements/read
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("#secret-box:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "secret-box"  # focus on the secret
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "copy-secret"
    page.keyboard.press("Enter")
    page.wait_for_selector("#status:not(:empty)")
    assert "secret" in page.inner_text("#status")
    row = next(r for r in rows(page, "credentials") if r.startswith("keyboard-only"))
    assert "statements/read" in row
    # The confirmation dialog: Escape cancels, and the credential stays.
    page.focus("button[aria-label='Revoke keyboard-only']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm[open]")
    assert page.evaluate("document.activeElement.id") == "confirm-no"
    page.keyboard.press("Escape")
    page.wait_for_selector("#confirm:not([open])", state="attached")
    assert "active" in next(r for r in rows(page, "credentials") if r.startswith("keyboard-only"))
    # The focus ring is visible: an outline on the focused control.
    page.focus("#c-name")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_phone_size_pages_stack_their_tables(lrs: SignInLrs) -> None:
    with chromium(viewport={"width": 390, "height": 844}, is_mobile=True,
                  has_touch=True) as browser:
        page = browser.new_page()
        sign_in_page(page, lrs.url, "multi", next_path="/console/credentials")
        for path, table in (("/console/credentials", "credentials"),
                            ("/console/catalogue", "entries"), ("/console/audit", "audit")):
            page.goto(f"{lrs.url}{path}")
            page.wait_for_selector(f"#{table} tbody tr td[data-label]")
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1"), path
            assert page.eval_on_selector(f"#{table} tbody tr",
                                         "tr => getComputedStyle(tr).display") == "block"
            label = page.eval_on_selector(f"#{table} tbody td",
                                          "td => getComputedStyle(td, '::before').content")
            assert label.strip('"'), path  # each value beside its column's name
        page.goto(f"{lrs.url}/console/me")
        page.wait_for_selector("#policy h3")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "console-me-phone.png", full_page=True)


def test_admin_lists_quarantine_by_kind_and_downloads_it(lrs: SignInLrs, browser: Any) -> None:
    made = httpx.post(f"{lrs.url}/api/v1/admin/credentials", auth=lrs.basic, json={
        "name": "openedx-e2e", "scopes": ["statements/write"], "quarantine_days": 3})
    assert made.status_code == 201, made.text
    edx = (made.json()["key"], made.json()["secret"])
    base = {"actor": {"mbox": "mailto:edx-learner@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"}}
    for wrong in ({"object": {"id": "0f6c1e8a-3d4b-4c2a-9a59-2a4f5f9e2b11"}},
                  {"object": {"objectType": "GroupActivity", "id": "https://edx.example/b"}},
                  {"object": {"id": "https://edx.example/p"},
                   "result": {"score": {"min": 0, "max": 0}}}):
        answer = httpx.post(f"{lrs.url}/xapi/statements", json={**base, **wrong}, auth=edx,
                            headers=VERSION)
        assert answer.status_code == 400
    page = browser.new_page()
    watched = Watched(page, lrs.url)
    sign_in_page(page, lrs.url, "admin", next_path="/console/quarantine")
    page.wait_for_selector("#kinds tbody tr >> text=$.object.id")
    kinds = rows(page, "kinds")
    assert len(kinds) == 3 and all("\t1" in k for k in kinds), kinds
    assert "3 quarantined statements." in page.inner_text("#status")
    page.click("button[aria-label='Show the statements of kind $.result.score']")
    page.wait_for_selector("#shown-kind >> text=of kind $.result.score")
    [entry] = rows(page, "entries")
    assert "score.min must be less than score.max" in entry
    with page.expect_download() as download:
        page.click("#download")
    lines = Path(download.value.path()).read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["$.result.score"]
    assert watched.errors == []
    # From the keyboard alone: the kind buttons are reached with Tab and show their focus.
    page.focus("#download")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") \
        == "Show the statements of kind $.result.score"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
