"""The ingest benchmark: POST statement batches at a real `lrs serve`, per engine (`make bench`).

    python -m bench.ingest [--quick] [--engine sqlite|mongodb] [--duration S] [--clients N]

See bench/README.md for what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.generator import StatementGenerator
from bench.load import (
    Load,
    LoadResult,
    Target,
    body_templates,
    fill,
    run_python,
    run_wrk,
    settle,
    wrk_version,
)
from bench.report import machine_info, table, write_json
from bench.servers import BASE_PATH, lrs_serve, secantus
from statements.parsing import parse_statements
from statements.versions import XapiVersion

HERE = Path(__file__).resolve().parent
ENGINES = {
    "sqlite": ("sqlite", "SQLite engine (WAL, synchronous=NORMAL)"),
    "mongodb": ("mongodb-secantus", "MongoDB engine on SecantusDB, not mongod"),
}
FULL = {"duration": 10.0, "warmup": 2.0, "max_requests": 50_000, "statements": 5000,
        "floor_seconds": 2.0}
QUICK = {"duration": 3.0, "warmup": 1.0, "max_requests": 5000, "statements": 1000,
         "floor_seconds": 0.5}


@dataclass(frozen=True)
class LoadTool:
    """The load generator chosen for the run, and how to describe it."""

    name: str  # "wrk" or "python"
    description: str
    parallelism: int  # wrk threads or Python processes

    def run(self, target: Target, templates: list[bytes], load: Load, work: Path) -> LoadResult:
        """One load run against the target."""
        if self.name == "wrk":
            return run_wrk(target, templates, load, self.parallelism, work)
        return run_python(target, templates, load, self.parallelism)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with --quick's smaller defaults where no value was given."""
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="A smoke run: 3 s per scenario, smaller bounds.")
    parser.add_argument("--engine", action="append", choices=sorted(ENGINES),
                        help="Engine to benchmark (repeatable; default: all).")
    parser.add_argument("--batches", default="1,10,100",
                        help="Statements per request, one scenario each (default 1,10,100).")
    parser.add_argument("--clients", type=int, default=8,
                        help="Concurrent connections (default 8).")
    parser.add_argument("--duration", type=float, help="Seconds per scenario (default 10).")
    parser.add_argument("--max-requests", type=int,
                        help="Most requests per scenario (default 50000).")
    parser.add_argument("--warmup", type=float,
                        help="Seconds of unrecorded load before each scenario (default 2).")
    parser.add_argument("--statements", type=int,
                        help="Distinct statements generated for the bodies (default 5000).")
    parser.add_argument("--floor-seconds", type=float,
                        help="Seconds per in-process parse measurement (default 2).")
    parser.add_argument("--seed", type=int, default=2026, help="Generator seed.")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="Load generator: wrk when installed (auto), or the Python one.")
    parser.add_argument("--load-parallelism", type=int, default=max(1, cores // 2),
                        help="wrk threads, or Python load processes (default: half the cores).")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="`lrs serve --workers` (default 1).")
    parser.add_argument("--retention", choices=("full", "tally"), default="full",
                        help="The bench credential's default retention (default full: every "
                        "statement kept, the compliance path).")
    parser.add_argument("--results", type=Path, default=HERE / "results",
                        help="Directory for the JSON results (default bench/results).")
    parser.add_argument("--no-save", action="store_true", help="Print only; write no JSON.")
    parser.add_argument("--keep-work", action="store_true",
                        help="Keep the data directories and logs under bench/.work.")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.batch_sizes = [int(b) for b in args.batches.split(",") if b.strip()]
    if not args.batch_sizes or min(args.batch_sizes) < 1 or args.clients < 1:
        parser.error("batches and clients must be positive")
    if args.statements < max(args.batch_sizes):
        parser.error("--statements must be at least the largest batch")
    args.engines = args.engine or list(ENGINES)
    return args


def choose_load_tool(choice: str, parallelism: int) -> LoadTool:
    """wrk when asked for or when installed; the Python fallback otherwise."""
    version = wrk_version()
    if choice == "wrk" and version is None:
        raise SystemExit("--load wrk: wrk is not installed (Debian: apt-get install wrk)")
    if choice != "python" and version is not None:
        return LoadTool("wrk", f"{version.split(' [')[0]} with bench/ingest.lua, "
                               f"{parallelism} thread(s)", parallelism)
    why = "as asked" if choice == "python" else "wrk is not installed"
    import httpx

    return LoadTool("python", f"Python fallback ({why}): {parallelism} process(es) of asyncio "
                              f"+ httpx {httpx.__version__}", parallelism)


def validated_pool(count: int, seed: int) -> list[dict[str, Any]]:
    """The generated statements, checked by the LRS's own validation first."""
    pool = StatementGenerator(seed).statements(count)
    parse_statements(orjson.dumps(pool), XapiVersion.V2)  # raises InvalidRequest if invalid
    return pool


def measure_floor(pool: list[dict[str, Any]], batch: int, seconds: float) -> dict[str, Any]:
    """In-process parse + validate rate of the same bodies the load sends: the ceiling an
    ingest request can never beat, with no HTTP, storage or enrichment."""
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


def scenario(batch: int, clients: int, result: LoadResult, templates: list[bytes],
             warmup: LoadResult | None, settled: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One scenario's figures as recorded in the JSON."""
    duration = result.duration_s or float("nan")
    return {
        "name": f"POST batch of {batch}", "batch": batch, "clients": clients,
        "body_bytes_mean": statistics.fmean(len(t) for t in templates),
        **result.as_json(),
        "statements": result.ok * batch,
        "requests_per_s": result.requests / duration,
        "statements_per_s": result.ok * batch / duration,
        # A single POST just before and just after the run: how long it waited for the
        # server to finish what was left in flight (long waits mean a backlog or a stall).
        "settle": settled,
        "warmup": None if warmup is None else {
            "requests": warmup.requests, "duration_s": warmup.duration_s,
            "errors": {**warmup.errors, **warmup.socket_errors},
            "error_count": warmup.error_count},
    }


def run_engine(engine: str, args: argparse.Namespace, pool: list[dict[str, Any]],
               tool: LoadTool, document: dict[str, Any]) -> None:
    """Start the engine and `lrs serve`, run every scenario, fill in `document`."""
    work_root = HERE / ".work"
    work_root.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{engine}-", dir=work_root))
    try:
        with ExitStack() as stack:
            store = stack.enter_context(secantus(work)) if engine == "mongodb" else None
            lrs = stack.enter_context(lrs_serve(work, store, args.server_workers,
                                                args.retention))
            target = Target(f"{lrs.base_url}{BASE_PATH}/statements", lrs.authorization)
            single = body_templates(pool, 1)
            for number, batch in enumerate(args.batch_sizes):
                templates = body_templates(pool, batch)
                warmup = None
                if args.warmup > 0:
                    warmup = tool.run(target, templates, Load(
                        args.clients, args.warmup, max(1, args.max_requests // 5)), work)
                settled = {"before": settle(target, single[number % len(single)])}
                result = tool.run(target, templates,
                                  Load(args.clients, args.duration, args.max_requests), work)
                settled["after"] = settle(target, single[-1 - number % len(single)])
                figures = scenario(batch, args.clients, result, templates, warmup, settled)
                document["scenarios"].append(figures)
                print(f"  {engine}: batch {batch:>3}: {figures['statements_per_s']:,.0f} "
                      f"statements/s, {figures['error_count']} errors", file=sys.stderr)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        document["error"] = str(exc)
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 1 when an engine failed or any request was not answered 200."""
    args = parse_args(argv)
    tool = choose_load_tool(args.load, args.load_parallelism)
    print(f"load generator: {tool.description}", file=sys.stderr)
    pool = validated_pool(args.statements, args.seed)
    sizes = sorted(len(orjson.dumps(s)) for s in pool)
    print(f"{len(pool)} statements, {sizes[0]} to {sizes[-1]} bytes; measuring the parse floor",
          file=sys.stderr)
    floor = [measure_floor(pool, batch, args.floor_seconds) for batch in args.batch_sizes]
    machine = machine_info()
    failed = False
    for engine in args.engines:
        file_label, label = ENGINES[engine]
        started = datetime.now(UTC)
        document: dict[str, Any] = {
            "schema": 1, "engine": file_label, "engine_label": label,
            "mode": "quick" if args.quick else "full", "started": started.isoformat(),
            "load_tool": {"name": tool.name, "description": tool.description,
                          "parallelism": tool.parallelism},
            "config": {"clients": args.clients, "duration_s": args.duration,
                       "max_requests": args.max_requests, "warmup_s": args.warmup,
                       "batches": args.batch_sizes, "seed": args.seed,
                       "server_workers": args.server_workers, "server_log_level": "warning",
                       "credential_retention": args.retention,
                       "xapi_version": XapiVersion.V2.value},
            "statements": {"count": len(pool), "bytes_min": sizes[0],
                           "bytes_median": statistics.median(sizes),
                           "bytes_mean": statistics.fmean(sizes), "bytes_max": sizes[-1]},
            "machine": machine, "floor": floor, "scenarios": [], "error": None,
        }
        print(f"{label}: starting", file=sys.stderr)
        run_engine(engine, args, pool, tool, document)
        document["finished"] = datetime.now(UTC).isoformat()
        print(table(document) + "\n")
        failed |= bool(document["error"]) or any(
            s["error_count"] or s["socket_errors"] or (s["warmup"] or {}).get("errors")
            or any(one["status"] != 200 for one in s["settle"].values())
            for s in document["scenarios"])
        if not args.no_save:
            suffix = ("-tally" if args.retention == "tally" else "") + (
                "-quick" if args.quick else "")
            path = args.results / f"{started:%Y-%m-%d}-{file_label}{suffix}.json"
            write_json(path, document)
            print(f"results: {path}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
