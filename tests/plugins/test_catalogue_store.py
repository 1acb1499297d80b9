"""The catalogue stores keep completion rules and validity; entries written before them read
with the defaults, on every engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lrs.config import Settings
from lrs.storage import Storage, open_storage
from plugins.catalogue import CatalogueEntry
from plugins.stores import sqlite as sqlite_catalogue
from statements.completion import PASSED, CompletionRule, Period
from statements.stores.sqlite_db import SqliteDatabase

COURSE = "http://example.com/courses/fire-safety"
RULED = CatalogueEntry("activity", COURSE, "Fire safety", 365,
                       completion=CompletionRule(frozenset({PASSED}), True, 0.8),
                       valid_for=Period.parse("P12M"), warn_before=Period.parse("P2W"))


async def test_catalogue_store_keeps_rules_and_validity(storage: Storage) -> None:
    plain = CatalogueEntry("prefix", "http://example.com/gdpr/")
    await storage.catalogue.add([RULED, plain])
    assert await storage.catalogue.entries() == [RULED, plain]
    # Adding the same (kind, value) without rules replaces them with the defaults.
    await storage.catalogue.add([CatalogueEntry("activity", COURSE, "Fire safety")])
    [entry, _] = await storage.catalogue.entries()
    assert entry.completion.is_default and entry.valid_for is None
    await storage.catalogue.replace([RULED])
    assert await storage.catalogue.entries() == [RULED]


async def test_catalogue_records_from_before_rules_read_as_the_defaults(
        storage: Storage) -> None:
    if storage.engine == "sqlite":
        await storage._resource.write(lambda c: c.execute(  # type: ignore[attr-defined]
            "INSERT INTO catalogue(kind, value, name, retention_days) VALUES (?,?,?,?)",
            ("activity", COURSE, "Old", 30)))
    else:
        collection: Any = storage.catalogue._catalogue  # type: ignore[attr-defined]
        await collection.insert_one({"_id": {"kind": "activity", "value": COURSE},
                                     "name": "Old", "retention_days": 30})
    assert await storage.catalogue.entries() == [CatalogueEntry("activity", COURSE, "Old", 30)]


async def test_sqlite_catalogue_migration_keeps_the_entries_of_schema_v1(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "lrs.db")
    await db.migrate(sqlite_catalogue.MIGRATIONS[:1], name="catalogue")
    await db.write(lambda c: c.execute("INSERT INTO catalogue VALUES (?,?,?,?)",
                                       ("activity", COURSE, "Old", None)))
    await db.close()
    storage = await open_storage(Settings(data_dir=tmp_path))
    try:
        assert await storage.catalogue.entries() == [CatalogueEntry("activity", COURSE, "Old")]
        await storage.catalogue.add([RULED])
        assert await storage.catalogue.entries() == [RULED]
    finally:
        await storage.close()
