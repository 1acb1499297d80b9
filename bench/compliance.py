"""Compliance report benchmark: N kept statements, a report streamed from a real `lrs serve`.

    .venv/bin/python -m bench.compliance                      # SQLite, 1,000,000 statements
    .venv/bin/python -m bench.compliance --quick              # 20,000: a smoke run
    .venv/bin/python -m bench.compliance --engine mongodb --statements 50000

What one run does:

1. Fills a fresh store with N kept statements, written in-process through the statement
   store's own `save` (batches of 5,000, enriched as ingest does; the HTTP ingest path has its
   own benchmark, bench/ingest.py). Learners: N / 20; mandatory courses: 10, all in the
   compliance catalogue; about half the statements complete or pass, the rest fail; the
   timestamps spread over two years.
2. Starts `lrs serve` on that store and asks for reports as an auditor would, reading each
   response as a stream: every catalogue entry as JSON and as CSV, one course against a
   roster of up to 5,000 learners (1,000 of them unknown to the LRS), and one course over
   the last 12 months.
3. Records for each: time to the first byte, total time, bytes, rows, rows/s and statements
   covered/s; and the server's resident memory, sampled every 20 ms, and its peak
   (`VmHWM` from /proc, Linux) after start-up and after the reports, which is what shows
   whether a report holds everything in memory. On SQLite the peak includes the page cache
   of each connection the reports read through (LRS sets 64 MiB per connection, and the
   server has four readers): it grows with the store up to that bound, then stays.

Results go to bench/results/<date>-compliance-<engine>[-quick].json.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.report import machine_info, write_json
from bench.servers import ROOT, create_credential, lrs_serve, secantus

COURSES = [f"http://bench.example.com/mandatory/course-{n:02d}" for n in range(10)]
START = datetime(2025, 1, 1, tzinfo=UTC)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compliance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "mongodb"], default="sqlite")
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 statements")
    parser.add_argument("--keep-work", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.statements = 20_000
    return args


def statement(number: int, learners: int) -> dict[str, Any]:
    learner = number % learners
    passed = (number * 7919) % 2 == 0
    when = START + timedelta(minutes=(number * 104_729) % (2 * 365 * 24 * 60))
    return {
        "id": str(uuid.UUID(int=number + 1, version=4)),
        "actor": {"objectType": "Agent", "name": f"Learner {learner}",
                  "mbox": f"mailto:learner{learner}@bench.example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/" + ("passed" if passed else "failed"),
                 "display": {"en-US": "passed" if passed else "failed"}},
        "object": {"objectType": "Activity", "id": COURSES[(number // learners) % len(COURSES)],
                   "definition": {"name": {"en-US": "Mandatory course"},
                                  "type": "http://adlnet.gov/expapi/activities/course"}},
        "result": {"completion": True, "success": passed,
                   "score": {"scaled": round((number % 100) / 100, 2)}, "duration": "PT25M"},
        "context": {"registration": str(uuid.UUID(int=number + 10**12, version=4)),
                    "platform": "Bench LMS"},
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


async def fill(settings: Any, count: int) -> dict[str, Any]:
    from lrs.storage import open_storage
    from plugins.catalogue import CatalogueEntry
    from statements.enrich import enrich
    from statements.versions import XapiVersion

    storage = await open_storage(settings)
    authority = {"objectType": "Agent", "account": {"homePage": "http://bench", "name": "b"}}
    learners = max(count // 20, 10)
    began = time.perf_counter()
    try:
        await storage.catalogue.replace([CatalogueEntry("activity", c) for c in COURSES])
        for start in range(0, count, 5000):
            now = datetime.now(UTC)
            batch = [enrich(statement(n, learners), statement_id=str(uuid.UUID(
                int=n + 1, version=4)), stored=now, authority=authority,
                version=XapiVersion.V2) for n in range(start, min(start + 5000, count))]
            await storage.statements.save(batch)
            if start // 5000 % 20 == 0:
                print(f"  filled {start + len(batch):,} / {count:,}", flush=True)
    finally:
        await storage.close()
    seconds = time.perf_counter() - began
    size = sum(p.stat().st_size for p in Path(settings.data_dir).glob("lrs.db*"))
    return {"statements": count, "learners": learners, "courses": len(COURSES),
            "sqlite_bytes": size or None,
            "seconds": round(seconds, 1), "statements_per_s": round(count / seconds)}


class MemorySampler(threading.Thread):
    """Samples a process's VmRSS every 20 ms; reads its VmHWM (peak) on demand."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[int] = []
        self.running = True

    def _field(self, name: str) -> int | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def run(self) -> None:
        while self.running:
            rss = self._field("VmRSS")
            if rss is not None:
                self.samples.append(rss)
            time.sleep(0.02)

    def peak(self) -> int | None:
        return self._field("VmHWM")


def stream(client: httpx.Client, method: str, path: str, *, params: dict[str, str],
           body: Any, statements: int) -> dict[str, Any]:
    began = time.perf_counter()
    first: float | None = None
    size = rows = 0
    with client.stream(method, path, params=params, json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.read()[:300]!r}")
        marker = b"\r\n" if params.get("format") == "csv" else b'{"entry"'
        tail = b""
        for chunk in response.iter_bytes():
            first = first or time.perf_counter() - began
            size += len(chunk)
            # A marker may straddle two chunks: count in the previous chunk's tail too.
            joined = tail + chunk
            rows += joined.count(marker) - tail.count(marker)
            tail = joined[-(len(marker) - 1):]
    seconds = time.perf_counter() - began
    return {"first_byte_s": round(first or seconds, 3), "seconds": round(seconds, 2),
            "bytes": size, "rows": rows - (marker == b"\r\n"),
            "rows_per_s": round((rows - (marker == b"\r\n")) / seconds),
            "statements_covered_per_s": round(statements / seconds)}


def measure(base: str, authorization: str, pid: int, filled: dict[str, Any]) -> dict[str, Any]:
    sampler = MemorySampler(pid)
    at_start = sampler.peak()
    sampler.start()
    learners = filled["learners"]
    n = filled["statements"]
    roster = [{"objectType": "Agent", "mbox": f"mailto:learner{i}@bench.example.com"}
              for i in range(0, min(learners, 4000))] + [
        {"objectType": "Agent", "mbox": f"mailto:new{i}@bench.example.com"}
        for i in range(1000)]
    report = "/api/v1/compliance/report"
    results: dict[str, Any] = {}
    with httpx.Client(base_url=base, headers={"Authorization": authorization},
                      timeout=httpx.Timeout(600.0)) as client:
        results["every_entry_json"] = stream(client, "GET", report, params={}, body=None,
                                             statements=n)
        results["every_entry_csv"] = stream(client, "GET", report, params={"format": "csv"},
                                            body=None, statements=n)
        results["roster_size"] = len(roster)
        results["one_course_roster"] = stream(
            client, "POST", report, params={"activity": COURSES[0]}, body={"roster": roster},
            statements=n // len(COURSES))
        results["one_course_last_12_months"] = stream(
            client, "GET", report, params={"activity": COURSES[1],
                                           "since": "2025-12-31T00:00:00Z"},
            body=None, statements=n // len(COURSES))
    sampler.running = False
    sampler.join()
    return {"reports": results, "server_memory": {
        "peak_rss_after_start_bytes": at_start, "peak_rss_after_reports_bytes": sampler.peak(),
        "max_sampled_rss_bytes": max(sampler.samples, default=None),
        "samples": len(sampler.samples)}}


def run(args: argparse.Namespace, work: Path, store: str | None) -> dict[str, Any]:
    from lrs.config import Settings

    data_dir = work / "data"
    settings = Settings(data_dir=data_dir, mongodb_database="bench") if store is None else \
        Settings(data_dir=data_dir, mongodb_database="bench", store=store)
    print(f"filling {args.statements:,} statements ({args.engine})", flush=True)
    filled = asyncio.run(fill(settings, args.statements))
    auditor = create_credential(data_dir, store, name="auditor", scopes="compliance/read")
    with lrs_serve(work, store, authorization=auditor) as lrs:
        print("streaming reports", flush=True)
        measured = measure(lrs.base_url, lrs.authorization, lrs.pid, filled)
    return {"fill": filled, **measured}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = ROOT / "bench" / ".work" / f"compliance-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        if args.engine == "mongodb":
            with secantus(work) as store:
                measured = run(args, work, store.url)
        else:
            measured = run(args, work, None)
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    document = {"benchmark": "compliance-report", "engine": args.engine,
                "engine_label": "MongoDB engine on SecantusDB (not mongod)"
                if args.engine == "mongodb" else "SQLite", "quick": args.quick,
                "machine": machine_info(), "when": datetime.now(UTC).isoformat(), **measured}
    name = f"{datetime.now(UTC):%Y-%m-%d}-compliance-{args.engine}" \
        f"{'-quick' if args.quick else ''}-{args.statements}.json"
    write_json(ROOT / "bench" / "results" / name, document)
    print(orjson.dumps(measured, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
