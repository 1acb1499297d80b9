"""The `lrs` command: credentials and the catalogue, on a real SQLite store."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.credentials import Scope, verify_secret
from lrs.storage import open_storage
from statements.erasure import AuditRecord
from tests.factories import make_agent, make_statement


def run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def credential(data_dir: Path, key: str):  # type: ignore[no-untyped-def]
    async def read():  # type: ignore[no-untyped-def]
        storage = await open_storage(Settings(data_dir=data_dir))
        try:
            return await storage.credentials.get(key)
        finally:
            await storage.close()

    return asyncio.run(read())


def test_cli_credentials_create_list_revoke(tmp_path: Path) -> None:
    created = json.loads(run(tmp_path, "credentials", "create", "--name", "lms", "--scopes",
                             "statements/write,state", "--retention", "full", "--json"))
    stored = credential(tmp_path, created["key"])
    assert stored.scopes == {Scope.STATEMENTS_WRITE, Scope.STATE}
    assert created["secret"] not in stored.secret_hash  # only a salted hash is kept
    assert verify_secret(created["secret"], stored.secret_hash)
    assert not verify_secret(created["secret"] + "x", stored.secret_hash)
    assert "lms" in run(tmp_path, "credentials", "list")
    run(tmp_path, "credentials", "revoke", created["key"])
    assert credential(tmp_path, created["key"]).revoked is not None
    again = fail(tmp_path, "credentials", "revoke", created["key"])
    assert f"the credential keyed {created['key']} is revoked" in again


def fail(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code != 0, result.output
    return result.output


def test_cli_credentials_list_has_a_header_row_and_json(tmp_path: Path) -> None:
    assert run(tmp_path, "credentials", "list").splitlines() == [
        "KEY  NAME  RETENTION  STATE  LAST USED  SCOPES"]
    created = json.loads(run(tmp_path, "credentials", "create", "--name", "intranet",
                             "--scopes", "statements/write", "--json"))
    header, row = run(tmp_path, "credentials", "list").splitlines()
    assert header.split() == ["KEY", "NAME", "RETENTION", "STATE", "LAST", "USED", "SCOPES"]
    assert row.split() == [created["key"], "intranet", "tally", "active", "-",
                           "statements/write"]
    assert header.index("NAME") == row.index("intranet")  # the columns line up
    [listed] = json.loads(run(tmp_path, "credentials", "list", "--json"))
    assert listed["name"] == "intranet" and listed["key"] == created["key"]
    assert listed["revoked"] is None and listed["last_used"] is None
    assert "secret" not in listed


@pytest.mark.parametrize("by", ["name", "key"])
def test_cli_credentials_rotate_and_revoke_by_name_or_key(tmp_path: Path, by: str) -> None:
    created = json.loads(run(tmp_path, "credentials", "create", "--name", "lms", "--scopes",
                             "all", "--json"))
    rotated = json.loads(run(tmp_path, "credentials", "rotate", created[by], "--json"))
    assert rotated["key"] == created["key"] and rotated["secret"] != created["secret"]
    stored = credential(tmp_path, created["key"])
    assert verify_secret(rotated["secret"], stored.secret_hash)
    assert not verify_secret(created["secret"], stored.secret_hash)
    assert "revoked lms" in run(tmp_path, "credentials", "revoke", created[by])
    assert credential(tmp_path, created["key"]).revoked is not None


@pytest.mark.parametrize("command", [["credentials", "revoke", "nobody"],
                                     ["credentials", "rotate", "nobody"]])
def test_cli_credentials_say_when_a_ref_matches_neither(tmp_path: Path,
                                                        command: list[str]) -> None:
    assert "no credential named or keyed nobody" in fail(tmp_path, *command)


def test_cli_credentials_create_refuses_a_name_in_use(tmp_path: Path) -> None:
    run(tmp_path, "credentials", "create", "--name", "lms", "--scopes", "all")
    out = fail(tmp_path, "credentials", "create", "--name", "lms", "--scopes", "all")
    assert "a credential named lms exists" in out


def test_cli_credentials_reject_unknown_scopes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["credentials", "create", "--name", "x", "--scopes",
                                       "statements/wrte", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "known scopes" in result.output


def test_cli_demo_credential_stays_stable_once_created(tmp_path: Path) -> None:
    first = run(tmp_path, "credentials", "demo")
    secret = next(line.split()[-1] for line in first.splitlines() if line.startswith("secret:"))
    key = next(line.split()[-1] for line in first.splitlines() if line.startswith("key:"))
    assert verify_secret(secret, credential(tmp_path, key).secret_hash)
    second = run(tmp_path, "credentials", "demo")
    assert secret not in second and key in second
    assert "lrs credentials rotate demo" in second
    assert verify_secret(secret, credential(tmp_path, key).secret_hash)  # still works
    assert len(audit(tmp_path)) == 1  # created once, never replaced


def audit(data_dir: Path) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        storage = await open_storage(Settings(data_dir=data_dir))
        try:
            return await storage.erasure.audit_log()
        finally:
            await storage.close()

    return asyncio.run(read())


def test_cli_admin_actions_are_in_the_audit_log(tmp_path: Path) -> None:
    run(tmp_path, "credentials", "create", "--name", "lms", "--scopes", "all",
        "--operator", "ops-alice")
    run(tmp_path, "credentials", "rotate", "lms")
    run(tmp_path, "credentials", "revoke", "lms")
    good = tmp_path / "catalogue.json"
    good.write_text(json.dumps({"version": 1, "entries": [
        {"kind": "activity", "value": "http://e.test/a"}]}))
    run(tmp_path, "catalogue", "load", str(good))
    records = audit(tmp_path)
    assert [(r.action, r.operator) for r in records] == [
        ("credential_create", "ops-alice"), ("credential_rotate", "cli"),
        ("credential_revoke", "cli"), ("catalogue_load", "cli")]
    assert records[3].counts == {"entries": 1} and records[3].detail == {
        "file": "catalogue.json"}


def test_cli_catalogue_load_and_export(tmp_path: Path) -> None:
    good = tmp_path / "catalogue.yaml"
    good.write_text("version: 1\nentries:\n  - kind: prefix\n"
                    "    value: http://lms.example.com/courses/\n    name: Courses\n")
    assert "loaded 1" in run(tmp_path, "catalogue", "load", str(good))
    exported = json.loads(run(tmp_path, "catalogue", "export"))
    assert exported["entries"] == [{"kind": "prefix", "value": "http://lms.example.com/courses/",
                                    "name": "Courses"}]


@pytest.mark.parametrize(("text", "expected"), [
    ("version: 1\nentries:\n  - kind: exact\n    value: http://e.com/a\n", "line 3"),
    ("version: 1\nentries:\n  - kind: activity\n    value: no-scheme\n", "entries[0]"),
])
def test_cli_catalogue_load_names_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(text)
    result = CliRunner().invoke(main, ["catalogue", "load", str(bad), "--data-dir",
                                       str(tmp_path)])
    assert result.exit_code != 0 and expected in result.output


def test_cli_migrate_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        assert "up to date" in run(tmp_path, "migrate")


def test_cli_import_names_the_credential_by_name_or_key(tmp_path: Path) -> None:
    created = json.loads(run(tmp_path, "credentials", "create", "--name", "old-lms",
                             "--scopes", "statements/write", "--json"))
    statements = tmp_path / "s.jsonl"
    statements.write_text(json.dumps(make_statement()) + "\n")
    assert "1" in run(tmp_path, "import", str(statements), "--credential", created["key"])
    assert "already imported" in run(tmp_path, "import", str(statements), "--credential",
                                     "old-lms")
    assert "no credential named or keyed nobody" in fail(
        tmp_path, "import", str(statements), "--credential", "nobody")


@pytest.mark.parametrize("when", ["2099-01-01", "2099-01-01T10:00:00Z", "2099-01-01T10:00:00"])
def test_cli_purge_as_of_takes_a_date_or_a_date_time(tmp_path: Path, when: str) -> None:
    assert "would delete 0 statements" in run(tmp_path, "purge", "--dry-run", "--as-of", when)


def test_cli_purge_as_of_says_what_it_takes(tmp_path: Path) -> None:
    out = fail(tmp_path, "purge", "--dry-run", "--as-of", "next week")
    assert "--as-of" in out and "date YYYY-MM-DD (the start of that day, UTC)" in out


def test_cli_export_takes_plain_dates_and_is_audited_without_the_person(
        tmp_path: Path) -> None:
    archive = tmp_path / "out.zip"
    agent = json.dumps(make_agent("erin"))
    assert "exported 0 statements" in run(tmp_path, "export", "-o", str(archive), "--since",
                                          "2025-01-01", "--until", "2025-02-01", "--agent",
                                          agent, "-q")
    with zipfile.ZipFile(archive) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
    assert "2025-01-01T00:00:00.000Z" in json.dumps(manifest)
    [record] = audit(tmp_path)
    assert record.action == "evidence_export" and record.operator == "cli"
    assert record.detail == {"since": "2025-01-01T00:00:00.000Z",
                             "until": "2025-02-01T00:00:00.000Z",
                             "output": str(archive.resolve())}  # for an erasure to find
    assert record.subject is not None and "erin" not in repr(record)
    bad = fail(tmp_path, "export", "-o", str(archive), "--since", "2025-13-01")
    assert "--since" in bad and "date YYYY-MM-DD" in bad


@pytest.mark.parametrize("name", ["person:ada", " padded"])
def test_cli_credentials_create_refuses_names_the_api_refuses(tmp_path: Path, name: str) -> None:
    out = fail(tmp_path, "credentials", "create", "--name", name, "--scopes", "all")
    assert "invalid credential name" in out


def test_cli_credentials_set_their_door_checks(tmp_path: Path) -> None:
    created = json.loads(run(tmp_path, "credentials", "create", "--name", "au", "--scopes",
                             "statements/write", "--cmi5", "flag", "--json"))
    made = credential(tmp_path, created["key"])
    assert (made.cmi5.value, made.profiles.value, made.cmi5_lms) == ("flag", "off", False)
    out = run(tmp_path, "credentials", "set", "au", "--cmi5", "reject", "--profiles", "flag",
              "--cmi5-lms")
    assert "cmi5 reject, profiles flag, cmi5 LMS yes" in out
    changed = credential(tmp_path, created["key"])
    assert (changed.cmi5.value, changed.profiles.value, changed.cmi5_lms) == (
        "reject", "flag", True)
    run(tmp_path, "credentials", "set", created["key"], "--not-cmi5-lms")
    assert credential(tmp_path, created["key"]).cmi5.value == "reject"  # left as it was
    assert not credential(tmp_path, created["key"]).cmi5_lms
    assert "nothing to change" in fail(tmp_path, "credentials", "set", "au")
    assert "'maybe' is not one of" in fail(tmp_path, "credentials", "set", "au", "--cmi5",
                                          "maybe")
