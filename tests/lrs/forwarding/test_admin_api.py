"""The forwarding admin API (/api/v1/admin/forwarding/...) and `lrs forwarding`, on real
stores: secrets never come back, mistakes are 4xx naming the JSON path, changes are audited
and take effect for the next statement at once in this process."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.storage import Storage
from tests.conftest import add_credential, app_client
from tests.factories import make_statement

BASE = "/api/v1/admin/forwarding"
HOOK = {"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook",
        "secret": "do-not-show"}
V2 = {"X-Experience-API-Version": "2.0.0"}


async def test_destinations_and_rules_round_trip_without_secrets(
        settings: Settings, storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN, Scope.STATEMENTS_WRITE)
    async with app_client(settings, storage, headers={**admin, **V2}) as client:
        made = await client.post(f"{BASE}/destinations", json=HOOK)
        assert made.status_code == 201, made.text
        assert "do-not-show" not in made.text
        rule = await client.post(f"{BASE}/rules", json={"destination": "hook",
                                                        "activity": "http://example.com/*"})
        assert rule.status_code == 201, rule.text
        listed = await client.get(f"{BASE}/destinations")
        assert [d["name"] for d in listed.json()] == ["hook"]
        assert "do-not-show" not in listed.text
        # Effective at once: the next kept statement about a matching activity is queued.
        sent = await client.post("/xapi/statements", json=make_statement())
        assert sent.status_code == 200, sent.text
        status = (await client.get(f"{BASE}/status")).json()
        assert [(s["name"], s["queued"] + s["delivered"] > 0) for s in status] == [
            ("hook", True)]
        removed = await client.delete(f"{BASE}/rules/{rule.json()['id']}")
        assert removed.status_code == 204
        assert (await client.get(f"{BASE}/rules")).json() == []
        assert (await client.delete(f"{BASE}/destinations/hook")).status_code == 204
        assert (await client.get(f"{BASE}/destinations")).json() == []
    audit = await storage.erasure.audit_log()
    assert [r.detail.get("change") for r in audit if r.action == "forwarding_change"] == [
        "add", "add rule", "remove rule", "remove"]


@pytest.mark.parametrize(("path", "body", "where"), [
    ("destinations", {**HOOK, "kind": "ftp"}, "$.kind"),
    ("destinations", {**HOOK, "url": "not a url"}, "$.url"),
    ("destinations", {k: v for k, v in HOOK.items() if k != "secret"}, "$.secret"),
    ("destinations", {**HOOK, "extra": 1}, "$.extra"),
    ("destinations", {**HOOK, "name": "taken"}, "$.name"),
    ("rules", {"destination": "nowhere"}, "$.destination"),
    ("rules", {"destination": "taken", "decision": "tallied", "verbs": []}, "$.decision"),
    ("rules", {"destination": "taken", "verbs": ["no-iri"]}, "$.verbs[0]"),
    ("rules", {"destination": "taken", "activity": "page"}, "$.activity"),
    ("rules", {"destination": "taken", "decision": "all"}, "$.decision"),
])
async def test_mistakes_are_4xx_naming_the_json_path(settings: Settings, storage: Storage,
                                                      path: str, body: dict[str, object],
                                                      where: str) -> None:
    admin = await add_credential(storage, Scope.ADMIN)
    async with app_client(settings, storage, headers=admin) as client:
        xapi = {**HOOK, "name": "taken", "kind": "xapi"}
        assert (await client.post(f"{BASE}/destinations", json=xapi)).status_code == 201
        answer = await client.post(f"{BASE}/{path}", json=body)
    assert answer.status_code in (400, 404), answer.text
    assert where in [p["path"] for p in answer.json()["error"]["problems"]], answer.text


async def test_the_forwarding_api_needs_the_admin_scope(settings: Settings,
                                                        storage: Storage) -> None:
    platform = await add_credential(storage, Scope.STATEMENTS_WRITE, retention=Retention.FULL)
    async with app_client(settings, storage, headers=platform) as client:
        for method, path in (("GET", "destinations"), ("POST", "rules"), ("GET", "status"),
                             ("POST", "destinations/x/dead/replay")):
            answer = await client.request(method, f"{BASE}/{path}", json={})
            assert answer.status_code == 403, (path, answer.text)
        assert (await client.get(f"{BASE}/status", headers={"Authorization": ""})
                ).status_code == 401


async def test_dead_letters_of_an_unknown_destination_are_a_404(settings: Settings,
                                                                storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN)
    async with app_client(settings, storage, headers=admin) as client:
        answer = await client.get(f"{BASE}/destinations/nowhere/dead")
        assert answer.status_code == 404
        bad = await client.post(f"{BASE}/destinations/nowhere/dead/replay",
                                json={"keys": "all"})
        assert bad.status_code == 400 and "$.keys" in bad.text


def test_cli_adds_lists_and_reports_without_the_secret(settings: Settings) -> None:
    store = ["--store", settings.store_url(), "--data-dir", str(settings.data_dir)]
    env = {"LRS_MONGODB_DATABASE": settings.mongodb_database}
    runner = CliRunner()
    added = runner.invoke(main, ["forwarding", "add-destination", "--name", "peer", "--kind",
                                 "xapi", "--url", "http://127.0.0.1:9/xapi", "--username",
                                 "k", "--secret", "p4ss", *store], env=env)
    assert added.exit_code == 0, added.output
    rule = runner.invoke(main, ["forwarding", "add-rule", "--destination", "peer", "--verb",
                                "http://adlnet.gov/expapi/verbs/completed", *store], env=env)
    assert rule.exit_code == 0, rule.output
    listed = runner.invoke(main, ["forwarding", "list", *store], env=env)
    assert listed.exit_code == 0 and "p4ss" not in listed.output
    assert json.loads(listed.output)["rules"][0]["verbs"] == [
        "http://adlnet.gov/expapi/verbs/completed"]
    refused = runner.invoke(main, ["forwarding", "add-rule", "--destination", "peer",
                                   "--decision", "tallied", *store], env=env)
    assert refused.exit_code != 0 and "webhook" in refused.output
    status = runner.invoke(main, ["forwarding", "status", *store], env=env)
    assert json.loads(status.output)[0]["queued"] == 0
    replay = runner.invoke(main, ["forwarding", "replay", "peer", *store], env=env)
    assert replay.output.strip() == "replayed 0"
