"""`lrs backup --keyring`: the store and the spaces' keyring copied into two files, and a
restore of both opens every space again; the store's copy alone opens none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.config import Settings
from lrs.space import SpaceNotFound
from lrs.space.keys import owner_key
from lrs.space.service import open_spaces
from lrs.storage import open_storage

OWNER = owner_key({"mbox": "mailto:ada@example.org"})


async def test_backup_with_the_keyring_restores_the_spaces(tmp_path: Path) -> None:
    live = tmp_path / "live"
    settings = Settings(data_dir=live)
    storage = await open_storage(settings)
    try:
        spaces = open_spaces(settings, storage.space, storage.engine)
        await spaces.create(OWNER)
        await spaces.append(OWNER, "entry", b"kept in the backup")
        result = CliRunner().invoke(main, [
            "backup", str(tmp_path / "store.db"), "--keyring", str(tmp_path / "keys.db"),
            "--data-dir", str(live)])
        assert result.exit_code == 0, result.output
        assert "keyring" in result.output
    finally:
        await storage.close()

    for restored, with_keyring in (("both", True), ("store-only", False)):
        place = tmp_path / restored
        place.mkdir()
        shutil.copy(tmp_path / "store.db", place / "lrs.db")
        if with_keyring:
            shutil.copy(tmp_path / "keys.db", place / "lrs.db.keyring")
        shutil.copy(live / "space.key", place / "space.key")  # the server key, kept apart
        again = await open_storage(Settings(data_dir=place))
        try:
            spaces = open_spaces(Settings(data_dir=place), again.space, again.engine)
            if with_keyring:
                key = await spaces.unlock(OWNER)
                assert [o.plaintext for o in await spaces.read(key)] == [b"kept in the backup"]
            else:
                with pytest.raises(SpaceNotFound):
                    await spaces.unlock(OWNER)
        finally:
            await again.close()
