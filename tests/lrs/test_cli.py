"""The `lrs` command: credentials and the catalogue, on a real SQLite store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.credentials import Scope, verify_secret
from lrs.storage import open_storage


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
    again = CliRunner().invoke(main, ["credentials", "revoke", created["key"],
                                      "--data-dir", str(tmp_path)])
    assert again.exit_code != 0 and "no active credential" in again.output


def test_cli_credentials_reject_unknown_scopes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["credentials", "create", "--name", "x", "--scopes",
                                       "statements/wrte", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "known scopes" in result.output


def test_cli_demo_credential_gets_a_new_secret_each_time(tmp_path: Path) -> None:
    first, second = run(tmp_path, "credentials", "demo"), run(tmp_path, "credentials", "demo")
    secret = next(line.split()[-1] for line in second.splitlines() if line.startswith("secret:"))
    key = next(line.split()[-1] for line in second.splitlines() if line.startswith("key:"))
    assert key in first and secret not in first
    assert verify_secret(secret, credential(tmp_path, key).secret_hash)


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
