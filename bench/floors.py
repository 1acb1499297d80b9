"""Floors: what the machine can do at all, measured in the harness's process in the same run.

- parse: `statements.parsing.parse_statements` on the same request bodies the load sends,
  with no HTTP, enrichment, decision or storage;
- insert: the engine's raw insert rate for the same statements, one transaction (SQLite) or
  one `insert_many` (MongoDB) per batch, into a bare table or collection with no secondary
  index: SQLite `(seq INTEGER PRIMARY KEY, id TEXT UNIQUE, stored INTEGER, body BLOB)` in
  WAL mode with synchronous=NORMAL, the LRS's settings; MongoDB documents
  `{_id: id, stored, statement}` with write concern majority, as the LRS writes.

No ingest figure can beat either; each POST scenario is reported as a ratio to them.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from bench.load import body_templates, fill
from statements.parsing import parse_statements
from statements.versions import XapiVersion


def parse_floor(pool: list[dict[str, Any]], batch: int, seconds: float) -> dict[str, Any]:
    """In-process parse + validate rate of the bodies the load sends for this batch size."""
    bodies = [fill(template) for template in body_templates(pool, batch)]
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        parse_statements(bodies[count % len(bodies)], XapiVersion.V2)
        count += 1
    elapsed = time.perf_counter() - start
    return {"batch": batch, "bodies": count, "statements": count * batch,
            "duration_s": elapsed, "bodies_per_s": count / elapsed,
            "statements_per_s": count * batch / elapsed,
            "us_per_statement": elapsed / (count * batch) * 1e6}


def _rate(batch: int, batches: int, elapsed: float) -> dict[str, Any]:
    return {"batch": batch, "batches": batches, "statements": batches * batch,
            "duration_s": elapsed, "statements_per_s": batches * batch / elapsed,
            "us_per_statement": elapsed / (batches * batch) * 1e6}


def sqlite_insert_floor(pool: list[dict[str, Any]], batch: int, seconds: float,
                        work: Path) -> dict[str, Any]:
    """Statements/s that executemany + commit puts into a bare WAL table, `batch` per
    transaction."""
    path = work / f"floor-{batch}.sqlite"
    bodies = [orjson.dumps(s) for s in pool]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE raw (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
                     " stored INTEGER NOT NULL, body BLOB NOT NULL)")
        batches, at = 0, 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            rows = []
            for _ in range(batch):
                rows.append((str(uuid.uuid4()), time.time_ns() // 1_000_000,
                             bodies[at % len(bodies)]))
                at += 1
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO raw(id, stored, body) VALUES (?,?,?)", rows)
            conn.execute("COMMIT")
            batches += 1
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return _rate(batch, batches, elapsed)


def mongo_insert_floor(pool: list[dict[str, Any]], batch: int, seconds: float,
                       url: str) -> dict[str, Any]:
    """Statements/s that insert_many puts into a bare collection, `batch` per call."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(url, w="majority")
    try:
        collection = client["bench_floor"][f"raw_{batch}"]
        collection.drop()
        batches, at = 0, 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            documents = []
            for _ in range(batch):
                documents.append({"_id": str(uuid.uuid4()), "stored": time.time_ns() // 1000,
                                  "statement": pool[at % len(pool)]})
                at += 1
            collection.insert_many(documents, ordered=True)
            batches += 1
        elapsed = time.perf_counter() - start
        client.drop_database("bench_floor")
    finally:
        client.close()
    return _rate(batch, batches, elapsed)
