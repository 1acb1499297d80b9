"""The plaintext scan: entries and a file holding unique markers are written through the API
(envelope and sealed, both engines); then no file the LRS or the database wrote holds a
marker, as bytes, UTF-16 or base64. A control marker in a kept statement is found, so the
scan does read what the store wrote."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lrs.config import Settings
from lrs.credentials import Scope
from lrs.storage import open_storage
from tests.conftest import add_credential, app_client
from tests.lrs.space.scan import files_holding, scanned_files
from tests.lrs.space.test_space_api import signed_in

MARKERS = ["Title-Axolotl-9041", "Happened-Narwhal-3317", "Learned-Tapir-6620",
           "Next-Gecko-1188", "tag-Wombat-2204", "https://example.org/Link-Ibis-7075"]
FILE_MARKER = "File-Quetzal-5583"
CONTROL = "Control-Kept-Statement-4412"


@pytest.fixture(scope="module")
def own_mongodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A SecantusDB server of this module's own, so its data files are known, writing
    every commit to disk."""
    from secantus import SecantusDBServer

    path = tmp_path_factory.mktemp("secantus-scan")
    server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(path),
                              sync_on_commit=True)
    server.start()
    host, port = server.address
    yield f"mongodb://{host}:{port}/?replicaSet=secantus", path
    server.stop()


def entry(n: int) -> dict[str, object]:
    happened, learned, nxt = MARKERS[1:4]
    return {"kind": "experience", "title": f"{MARKERS[0]} {n}",
            "reflection": {"happened": happened, "learned": learned, "next": nxt},
            "tags": [MARKERS[4]], "links": [MARKERS[5]]}


@pytest.mark.parametrize("sealed", [False, True], ids=["envelope", "sealed"])
@pytest.mark.parametrize("engine_name", ["sqlite", "mongodb"])
async def test_no_file_holds_what_a_space_holds(engine_name: str, sealed: bool, tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    data = tmp_path / "data"
    roots = [data]
    if engine_name == "sqlite":
        settings = Settings(data_dir=data, store=f"sqlite:///{data / 'lrs.db'}")
    else:
        url, files = request.getfixturevalue("own_mongodb")
        settings = Settings(data_dir=data, store=url,
                            mongodb_database=f"scan_{uuid.uuid4().hex[:10]}")
        roots.append(files)
    storage = await open_storage(settings)
    try:
        auth = await add_credential(storage, Scope.ALL)
        async with app_client(settings, storage, headers={
                **auth, "X-Experience-API-Version": "2.0.0"}) as platform:
            kept = await platform.post("/xapi/statements", json={
                "actor": {"mbox": "mailto:control@example.org"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": f"https://example.org/{CONTROL}"}})
            assert kept.status_code == 200, kept.text
        async with signed_in(settings, storage) as ada:
            first = (await ada.call("POST", "/entries", json=entry(1))).json()
            if sealed:
                assert (await ada.call("POST", "/seal", json={
                    "passphrase": "the scan's passphrase"})).status_code == 200
            second = (await ada.call("POST", "/entries", json=entry(2))).json()
            for made in (first, second):
                assert (await ada.call("POST", f"/entries/{made['id']}/files",
                                       params={"name": f"{FILE_MARKER}.txt"},
                                       content=FILE_MARKER.encode() * 50)).status_code == 201
            edited = await ada.call("PUT", f"/entries/{first['id']}", json=entry(3))
            assert edited.status_code == 200
            listed = (await ada.call("GET", "/entries")).json()["entries"]
            assert sorted(e["title"] for e in listed) == [f"{MARKERS[0]} 2",
                                                          f"{MARKERS[0]} 3"]
        while_open = [hit for root in roots for hit in files_holding(
            root, [m.encode() for m in (*MARKERS, FILE_MARKER)])]
    finally:
        await storage.close()
    markers = [m.encode() for m in (*MARKERS, FILE_MARKER)]
    assert while_open == []
    assert [hit for root in roots for hit in files_holding(root, markers)] == []
    # The scan is not blind: it read the store's files, and finds what is stored in clear.
    assert any(scanned_files(root) for root in roots)
    assert [hit for root in roots for hit in files_holding(root, [CONTROL.encode()])], \
        [scanned_files(root) for root in roots]
