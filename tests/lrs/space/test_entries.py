"""Entries (lrs.space.entries, lrs.space.entry_ops) on every engine: recorded, listed,
edited, deleted, with files; each a valid xAPI statement with the learner as actor and
authority, kept only inside the space's ciphertext."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from lrs.config import Settings
from lrs.space import entry_ops as ops
from lrs.space.entries import FILE, parse_entry
from lrs.space.keys import owner_key
from lrs.space.service import Spaces, open_spaces
from lrs.storage import Storage
from statements.errors import Conflict, InvalidRequest, TooLarge
from statements.parsing import parse_statements
from statements.versions import XapiVersion

AGENT = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.org"}
OWNER = owner_key(AGENT)
T0 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def body(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "kind": "meeting", "title": "Design review with Grace",
        "reflection": {"happened": "We reviewed the schema.", "learned": "Indexes first.",
                       "next": "Write the migration."},
        "tags": ["databases", "review"], "links": ["https://example.org/notes"]}
    fields.update(overrides)
    return orjson.dumps({k: v for k, v in fields.items() if v is not ...})


@pytest.fixture
async def spaces(settings: Settings, storage: Storage) -> Spaces:
    opened = open_spaces(settings, storage.space, storage.engine)
    await opened.create(OWNER)
    return opened


async def test_entry_is_a_valid_statement_with_the_learner_as_actor_and_authority(
        spaces: Spaces, storage: Storage) -> None:
    entry = await ops.record(spaces, OWNER, AGENT, parse_entry(body(occurred="2026-04-30")),
                             now=T0, limit=10)
    statement = entry.statement
    assert statement["actor"] == AGENT and statement["authority"] == AGENT
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attended"
    assert statement["object"]["id"] == f"urn:uuid:{entry.id}"
    assert statement["timestamp"] == "2026-04-30T00:00:00.000Z"
    assert statement["result"]["response"] == "Indexes first."
    assert statement["version"] == "2.0.0" and statement["stored"].startswith("2026-05-01")
    # Portable: the statement passes the LRS's own door as it is.
    parse_statements(orjson.dumps(statement), XapiVersion.V2)
    # Never among the statements the LRS keeps.
    assert await storage.statements.get(statement["id"], voided=False) is None
    assert await storage.statements.get(statement["id"], voided=True) is None


async def test_entries_list_latest_first_edit_and_delete(spaces: Spaces) -> None:
    older = await ops.record(spaces, OWNER, AGENT, parse_entry(body(title="Older")),
                             now=T0, limit=10)
    newer = await ops.record(spaces, OWNER, AGENT, parse_entry(body(title="Newer")),
                             now=T0 + timedelta(days=1), limit=10)
    key = await spaces.unlock(OWNER)
    assert [e.title for e in await ops.entries(spaces, key)] == ["Newer", "Older"]
    edited = await ops.edit(spaces, key, AGENT, older.id,
                            parse_entry(body(title="Older, edited", kind="plan", tags=[])),
                            now=T0 + timedelta(days=2))
    assert edited.created == older.created and edited.updated == T0 + timedelta(days=2)
    assert edited.statement["id"] != older.statement["id"]  # another statement
    again = await ops.entry(spaces, key, older.id)
    assert again.title == "Older, edited" and again.kind == "plan" and again.tags == []
    await ops.delete(spaces, key, newer.id)
    assert [e.id for e in await ops.entries(spaces, key)] == [older.id]
    with pytest.raises(ops.EntryNotFound):
        await ops.entry(spaces, key, newer.id)


async def test_entry_files_attach_read_detach_and_go_with_the_entry(spaces: Spaces) -> None:
    entry = await ops.record(spaces, OWNER, AGENT, parse_entry(body()), now=T0, limit=10)
    key = await spaces.unlock(OWNER)
    with pytest.raises(TooLarge):
        await ops.attach(spaces, key, AGENT, entry.id, name="big.bin",
                         media_type="application/octet-stream", data=b"x" * 11, now=T0,
                         max_bytes=10)
    with_file = await ops.attach(spaces, key, AGENT, entry.id, name="notes.txt",
                                 media_type="text/plain", data=b"hello", now=T0,
                                 max_bytes=10)
    (info,) = with_file.files
    assert info.size == 5 and with_file.statement["attachments"][0]["sha2"] == info.sha256
    assert with_file.title == entry.title  # the rest is kept
    assert await ops.file(spaces, key, entry.id, info.id) == (info, b"hello")
    second = await ops.attach(spaces, key, AGENT, entry.id, name="b.txt",
                              media_type="text/plain", data=b"bee", now=T0, max_bytes=10)
    after = await ops.detach(spaces, key, AGENT, entry.id, info.id, now=T0)
    assert [f.name for f in after.files] == ["b.txt"]
    with pytest.raises(ops.EntryNotFound):
        await ops.file(spaces, key, entry.id, info.id)
    await ops.delete(spaces, key, entry.id)
    assert await spaces.read(key, FILE) == []
    assert second.files[1].name == "b.txt"


async def test_entries_in_a_sealed_space_are_written_without_unlocking(
        spaces: Spaces) -> None:
    await spaces.seal(OWNER, "a long enough passphrase")
    entry = await ops.record(spaces, OWNER, AGENT, parse_entry(body()), now=T0, limit=10)
    key = await spaces.unlock(OWNER, "a long enough passphrase")
    assert [e.id for e in await ops.entries(spaces, key)] == [entry.id]


async def test_entries_stop_at_the_limit(spaces: Spaces) -> None:
    await ops.record(spaces, OWNER, AGENT, parse_entry(body()), now=T0, limit=1)
    with pytest.raises(Conflict, match="holds 1 entries"):
        await ops.record(spaces, OWNER, AGENT, parse_entry(body()), now=T0, limit=1)


@pytest.mark.parametrize(("overrides", "path"), [
    ({"kind": "party"}, "$.kind"),
    ({"title": "  "}, "$.title"),
    ({"title": None}, "$.title"),
    ({"title": ...}, "$.title"),
    ({"tags": ["ok", ""]}, "$.tags[1]"),
    ({"links": ["javascript:alert(1)"]}, "$.links[0]"),
    ({"reflection": {"learned": 3}}, "$.reflection.learned"),
    ({"reflection": {"felt": "x"}}, "$.reflection.felt"),
    ({"occurred": "yesterday"}, "$.occurred"),
    ({"colour": "red"}, "$.colour"),
])
def test_entry_input_refused_names_the_path(overrides: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_entry(body(**overrides))
    assert path in [p.path for p in refused.value.problems]


def test_entry_input_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        parse_entry(b"{not json")
