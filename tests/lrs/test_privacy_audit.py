"""The privacy audit: nothing identifying of a tallied statement is stored, anywhere.

Thousands of tallied statements carry unique identifying values; then every byte the LRS
stored is read back (every file of the data directory for SQLite, every document of every
collection for MongoDB) and searched. The same values sent in statements kept in full must
be found, which proves the search itself works.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import bson
import pytest

from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential

pytestmark = pytest.mark.usefixtures("engine")
MARK = "pii7q"  # every identifying string carries this marker
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX40 = re.compile(rb"(?=([0-9a-f]{40}))")


@pytest.fixture(params=[False, True], ids=["dp-off", "dp-on"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Each engine with differential privacy off, and on (with weekly keys: its contribution
    digests, kept under the period's key, must not identify anyone either)."""
    if not request.param:
        return settings
    return settings.model_copy(update={"dp_enabled": True, "tally_key_period": "week"})


def identifying(n: int) -> tuple[dict[str, Any], set[bytes]]:
    """A statement full of values that identify person `n`, and the values to look for."""
    person = f"{MARK}{n:05d}"
    sha1 = hashlib.sha1(f"{person}@mail".encode()).hexdigest()
    registration = str(uuid.uuid4())
    actors = [
        {"objectType": "Agent", "name": f"{person} Name", "mbox": f"mailto:{person}@example.com"},
        {"name": f"{person} Sha", "mbox_sha1sum": sha1},
        {"name": f"{person} Open", "openid": f"https://openid.example.com/{person}"},
        {"name": f"{person} Acct", "account": {"homePage": f"https://{person}.example.com",
                                               "name": f"{person}-account"}},
    ]
    statement = {
        "actor": actors[n % 4],
        "verb": {"id": "http://id.tincanapi.com/verb/viewed"},
        "object": {"id": "http://intranet.example.com/pages/benefits"},
        "result": {"response": f"free text by {person}",
                   "extensions": {"http://e.com/x/note": f"{person} extension"}},
        "context": {"registration": registration, "platform": "intranet",
                    "instructor": {"mbox": f"mailto:{person}.teacher@example.com"},
                    "extensions": {"http://e.com/x/who": {"id": f"{person}-ctx"}}},
    }
    values = {person.encode(), registration.encode()}
    return statement, values | ({sha1.encode()} if "mbox_sha1sum" in statement["actor"] else set())


def identifying_batch(people: range) -> tuple[list[dict[str, Any]], set[bytes]]:
    """Identifying statements for these people, and every value to look for."""
    batch, values = [], set()
    for n in people:
        statement, found_in = identifying(n)
        batch.append(statement)
        values |= found_in
    return batch, values


async def stored_bytes(settings: Settings, storage: Storage) -> bytes:
    """Everything the LRS keeps: every file in the data directory (SQLite), or every
    document of every collection in its database (MongoDB)."""
    if storage.engine == "sqlite":
        files = [p for p in Path(settings.data_dir).rglob("*") if p.is_file()]
        assert any(p.name == "lrs.db" for p in files)
        return b"".join(p.read_bytes() for p in files)
    database = storage._resource[settings.mongodb_database]
    chunks = []
    for name in await database.list_collection_names():
        async for document in database[name].find():
            chunks.append(bson.encode(document))
    return b"".join(chunks)


def found(blob: bytes, values: set[bytes]) -> set[bytes]:
    """Which of `values` occur in `blob` (marker strings, UUIDs and SHA-1 sums)."""
    hits = {m.group(0)[:len(MARK) + 5] for m in re.finditer(re.escape(MARK.encode()) + rb"\d{5}",
                                                           blob)}
    hits |= set(UUID.findall(blob)) | {m.group(1) for m in HEX40.finditer(blob)}
    return hits & values


async def test_privacy_audit_tallied_statements_leave_no_identity(
    client: Client, storage: Storage, settings: Settings,
) -> None:
    tallying = await add_credential(storage, Scope.STATEMENTS_WRITE, Scope.DEFINE,
                                    name="intranet", retention=Retention.TALLY)
    sent: set[bytes] = set()
    for start in range(0, 2000, 250):
        batch, values = identifying_batch(range(start, start + 250))
        sent |= values
        response = await client.post("/xapi/statements", json=batch, headers=tallying)
        assert response.status_code == 200, response.text
    assert len(sent) == 4500  # 2,000 people, registrations, and 500 SHA-1 sums
    assert found(await stored_bytes(settings, storage), sent) == set()

    # The control: the same kind of values in statements kept in full are found.
    keeping = await add_credential(storage, Scope.STATEMENTS_WRITE, name="lms",
                                   retention=Retention.FULL)
    batch, kept = identifying_batch(range(5000, 5008))
    assert (await client.post("/xapi/statements", json=batch, headers=keeping)
            ).status_code == 200
    assert found(await stored_bytes(settings, storage), kept) == kept
