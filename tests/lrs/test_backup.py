"""`lrs backup`: an online copy of the SQLite store, restored by putting it in place."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.credentials import Scope
from lrs.storage import open_storage
from tests.conftest import add_credential, app_client
from tests.e2e.test_serve import run_lrs
from tests.factories import make_statement

VERSION = {"X-Experience-API-Version": "2.0.0"}


async def test_backup_taken_while_serving_restores_every_acknowledged_statement(
        tmp_path: Path) -> None:
    live, copy = tmp_path / "live", tmp_path / "lrs-backup.db"
    settings = Settings(data_dir=live)
    storage = await open_storage(settings)
    auth = await add_credential(storage, Scope.ALL)
    try:
        async with app_client(settings, storage, headers={**auth, **VERSION}) as client:
            kept = [make_statement() for _ in range(30)]
            assert (await client.post("/xapi/statements", json=kept)).status_code == 200
            # Another process, while this one holds the store open with its WAL unmerged.
            output = await asyncio.to_thread(run_lrs, "backup", str(copy), "--data-dir",
                                             str(live), env=dict(os.environ))
            assert "backed up" in output
            later = make_statement()
            assert (await client.post("/xapi/statements", json=later)).status_code == 200
    finally:
        await storage.close()

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy, restored / "lrs.db")
    settings = Settings(data_dir=restored)
    storage = await open_storage(settings)
    try:
        async with app_client(settings, storage, headers={**auth, **VERSION}) as client:
            for statement in kept:  # the credential came back too: the same auth works
                got = await client.get("/xapi/statements",
                                       params={"statementId": statement["id"]})
                assert got.status_code == 200, got.text
            after = await client.get("/xapi/statements", params={"statementId": later["id"]})
            assert after.status_code == 404  # posted after the snapshot
    finally:
        await storage.close()


@pytest.mark.parametrize(("args", "expected"), [
    (["--store", "mongodb://db.example:27017/lrs"], "mongodump"),
    (["--data-dir", "{tmp}/nothing-here"], "no SQLite database"),
])
def test_backup_refuses_what_it_cannot_copy(tmp_path: Path, args: list[str],
                                            expected: str) -> None:
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "copy.db"),
                                       *(a.format(tmp=tmp_path) for a in args)])
    assert result.exit_code != 0
    assert expected in result.output
    assert not (tmp_path / "copy.db").exists()


def test_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["migrate", "--data-dir", str(tmp_path)]).exit_code == 0
    existing = tmp_path / "yesterday.db"
    existing.write_bytes(b"an older backup")
    result = CliRunner().invoke(main, ["backup", str(existing), "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "never overwrites" in result.output
    assert existing.read_bytes() == b"an older backup"
