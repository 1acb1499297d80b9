"""The privacy report (lrs/privacy/): its facts follow the configuration on every engine,
Markdown and JSON carry the same facts, the CLI writes it, the API is for admins only."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator, FormatChecker

from aggregation.hits import Hit
from lrs.cli import main
from lrs.config import Settings
from lrs.credentials import Credential, Retention, Scope, authority_for, hash_secret
from lrs.people import ROLE_SCOPES, Role
from lrs.privacy.facts import HIT_FIELDS, gather
from lrs.privacy.markdown import render, shown
from lrs.privacy.schema import REPORT_SCHEMA
from lrs.storage import Storage, open_storage
from plugins.catalogue import Catalogue, CatalogueEntry
from plugins.manager import make_plugin_manager
from tests.conftest import add_credential, app_client

COURSE = "http://example.com/courses/fire-safety"
PASSED = "http://adlnet.gov/expapi/verbs/passed"


async def report(settings: Settings, storage: Storage) -> dict[str, Any]:
    catalogue = Catalogue(await storage.catalogue.entries())
    return await gather(settings, storage, catalogue, make_plugin_manager(
        load_entry_points=False))


def leaves(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """(JSON path, value) of every scalar (and empty container) of the report."""
    if isinstance(value, dict) and value:
        for name, inner in value.items():
            yield from leaves(inner, f"{path}.{name}")
    elif isinstance(value, list) and value:
        for number, inner in enumerate(value):
            yield from leaves(inner, f"{path}[{number}]")
    else:
        yield path, value


async def test_report_follows_retention_k_and_role_map(settings: Settings,
                                                       storage: Storage) -> None:
    before = await report(settings, storage)
    Draft202012Validator(REPORT_SCHEMA, format_checker=FormatChecker()).validate(before)
    assert before["storage"]["engine"] == storage.engine
    assert before["tally"]["suppression_threshold"] == 5
    assert before["kept_in_full"]["retention_periods"] == [
        {"class": "default", "name": None, "days": None}]
    assert before["kept_in_full"]["credential_defaults"] == {
        "full": 0, "tally": 0, "bound_to_a_person": 0, "revoked": 0}

    await storage.catalogue.add([CatalogueEntry("activity", COURSE, "Fire safety", 730)])
    await add_credential(storage, Scope.STATEMENTS_WRITE, name="lms", retention=Retention.FULL)
    await add_credential(storage, Scope.STATEMENTS_WRITE, name="intranet",
                         retention=Retention.TALLY)
    # A learner's own credential (`--agent`), and a revoked one.
    await storage.credentials.add(Credential(
        key="k-bob", name="bob-portfolio", secret_hash=hash_secret("x"),
        scopes=frozenset({Scope.STATEMENTS_READ_MINE}), retention=Retention.TALLY,
        authority={"objectType": "Agent", "mbox": "mailto:bob@example.com"},
        created=datetime.now(UTC)))
    await storage.credentials.add(Credential(
        key="k-old", name="old", secret_hash=hash_secret("x"), scopes=frozenset(),
        retention=Retention.FULL, authority=authority_for("k-old", "old", "http://lrs.test"),
        created=datetime.now(UTC), revoked=datetime.now(UTC)))
    changed = settings.model_copy(update={
        "suppression_threshold": 11, "retention_verb_days": {PASSED: 90},
        "retention_default_days": 365, "oidc_role_map": {"hr-auditors": "compliance",
                                                         "it": "admin"}})
    after = await report(changed, storage)
    Draft202012Validator(REPORT_SCHEMA, format_checker=FormatChecker()).validate(after)
    assert after["tally"]["suppression_threshold"] == 11
    assert after["kept_in_full"]["retention_periods"] == [
        {"class": f"catalogue:activity:{COURSE}", "name": "Fire safety", "days": 730},
        {"class": f"verb:{PASSED}", "name": None, "days": 90},
        {"class": "default", "name": None, "days": 365}]
    assert after["kept_in_full"]["catalogue_entries"] == {"activity": 1}
    assert after["kept_in_full"]["credential_defaults"] == {
        "full": 1, "tally": 2, "bound_to_a_person": 1, "revoked": 1}
    assert "bob" not in json.dumps(after)  # counted, never named
    roles = {row["role"]: row for row in after["access_by_role"]}
    assert roles["compliance"]["claim_values"] == ["hr-auditors"]
    assert roles["admin"]["claim_values"] == ["it"]
    assert roles["analyst"]["claim_values"] == []  # no claim grants it any more
    # The compliance purpose is served once something is kept in full.
    purposes = {p["purpose"]: p["active"] for p in after["purposes"]}
    assert not {p["purpose"]: p["active"] for p in before["purposes"]}[
        "proof of completed mandatory training (compliance)"]
    assert purposes["proof of completed mandatory training (compliance)"]

    markdown = render(after)
    assert f"| catalogue:activity:{COURSE} | Fire safety | 730 |" in markdown
    assert f"| verb:{PASSED} | not set | 90 |" in markdown
    assert "Small-group suppression: fixed k. The fixed k is 11:" in markdown
    assert "| compliance | hr-auditors | compliance/read |" in markdown


async def test_report_reads_tally_fields_and_role_scopes_from_the_code(
        settings: Settings, storage: Storage) -> None:
    facts = await report(settings, storage)
    assert [f["name"] for f in facts["tally"]["fields"]] == [
        f.name for f in dataclasses.fields(Hit)]
    assert set(HIT_FIELDS) == {f.name for f in dataclasses.fields(Hit)}, \
        "a Hit field without a line in lrs.privacy.facts.HIT_FIELDS"
    assert {r["role"]: r["scopes"] for r in facts["access_by_role"]} == {
        role.value: sorted(s.value for s in ROLE_SCOPES[role]) for role in Role}
    assert facts["kept_in_full"]["retention_chain"][0] == "builtin.CatalogueRule"
    assert facts["kept_in_full"]["retention_chain"][-1] == "builtin.ServerDefaultRule"


async def test_markdown_and_json_carry_the_same_facts(settings: Settings,
                                                      storage: Storage) -> None:
    await storage.catalogue.add([CatalogueEntry("prefix", "http://example.com/compliance/",
                                                "Mandatory", 400)])
    await add_credential(storage, Scope.STATEMENTS_WRITE, name="lms", retention=Retention.FULL)
    configured = settings.model_copy(update={"retention_verb_days": {PASSED: 30},
                                             "oidc_machine_clients": {}})
    facts = await report(configured, storage)
    markdown = render(facts)
    missing = [(path, value) for path, value in leaves(facts) if shown(value) not in markdown]
    assert missing == []
    # And a fact the Markdown shows is one of the JSON's: change it and both change.
    other = render(await report(configured.model_copy(update={"fingerprint_days": 47}),
                                storage))
    assert "Tally fingerprints kept (days): 47" in other
    assert "Tally fingerprints kept (days): 47" not in markdown


def test_cli_writes_the_report_file_and_exits_0(settings: Settings, tmp_path: Path) -> None:
    async def prepare() -> None:
        storage = await open_storage(settings)
        try:
            await storage.catalogue.add([CatalogueEntry("type", "http://example.com/types/exam",
                                                        "Exams", 3650)])
        finally:
            await storage.close()

    asyncio.run(prepare())
    env = {"LRS_STORE": settings.store_url(), "LRS_MONGODB_DATABASE": settings.mongodb_database,
           "LRS_SUPPRESSION_THRESHOLD": "7"}
    out_json, out_md = tmp_path / "report.json", tmp_path / "report.md"
    runner = CliRunner(env=env)
    done = runner.invoke(main, ["privacy", "report", "--format", "json", "--output",
                                str(out_json)])
    assert done.exit_code == 0, done.output
    facts = json.loads(out_json.read_text())
    Draft202012Validator(REPORT_SCHEMA, format_checker=FormatChecker()).validate(facts)
    assert facts["tally"]["suppression_threshold"] == 7
    assert facts["storage"]["engine"] == ("sqlite" if settings.store_url().startswith(
        "sqlite") else "mongodb")
    assert facts["kept_in_full"]["retention_periods"][0] == {
        "class": "catalogue:type:http://example.com/types/exam", "name": "Exams", "days": 3650}
    done = runner.invoke(main, ["privacy", "report", "--output", str(out_md)])
    assert done.exit_code == 0, done.output
    text = out_md.read_text()
    assert text.startswith("# Record of processing and DPIA draft")
    assert "| catalogue:type:http://example.com/types/exam | Exams | 3650 |" in text
    refused = runner.invoke(main, ["privacy", "report", "--format", "pdf"])
    assert refused.exit_code == 2 and "pdf" in refused.output
    nowhere = tmp_path / "no-such-dir" / "report.md"
    refused = runner.invoke(main, ["privacy", "report", "--output", str(nowhere)])
    assert refused.exit_code == 1 and f"cannot write {nowhere}" in refused.output
    printed = runner.invoke(main, ["privacy", "report", "--format", "json"])
    assert printed.exit_code == 0 and json.loads(printed.output)["tally"][
        "suppression_threshold"] == 7


async def test_api_is_for_admins_only(settings: Settings, storage: Storage) -> None:
    async with app_client(settings, storage) as anonymous:
        answer = await anonymous.get("/api/v1/admin/privacy-report")
        assert answer.status_code == 401, answer.text
    analyst = await add_credential(storage, Scope.AGGREGATES_READ, name="analyst")
    async with app_client(settings, storage, headers=analyst) as client:
        answer = await client.get("/api/v1/admin/privacy-report")
        assert answer.status_code == 403, answer.text
        assert "admin" in answer.json()["error"]["message"]


async def test_api_answers_json_or_markdown_by_accept(settings: Settings,
                                                      storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN, name="dpo-tools")
    async with app_client(settings, storage, headers=admin) as client:
        as_json = await client.get("/api/v1/admin/privacy-report")
        assert as_json.status_code == 200, as_json.text
        assert as_json.headers["content-type"].startswith("application/json")
        facts = as_json.json()
        Draft202012Validator(REPORT_SCHEMA, format_checker=FormatChecker()).validate(facts)
        assert facts["kept_in_full"]["credential_defaults"]["full"] == 1
        expected = await report(settings, storage)
        assert {**facts, "generated_at": ""} == {**expected, "generated_at": ""}

        as_md = await client.get("/api/v1/admin/privacy-report",
                                 headers={"Accept": "text/markdown, application/json;q=0.5"})
        assert as_md.status_code == 200
        assert as_md.headers["content-type"].startswith("text/markdown")
        # The same facts as the JSON answer, drawn a moment later.
        generated = as_md.text.split("Generated at ", 1)[1].split(" ", 1)[0]
        assert as_md.text == render({**facts, "generated_at": generated})
        browser = await client.get("/api/v1/admin/privacy-report", params={
            "format": "markdown"}, headers={"Accept": "text/html,*/*;q=0.8"})
        assert browser.headers["content-type"].startswith("text/markdown")
        prefers_json = await client.get("/api/v1/admin/privacy-report",
                                        headers={"Accept": "text/*;q=0.3, application/json"})
        assert prefers_json.headers["content-type"].startswith("application/json")

        bad = await client.get("/api/v1/admin/privacy-report", params={"format": "pdf"})
        assert bad.status_code == 400
        assert bad.json()["error"]["problems"][0]["path"] == "?format"
        unknown = await client.get("/api/v1/admin/privacy-report", params={"since": "x"})
        assert unknown.status_code == 400
        assert unknown.json()["error"]["problems"][0]["path"] == "?since"


@pytest.mark.parametrize(("accept", "expected"), [
    ("", "json"), ("*/*", "json"), ("text/markdown", "markdown"),
    ("text/markdown;q=0.2, application/json", "json"), ("text/*", "markdown"),
    ("application/json, text/markdown", "json"), ("text/html", "json"),
])
async def test_api_format_by_accept_header(settings: Settings, storage: Storage, accept: str,
                                           expected: str) -> None:
    admin = await add_credential(storage, Scope.ADMIN, name="dpo-tools")
    async with app_client(settings, storage, headers=admin) as client:
        answer = await client.get("/api/v1/admin/privacy-report", headers={"Accept": accept})
        assert answer.status_code == 200
        media = "text/markdown" if expected == "markdown" else "application/json"
        assert answer.headers["content-type"].startswith(media), (accept, answer.headers)


async def test_console_settings_page_links_the_report_for_a_signed_in_admin(
        settings: Settings, storage: Storage) -> None:
    from tests.lrs.test_console_pages import sign_in

    dev = settings.model_copy(update={"dev_sign_in": True})
    async with app_client(dev, storage) as browser:
        await sign_in(browser, "analyst")
        refused = await browser.get("/api/v1/admin/privacy-report")
        assert refused.status_code == 403, refused.text
    async with app_client(dev, storage) as browser:
        await sign_in(browser, "admin")
        page = await browser.get("/console/settings")
        assert page.status_code == 200
        links = [link.replace("&amp;", "&") for link in re.findall(
            r'href="(/api/v1/admin/privacy-report[^"]*)"', page.text)]
        assert links == ["/api/v1/admin/privacy-report?format=markdown",
                         "/api/v1/admin/privacy-report?format=json"]
        followed = await browser.get(links[0], headers={"Accept": "text/html,*/*;q=0.8"})
        assert followed.status_code == 200
        assert followed.text.startswith("# Record of processing and DPIA draft")
        assert "| admin | admin | admin |" in followed.text


@pytest.mark.parametrize(("url", "location", "database"), [
    ("mongodb://lrs:s3cret@db1:27017,db2:27017/?replicaSet=rs0&authSource=admin",
     "mongodb://db1:27017,db2:27017", "lrs"),
    ("mongodb+srv://u:p@cluster0.example.net/learning?retryWrites=true",
     "mongodb+srv://cluster0.example.net", "learning"),
])
def test_report_names_the_mongodb_hosts_never_the_password(url: str, location: str,
                                                           database: str) -> None:
    from lrs.privacy.facts import where_data_lives

    found = where_data_lives(Settings(store=url), "mongodb")
    assert (found["location"], found["database"]) == (location, database)
    assert "s3cret" not in json.dumps(found) and "u:p" not in json.dumps(found)


async def test_report_lists_forwarding_recipients_by_host(settings: Settings,
                                                          storage: Storage) -> None:
    if getattr(storage, "forwarding", None) is None:
        pytest.skip("this branch has no forwarding yet (lrs.forwarding, branch `forwarding`)")
    from lrs.forwarding import Destination, Rule

    assert (await report(settings, storage))["forwarding"]["destinations"] == []
    await storage.forwarding.add_destination(Destination(
        "d-1", "hr-lrs", "xapi", "https://user:pw@lrs.hr.example.com/xapi/?token=t0k",
        "s3cret", "user"))
    await storage.forwarding.add_rule(Rule("r-1", "d-1", "kept"))
    facts = await report(settings, storage)
    assert facts["forwarding"]["destinations"] == [
        {"name": "hr-lrs", "kind": "xapi", "host": "lrs.hr.example.com"}]
    assert facts["forwarding"]["rules"] == [{"destination": "hr-lrs", "decision": "kept"}]
    text = json.dumps(facts) + render(facts)
    assert "s3cret" not in text and "t0k" not in text and "pw@" not in text
    assert "| hr-lrs | xapi | lrs.hr.example.com |" in render(facts)


class _LaterSettings(Settings):
    """Settings as the key-period and differential-privacy features add them (branch `dp`):
    the report must find them by name before and after that merge."""

    tally_key_period: str = "week"
    dp_enabled: bool = True
    dp_epsilon: float = 0.5
    dp_hits_per_bucket: int = 3


async def test_report_describes_key_period_and_dp_settings_when_they_exist(
        settings: Settings, storage: Storage) -> None:
    before = await report(settings, storage)
    # Before branch `dp` is merged there are no such settings; after, they are off by default.
    if "dp_enabled" in Settings.model_fields:
        assert before["tally"]["differential_privacy"]["dp_enabled"] is False
    else:
        assert before["tally"]["differential_privacy"] is None
    assert before["tally"]["threshold_kind"] == "fixed k"
    assert before["tally"]["unique_learners"]["key_period"] == "day"
    assert "differential privacy is off" in before["risks"][0]
    later = _LaterSettings(**{**settings.model_dump(), "tally_key_period": "week",
                              "dp_enabled": True, "dp_epsilon": 0.5, "dp_hits_per_bucket": 3})
    facts = await report(later, storage)
    Draft202012Validator(REPORT_SCHEMA, format_checker=FormatChecker()).validate(facts)
    assert {name: facts["tally"]["differential_privacy"][name] for name in (
        "dp_enabled", "dp_epsilon", "dp_hits_per_bucket")} == {
        "dp_enabled": True, "dp_epsilon": 0.5, "dp_hits_per_bucket": 3}
    assert facts["tally"]["threshold_kind"] == "noisy threshold (differential privacy)"
    assert facts["tally"]["unique_learners"]["key_period"] == "week"
    assert facts["tally"]["unique_learners"]["across_periods"].startswith("person-weeks")
    assert "one week" in facts["key_lifetimes"][0]["lifetime"]
    assert "differential privacy bounds" in facts["risks"][0]
    markdown = render(facts)
    assert "- Dp epsilon: 0.5" in markdown and "- Key period: week" in markdown
    assert [p for p, v in leaves(facts) if shown(v) not in markdown] == []
