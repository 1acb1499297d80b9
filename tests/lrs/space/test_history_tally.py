"""My own history never changes the tally: the same statements ingested into two stores, one
with opted-in learners and one without, leave every tally row and every aggregate figure
byte for byte the same (both engines); and the copies are made at the door."""

from __future__ import annotations

import sqlite3
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from bson import ObjectId
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from aggregation.store import Filters
from aggregation.stores import mongo as mongo_tally
from aggregation.stores import sqlite as sqlite_tally
from lrs.config import Settings
from lrs.consistency import StoredClock
from lrs.credentials import Credential, Retention, Scope, authority_for, hash_secret
from lrs.ingest import Ingest, build_ingest
from lrs.space.history import DAY_MS, OptIn, agents_of
from lrs.storage import Storage, open_storage
from statements.versions import XapiVersion
from tests.conftest import store_url
from tests.factories import make_agent, make_statement

NOW = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
PAGES = [f"http://intranet.example.com/pages/{n}" for n in range(4)]
VIEWED = "http://id.tincanapi.com/verb/viewed"
PEOPLE = [f"learner{n}" for n in range(8)]
OPTED = PEOPLE[:3]
CREDENTIAL = Credential(
    key="intranet-key", name="intranet", secret_hash=hash_secret("s" * 32),
    scopes=frozenset({Scope.STATEMENTS_WRITE}), retention=Retention.TALLY,
    authority=authority_for("intranet-key", "intranet", "http://lrs.test"),
    created=NOW)


def viewed(n: int, person: str, page: str) -> dict[str, Any]:
    return make_statement(id=f"3f2b0b0e-0000-4000-8000-{n:012d}", actor=make_agent(person),
                          verb={"id": VIEWED}, object={"id": page}, result=None,
                          context={"platform": "intranet"},
                          timestamp=f"2026-11-03T{8 + n % 6:02d}:15:00.000Z")


def traffic() -> list[list[dict[str, Any]]]:
    """Requests of statements by everyone, the opted-in included, with a retry and a voiding."""
    batches = [[viewed(n * 10 + i, PEOPLE[(n + i) % len(PEOPLE)], PAGES[(n * i) % len(PAGES)])
                for i in range(5)] for n in range(6)]
    batches.append(batches[0])  # a retry: counted once, copied once
    about = make_statement(id="3f2b0b0e-0000-4000-8000-000000000999",
                           actor=make_agent("coach"), verb={"id": VIEWED},
                           object=make_agent(OPTED[0]), result=None, context=None,
                           timestamp="2026-11-03T10:00:00.000Z")
    batches.append([about])
    return batches


def key_pair() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


async def ingest_all(storage: Storage, settings: Settings) -> Ingest:
    ingest = await build_ingest(storage, settings, clock=StoredClock(lambda: NOW))
    for sent in traffic():
        await ingest(orjson.dumps(sent), content_type="application/json",
                     version=XapiVersion.V2, credential=CREDENTIAL)
    return ingest


async def figures(storage: Storage) -> list[Any]:
    """Every figure the tally answers for the day, by each way of asking."""
    day = int(NOW.timestamp() * 1000) // DAY_MS
    out: list[Any] = []
    for by in ("hits", "learners"):
        out.append(await storage.tally.popular(day - 1, day + 1, Filters(), by=by, limit=50))
    out.append(await storage.tally.popular(day, day, Filters(platform="intranet"),
                                           by="learners", limit=50))
    hour = int(NOW.timestamp()) // 3600
    for page in PAGES:
        for daily in (False, True):
            out.append(await storage.tally.series(page, hour - 24, hour, daily=daily))
    out.append(await storage.tally.summary(day - 1, day + 1))
    out.append(await storage.tally.seen(day - 1, day + 1))
    return out


def dump_sqlite(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but My own history's, in a stable order."""
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if not t.startswith("history_")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in tables}
    finally:
        conn.close()


async def dump_mongo(storage: Storage, database: str) -> dict[str, list[str]]:
    """Every document of every collection but My own history's, in a stable order; the
    `_id`s the server makes up for upserted documents (ObjectIds) are left out."""
    db = storage._resource[database]
    out = {}
    for name in sorted(await db.list_collection_names()):
        if not name.startswith("history_"):
            out[name] = sorted(repr({k: v for k, v in d.items()
                                     if not (k == "_id" and isinstance(v, ObjectId))})
                               for d in await db[name].find().to_list(None))
    return out


@pytest.fixture
def fixed_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tally's day keys made alike in both stores, so their sketches can be compared."""
    fixed = types.SimpleNamespace(token_bytes=lambda n: bytes(range(n)))
    monkeypatch.setattr(sqlite_tally, "secrets", fixed)
    monkeypatch.setattr(mongo_tally, "secrets", fixed)


@pytest.mark.usefixtures("fixed_keys")
async def test_history_opt_in_leaves_every_tally_row_and_figure_unchanged(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    dumps, results, pending = [], [], []
    for run, opted in (("without", ()), ("with", OPTED)):
        (tmp_path / run).mkdir()
        url, database = store_url(engine, tmp_path / run, request)
        settings = Settings(data_dir=tmp_path / run, store=url, mongodb_database=database)
        storage = await open_storage(settings)
        try:
            await storage.credentials.add(CREDENTIAL)
            for person in opted:
                agent = make_agent(person)
                await storage.history.opt_in(OptIn(
                    f"owner-{person}", agents_of(agent),
                    key_pair().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                    f"space-{person}", 0))
            await ingest_all(storage, settings)
            results.append(await figures(storage))
            pending.append(len(await storage.history.pending()))
            dumps.append(dump_sqlite(tmp_path / run / "lrs.db") if engine == "sqlite"
                         else await dump_mongo(storage, database))
        finally:
            await storage.close()
    without, with_ = dumps
    assert without.keys() == with_.keys()
    assert without["tally_days"] and without["fingerprints"]  # the rows compared are there
    for table in without:
        assert without[table] == with_[table], table
    assert results[0] == results[1]
    assert any(r.hits for r in results[0][0])  # the traffic was tallied
    # The opted-in learners' statements were copied (each once, the retry not again), and
    # the one about the first of them too.
    expected = sum(1 for sent in traffic()[:-2] for s in sent
                   if s["actor"]["name"].lower() in OPTED) + 1
    assert pending == [0, expected]
