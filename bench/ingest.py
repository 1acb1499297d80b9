"""The benchmark (`make bench`): a real `lrs serve` per engine, loaded from another process.

    python -m bench.ingest [--quick] [--engine sqlite|mongodb] [--groups ingest,state,...]

Groups of scenarios, each on a fresh store: `ingest` (statement POSTs: one statement with 8
and 32 clients, batches of 10, 100 and 1,000, all kept, all tallied, 10% kept), `state`
(State PUT and GET), `query` (statement GETs at each --query-sizes stored statements) and
`aggregates` (popularity and time series at --hits tallied hits). Floors (parse, raw insert)
are measured in the same run. See bench/README.md for what is measured and how to read it.
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
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from bench import generator, scenarios, servers
from bench.floors import mongo_insert_floor, parse_floor, sqlite_insert_floor
from bench.generator import StatementGenerator
from bench.load import (
    Call,
    Load,
    LoadResult,
    Target,
    body_templates,
    run_python,
    run_python_calls,
    run_wrk,
    run_wrk_calls,
    settle,
    wrk_version,
)
from bench.profiles import CMI5_PROFILE, VIDEO_PROFILE, check_floor, video_pool
from bench.report import machine_info, table, write_docs, write_json
from bench.report import rate as report_rate
from bench.resources import Watch
from bench.servers import (
    BASE_PATH,
    RunningLrs,
    RunningStore,
    bench_python,
    create_credential,
    lrs_command,
    lrs_serve,
    secantus,
)
from statements.parsing import parse_statements
from statements.versions import XapiVersion

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "benchmarks.md"
ENGINES = {
    "sqlite": ("sqlite", "SQLite engine (WAL, synchronous=NORMAL)"),
    "mongodb": ("mongodb-secantus", "MongoDB engine on SecantusDB, not mongod"),
}
GROUPS = ("ingest", "state", "query", "aggregates", "profiles")
# `profiles` is asked for by name (--groups profiles): not part of a full run yet.
DEFAULT_GROUPS = GROUPS[:4]
PROFILE_MODES = ("off", "flag", "reject")
FULL = {"duration": 10.0, "warmup": 2.0, "max_requests": 50_000, "statements": 5000,
        "floor_seconds": 2.0, "query_sizes": "100000,1000000", "hits": 10_000_000,
        "documents": 2000}
QUICK = {"duration": 3.0, "warmup": 1.0, "max_requests": 5000, "statements": 2000,
         "floor_seconds": 0.5, "query_sizes": "10000", "hits": 100_000, "documents": 300}
# SecantusDB is a Python server, one to two orders of magnitude slower than SQLite here: the
# MongoDB engine's stores stop at these sizes, and its quick run is cut down further (it has
# no target; its figures say what works, not how fast a real MongoDB would be).
MONGODB_FULL_CAPS = {"query_sizes": 5_000, "hits": 50_000, "clients": 2}
MONGODB_QUICK = {"largest_batch": 100, "retention_batch": 10, "query_size": 2000,
                 "hits": 10_000, "documents": 100, "clients": 2}
COMPLIANCE_SHARE = 0.1  # the mix scenario: 10% kept, 90% tallied


@dataclass(frozen=True)
class LoadTool:
    """The load generator chosen for the run, and how to describe it."""

    name: str  # "wrk" or "python"
    description: str
    parallelism: int  # wrk threads or Python processes

    def run(self, target: Target, templates: list[bytes], load: Load, work: Path) -> LoadResult:
        """One run of statement POSTs against the target."""
        if self.name == "wrk":
            return run_wrk(target, templates, load, self.parallelism, work)
        return run_python(target, templates, load, self.parallelism)

    def run_calls(self, lrs: RunningLrs, calls: list[Call], load: Load, work: Path, *,
                  follow: bool = False) -> LoadResult:
        """One run rotating over `calls` (GETs, document PUTs)."""
        if self.name == "wrk":
            return run_wrk_calls(lrs.base_url, lrs.authorization, calls, load,
                                 self.parallelism, work, follow=follow)
        return run_python_calls(lrs.base_url, lrs.authorization, calls, load,
                                self.parallelism, follow=follow)


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with --quick's smaller defaults where no value was given."""
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="A smoke run: 3 s per scenario, small stores (under 5 minutes).")
    parser.add_argument("--engine", action="append", choices=sorted(ENGINES),
                        help="Engine to benchmark (repeatable; default: all).")
    parser.add_argument("--groups", default=",".join(DEFAULT_GROUPS),
                        help=f"Scenario groups to run, among {','.join(GROUPS)} (default "
                        f"{','.join(DEFAULT_GROUPS)}).")
    parser.add_argument("--batches", default="1,10,100,1000",
                        help="Statements per POST, one scenario each (default 1,10,100,1000).")
    parser.add_argument("--clients", type=int, default=8,
                        help="Concurrent connections (default 8).")
    parser.add_argument("--bulk-clients", type=int, default=2,
                        help="Connections of the batch-of-1,000 scenario (default 2: bulk "
                        "senders are few, and a 1,000-statement request is long).")
    parser.add_argument("--retention-batch", type=int, default=100,
                        help="Batch size of the all-tallied and 10%%-kept scenarios "
                        "(default 100).")
    parser.add_argument("--single-clients", default="8,32",
                        help="Connections of the one-statement POST scenarios (default 8,32).")
    parser.add_argument("--duration", type=float, help="Seconds per scenario (default 10).")
    parser.add_argument("--max-requests", type=int,
                        help="Most requests per scenario (default 50000).")
    parser.add_argument("--warmup", type=float,
                        help="Seconds of unrecorded load before each scenario (default 2).")
    parser.add_argument("--statements", type=int,
                        help="Distinct statements generated for the bodies (default 5000).")
    parser.add_argument("--floor-seconds", type=float,
                        help="Seconds per floor measurement (default 2).")
    parser.add_argument("--query-sizes",
                        help="Stored statements of the query scenarios (default "
                        "100000,1000000; quick 10000).")
    parser.add_argument("--hits", type=int,
                        help="Tallied hits of the aggregate scenarios (default 10000000).")
    parser.add_argument("--documents", type=int,
                        help="Distinct State documents (default 2000).")
    parser.add_argument("--seed", type=int, default=2026, help="Generator seed.")
    parser.add_argument("--forward-to", metavar="URL",
                        help="Add a forwarding rule sending every kept statement to this "
                             "webhook (docs/forwarding.md), to measure what forwarding costs.")
    parser.add_argument("--history-opt-ins", type=int, default=0, metavar="N",
                        help="Before serving, give N of the generator's learners a sealed "
                        "space and opt them in to My own history (bench/history.py); after "
                        "the ingest group, time the flush of the copies; suffix -historyN.")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="Load generator: wrk when installed (auto), or the Python one.")
    parser.add_argument("--load-parallelism", type=int, default=max(1, cores // 2),
                        help="wrk threads, or Python load processes (default: half the cores).")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="`lrs serve --workers` (default 1).")
    parser.add_argument("--retention", choices=("full", "tally"), default="full",
                        help="Default retention of the credential of the batch-size "
                        "scenarios (default full: every statement kept).")
    parser.add_argument("--recent", action="store_true",
                        help="Statement timestamps in the last half hour, not in 2026's first "
                        "90 days: their key period is open, so learners are hashed (and with "
                        "--dp bounded) as in production.")
    parser.add_argument("--dp", action="store_true",
                        help="Serve with differential privacy on (LRS_DP_ENABLED) and a budget "
                        "no query exhausts, so the run measures the cost of bounding and "
                        "releasing, not refusals; results get the suffix -dp.")
    parser.add_argument("--results", type=Path, default=HERE / "results",
                        help="Directory for the JSON results (default bench/results).")
    parser.add_argument("--docs", type=Path,
                        help="Write the Markdown results here (default docs/benchmarks.md, "
                        "for a full run of every engine and group; none otherwise).")
    parser.add_argument("--no-save", action="store_true",
                        help="Print only; write no JSON or Markdown.")
    parser.add_argument("--keep-work", action="store_true",
                        help="Keep the data directories and logs under bench/.work.")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.batch_sizes = _ints(args.batches)
    args.single = _ints(args.single_clients) if 1 in args.batch_sizes else []
    args.sizes = sorted(_ints(args.query_sizes))
    args.group_list = [g.strip() for g in args.groups.split(",") if g.strip()]
    if not set(args.group_list) <= set(GROUPS):
        parser.error(f"--groups: choose among {', '.join(GROUPS)}")
    if not args.batch_sizes or min(args.batch_sizes) < 1 or args.clients < 1:
        parser.error("batches and clients must be positive")
    if args.statements < max(args.batch_sizes):
        parser.error("--statements must be at least the largest batch")
    args.engines = args.engine or list(ENGINES)
    if args.docs is None and not args.quick and args.engine is None \
            and args.group_list == list(DEFAULT_GROUPS):
        args.docs = DOCS
    return args


def choose_load_tool(choice: str, parallelism: int) -> LoadTool:
    """wrk when asked for or when installed; the Python fallback otherwise."""
    version = wrk_version()
    if choice == "wrk" and version is None:
        raise SystemExit("--load wrk: wrk is not installed (Debian: apt-get install wrk)")
    if choice != "python" and version is not None:
        return LoadTool("wrk", f"{version.split(' [')[0]} with bench/ingest.lua and "
                               f"bench/requests.lua, {parallelism} thread(s)", parallelism)
    why = "as asked" if choice == "python" else "wrk is not installed"
    import httpx

    return LoadTool("python", f"Python fallback ({why}): {parallelism} process(es) of asyncio "
                              f"+ httpx {httpx.__version__}", parallelism)


def validated_pool(count: int, seed: int, share: float | None = None) -> list[dict[str, Any]]:
    """Generated statements, checked by the LRS's own validation first."""
    pool = StatementGenerator(seed, compliance_share=share).statements(count)
    parse_statements(orjson.dumps(pool), XapiVersion.V2)  # raises InvalidRequest if invalid
    return pool


def measure_floor(pool: list[dict[str, Any]], batch: int, seconds: float) -> dict[str, Any]:
    """The parse floor (kept under this name for callers of the earlier harness)."""
    return parse_floor(pool, batch, seconds)


@dataclass
class Run:
    """What every scenario of one engine needs."""

    engine: str
    args: argparse.Namespace
    tool: LoadTool
    document: dict[str, Any]

    def record(self, figures: dict[str, Any]) -> None:
        """Add a scenario's figures and say how it went."""
        self.document["scenarios"].append(figures)
        rate, unit = report_rate(figures)
        p99 = figures["latency_ms"].get("p99")
        rss = figures["resources"]["server"]["peak_rss_bytes"] / 2**20
        print(f"  {self.engine}: {figures['name']}: {rate:,.0f} {unit}, p99 "
              f"{'-' if p99 is None else f'{p99:.1f}'} ms, server RSS {rss:.0f} MB, "
              f"{figures['error_count']} errors", file=sys.stderr)

    def measure(self, lrs: RunningLrs, store: RunningStore | None,
                run: Callable[[Load], LoadResult]) -> tuple[LoadResult, LoadResult | None,
                                                             dict[str, Any]]:
        """Warm up, then the measured run under watch: (result, warm-up, resources)."""
        args = self.args
        warmup = run(Load(args.clients, args.warmup, max(1, args.max_requests // 5))) \
            if args.warmup > 0 else None
        pids = {"server": lrs.pid, **({"store": store.pid} if store else {})}
        with Watch(pids) as watch:
            result = run(Load(args.clients, args.duration, args.max_requests))
        return result, warmup, watch.figures()


def _figures(scenario_id: str, group: str, name: str, clients: int, result: LoadResult,
             warmup: LoadResult | None, resources: dict[str, Any], **extra: Any
             ) -> dict[str, Any]:
    duration = result.duration_s or float("nan")
    return {"id": scenario_id, "group": group, "name": name, "clients": clients,
            **result.as_json(), "requests_per_s": result.requests / duration,
            "statements_per_s": None, "resources": resources,
            "warmup": None if warmup is None else {
                "requests": warmup.requests, "duration_s": warmup.duration_s,
                "errors": {**warmup.errors, **warmup.socket_errors},
                "error_count": warmup.error_count},
            **extra}


@contextmanager
def _engine_store(engine: str, work: Path) -> Iterator[RunningStore | None]:
    if engine == "mongodb":
        with secantus(work) as store:
            yield store
    else:
        yield None


def _work(engine: str, group: str) -> Path:
    root = HERE / ".work"
    root.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{engine}-{group}-", dir=root))


def _url(store: RunningStore | None) -> str | None:
    return store.url if store else None


# -- ingest and state -------------------------------------------------------------------------


def run_ingest(run: Run, work: Path, pool: list[dict[str, Any]], want_state: bool) -> None:
    """Statement POSTs by batch size, then by retention, then State documents."""
    args, engine = run.args, run.engine
    generator = StatementGenerator(args.seed)
    pools = {"kept": pool}
    with _engine_store(engine, work) as store:
        data = work / "data"
        floors = run.document["floor"]
        for batch in args.batch_sizes:
            floors["insert"].append(
                mongo_insert_floor(pool, batch, args.floor_seconds, store.url) if store
                else sqlite_insert_floor(pool, batch, args.floor_seconds, work))
        if "ingest" in args.group_list:
            catalogue = work / "catalogue.json"
            catalogue.write_bytes(orjson.dumps(generator.compliance_catalogue()))
            lrs_command(data, _url(store), "catalogue", "load", str(catalogue))
            tally_auth = create_credential(data, _url(store), "tally", "bench-tally")
            pools["tallied"] = validated_pool(args.statements, args.seed + 1, 0.0)
            pools["mix"] = validated_pool(args.statements, args.seed + 2, COMPLIANCE_SHARE)
            if args.forward_to:
                lrs_command(data, _url(store), "forwarding", "add-destination", "--name",
                            "bench", "--kind", "webhook", "--url", args.forward_to,
                            "--secret", "bench-secret")
                lrs_command(data, _url(store), "forwarding", "add-rule", "--destination",
                            "bench")
        if args.history_opt_ins:
            run.document["history"] = _history(work, store, "opt-in", "--count",
                                               str(args.history_opt_ins), "--seed",
                                               str(args.seed))
        with lrs_serve(work, _url(store), args.server_workers, args.retention) as lrs:
            if "ingest" in args.group_list:
                plan = [(1, clients, "kept", lrs.authorization) for clients in args.single]
                plan += [(b, args.bulk_clients if b >= 1000 else args.clients, "kept",
                          lrs.authorization) for b in args.batch_sizes if b != 1]
                plan += [(args.retention_batch, args.clients, "tallied", tally_auth),
                         (args.retention_batch, args.clients, "mix", tally_auth)]
                for number, (batch, clients, kind, authorization) in enumerate(plan):
                    _post_scenario(run, lrs, store, work, pools[kind], batch, clients, kind,
                                   authorization, number)
            if want_state:
                run_state(run, lrs, store, work, generator)
        if args.history_opt_ins:
            run.document["history"]["flush"] = _history(work, store, "flush")


def _history(work: Path, store: RunningStore | None, *args: str) -> dict[str, Any]:
    """`python -m bench.history ARGS` on the group's store (server stopped); its figures."""
    out = work / "history.json"
    seconds = _timed(f"history: {args[0]}", partial(
        bench_python, "bench.history", *args, "--data-dir", str(work / "data"),
        *(("--store", store.url) if store else ()), "--out", str(out)))
    figures: dict[str, Any] = orjson.loads(out.read_bytes())
    print(f"  history {args[0]}: {orjson.dumps(figures).decode()}", file=sys.stderr)
    return {**figures, "process_seconds": seconds}


def _post_scenario(run: Run, lrs: RunningLrs, store: RunningStore | None, work: Path,
                   pool: list[dict[str, Any]], batch: int, clients: int, kind: str,
                   authorization: str, number: int) -> None:
    args = run.args
    target = Target(f"{lrs.base_url}{BASE_PATH}/statements", authorization)
    templates = body_templates(pool, batch)
    single = body_templates(pool, 1)
    load_args = argparse.Namespace(**{**vars(args), "clients": clients})
    sub = Run(run.engine, load_args, run.tool, run.document)
    # Once the previous run's leftovers are answered: the decision counters then hold them.
    settled = {"before": settle(target, single[number % len(single)])}
    before = _decisions(lrs)
    result, warmup, resources = sub.measure(
        lrs, store, lambda load: run.tool.run(target, templates, load, work))
    settled["after"] = settle(target, single[-1 - number % len(single)])
    after = _decisions(lrs)
    retention = {"kept": args.retention if kind == "kept" else "full",
                 "tallied": "tally", "mix": "tally"}[kind]
    label = {"kept": "kept" if retention == "full" else "credential retention tally",
             "tallied": "all tallied", "mix": "10% kept, 90% tallied"}[kind]
    name = (f"POST 1 statement, {clients} clients ({label})" if batch == 1
            else f"POST batch of {batch} ({label})")
    scenario_id = f"post-1-c{clients}" if batch == 1 else f"post-{batch}"
    if kind != "kept":
        scenario_id += f"-{kind}"
    duration = result.duration_s or float("nan")
    figures = _figures(
        scenario_id, "ingest", name, clients, result, warmup, resources, batch=batch,
        retention=kind, body_bytes_mean=statistics.fmean(len(t) for t in templates),
        statements=result.ok * batch, settle=settled,
        # What the retention chain decided for this scenario's statements (warm-up and the
        # settling POST after the run included), from the tally's own decision counters.
        decisions={d: after.get(d, 0) - before.get(d, 0) for d in sorted({*before, *after})})
    figures["statements_per_s"] = result.ok * batch / duration
    figures["ratios"] = _ratios(run.document["floor"], batch, figures["statements_per_s"])
    run.record(figures)


def _decisions(lrs: RunningLrs) -> dict[str, int]:
    """Statements kept / tallied / dropped so far (GET /api/v1/aggregates/summary; figures
    under the suppression threshold count as 0)."""
    request = urllib.request.Request(f"{lrs.base_url}/api/v1/aggregates/summary",
                                     headers={"Authorization": lrs.authorization})
    with urllib.request.urlopen(request, timeout=300) as response:
        counts = orjson.loads(response.read())["statements"]
    return {d: n if isinstance(n, int) else 0 for d, n in counts.items()}


def _ratios(floors: dict[str, list[dict[str, Any]]], batch: int,
            rate: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for kind, rows in floors.items():
        row = next((r for r in rows if r["batch"] == batch), None)
        out[kind] = rate / row["statements_per_s"] if row and row["statements_per_s"] else None
    return out


def _put_all(lrs: RunningLrs, calls: list[Call]) -> None:
    """PUT every document once (each is new), so that the scenarios find them all."""
    for call in calls:
        request = urllib.request.Request(lrs.base_url + call.path, data=call.body, method="PUT",
                                         headers={"Authorization": lrs.authorization,
                                                  "Content-Type": "application/json",
                                                  "X-Experience-API-Version": "2.0.0"})
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()


def run_state(run: Run, lrs: RunningLrs, store: RunningStore | None, work: Path,
              generator: StatementGenerator) -> None:
    """State PUT, then State GET of the same documents."""
    documents = generator.state_documents(run.args.documents)
    sizes = [len(d["body"]) for d in documents]
    _put_all(lrs, scenarios.state_calls(documents, "PUT"))  # create each one, not measured
    for method, calls in (("PUT", scenarios.state_calls(documents, "PUT", overwrite=True)),
                          ("GET", scenarios.state_calls(documents, "GET"))):
        result, warmup, resources = run.measure(
            lrs, store, partial(run.tool.run_calls, lrs, calls, work=work))
        title = "State PUT, overwriting (If-Match: *)" if method == "PUT" else "State GET"
        run.record(_figures(
            f"state-{method.lower()}", "state", f"{title}, {len(documents):,} documents",
            run.args.clients, result, warmup, resources, documents=len(documents),
            document_bytes_mean=statistics.fmean(sizes)))


# -- profiles ---------------------------------------------------------------------------------


def run_profiles(run: Run, work: Path) -> None:
    """Batches of video-profile statements (each follows its template) POSTed by a credential
    whose profile check is off, flag and reject, with the video and cmi5 profiles loaded;
    and the check's own cost per statement, in this process."""
    args = run.args
    pool = video_pool(args.statements, args.seed + 3)
    parse_statements(orjson.dumps(pool), XapiVersion.V2)  # the LRS's validation first
    floor = check_floor(pool, args.floor_seconds)
    env = {"LRS_PROFILES": orjson.dumps([str(VIDEO_PROFILE), str(CMI5_PROFILE)]).decode()}
    batch = args.retention_batch
    with _engine_store(run.engine, work) as store:
        data = work / "data"
        auths = {mode: _profiles_credential(data, _url(store), mode) for mode in PROFILE_MODES}
        with lrs_serve(work, _url(store), args.server_workers, "full", auths["off"],
                       env=env) as lrs:
            target = Target(f"{lrs.base_url}{BASE_PATH}/statements", "")
            templates = body_templates(pool, batch)
            for mode, authorization in auths.items():
                result, warmup, resources = run.measure(lrs, store, partial(
                    _post_load, run.tool, Target(target.url, authorization), templates,
                    work=work))
                figures = _figures(
                    f"post-{batch}-profiles-{mode}", "profiles",
                    f"POST batch of {batch} video-profile statements (kept), profile check "
                    f"{mode}", args.clients, result, warmup, resources, batch=batch,
                    profiles_mode=mode, statements=result.ok * batch,
                    body_bytes_mean=statistics.fmean(len(t) for t in templates),
                    check_floor=floor)
                figures["statements_per_s"] = result.ok * batch / (result.duration_s
                                                                   or float("nan"))
                run.record(figures)


def _post_load(tool: LoadTool, target: Target, templates: list[bytes], load: Load, *,
               work: Path) -> LoadResult:
    return tool.run(target, templates, load, work)


def _profiles_credential(data: Path, store: str | None, mode: str) -> str:
    """A credential keeping in full what it sends, with its profile check in `mode`."""
    return create_credential(data, store, "full", f"bench-profiles-{mode}",
                             extra=("--profiles", mode))


# -- queries and aggregates -------------------------------------------------------------------


def _timed(what: str, action: Callable[[], None]) -> float:
    print(f"  {what}", file=sys.stderr)
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def run_queries(run: Run, work: Path, sizes: list[int]) -> None:
    """Statement GETs on a store filled (through the store API, server stopped) to each size."""
    args = run.args
    sample = StatementGenerator(args.seed).statements(min(5000, sizes[0]))
    with _engine_store(run.engine, work) as store:
        data = work / "data"
        authorization = create_credential(data, _url(store))
        filled = 0
        for size in sizes:
            seconds = _timed(f"filling the store to {size:,} statements", partial(
                bench_python, "bench.fill", "statements", "--data-dir", str(data), *(
                    ("--store", store.url) if store else ()), "--start", str(filled),
                "--count", str(size - filled), "--seed", str(args.seed)))
            run.document["fills"].append({"what": "statements", "from": filled, "to": size,
                                          "seconds": seconds})
            filled = size
            with lrs_serve(work, _url(store), args.server_workers,
                           authorization=authorization) as lrs:
                for kind in scenarios.QUERY_KINDS:
                    calls = scenarios.statement_queries(kind, sample, size, seed=args.seed)
                    result, warmup, resources = run.measure(
                        lrs, store, partial(run.tool.run_calls, lrs, calls, work=work,
                                            follow=kind == "since"))
                    title = "since, following more" if kind == "since" else kind
                    run.record(_figures(
                        f"get-{kind}", "query", f"GET by {title} at {size:,}", args.clients,
                        result, warmup, resources, stored=size, page=scenarios.PAGE))


def run_aggregates(run: Run, work: Path, hits: int) -> None:
    """Popularity and time series on counters filled with `hits` hits (server stopped)."""
    args = run.args
    generator = StatementGenerator(args.seed)
    with _engine_store(run.engine, work) as store:
        data = work / "data"
        authorization = create_credential(data, _url(store))
        seconds = _timed(f"filling the counters with {hits:,} hits", lambda: bench_python(
            "bench.fill", "hits", "--data-dir", str(data),
            *(("--store", store.url) if store else ()), "--count", str(hits),
            "--seed", str(args.seed)))
        run.document["fills"].append({"what": "hits", "to": hits, "seconds": seconds})
        with lrs_serve(work, _url(store), args.server_workers,
                       authorization=authorization) as lrs:
            for kind, title in (("popular", "popularity"), ("series", "time series")):
                calls = scenarios.aggregate_queries(kind, generator, seed=args.seed)
                result, warmup, resources = run.measure(
                    lrs, store, partial(run.tool.run_calls, lrs, calls, work=work))
                run.record(_figures(f"aggregates-{kind}", "aggregates",
                                    f"{title.capitalize()} at {hits:,} hits", args.clients,
                                    result, warmup, resources, hits=hits))


# -- the run ----------------------------------------------------------------------------------


def _engine_args(engine: str, args: argparse.Namespace) -> argparse.Namespace:
    """The options as they apply to this engine: smaller for the MongoDB engine."""
    if engine != "mongodb":
        return args
    if args.quick:
        caps = MONGODB_QUICK
        changes = {
            "batch_sizes": [b for b in args.batch_sizes if b <= caps["largest_batch"]]
            or args.batch_sizes[:1],
            "single": args.single[:1],
            "retention_batch": min(args.retention_batch, caps["retention_batch"]),
            "sizes": [min(args.sizes[0], caps["query_size"])],
            "hits": min(args.hits, caps["hits"]),
            "documents": min(args.documents, caps["documents"]),
            "clients": min(args.clients, caps["clients"]),
        }
    else:
        changes = {
            "sizes": [s for s in args.sizes if s < MONGODB_FULL_CAPS["query_sizes"]]
            + [MONGODB_FULL_CAPS["query_sizes"]] if args.sizes[-1] >= MONGODB_FULL_CAPS[
                "query_sizes"] else args.sizes,
            "hits": min(args.hits, MONGODB_FULL_CAPS["hits"]),
            "clients": min(args.clients, MONGODB_FULL_CAPS["clients"]),
        }
    return argparse.Namespace(**{**vars(args), **changes})


def run_engine(engine: str, args: argparse.Namespace, pool: list[dict[str, Any]],
               tool: LoadTool, document: dict[str, Any]) -> None:
    """Every group of scenarios on one engine; fills in `document`."""
    args = _engine_args(engine, args)
    run = Run(engine, args, tool, document)
    sizes, hits = args.sizes, args.hits
    document["config"].update(clients=args.clients, query_sizes=sizes, hits=hits,
                              batches=args.batch_sizes,
                              single_clients=args.single, documents=args.documents,
                              retention_batch=args.retention_batch)
    steps: list[tuple[str, Callable[[Path], None]]] = []
    if "ingest" in args.group_list or "state" in args.group_list:
        steps.append(("ingest", lambda work: run_ingest(run, work, pool,
                                                        "state" in args.group_list)))
    if "query" in args.group_list:
        steps.append(("query", lambda work: run_queries(run, work, sizes)))
    if "aggregates" in args.group_list:
        steps.append(("aggregates", lambda work: run_aggregates(run, work, hits)))
    if "profiles" in args.group_list:
        steps.append(("profiles", lambda work: run_profiles(run, work)))
    for group, step in steps:
        work = _work(engine, group)
        try:
            step(work)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            document["error"] = f"{group}: {exc}"
            return
        finally:
            if not args.keep_work:
                shutil.rmtree(work, ignore_errors=True)


def _failed(document: dict[str, Any]) -> bool:
    return bool(document["error"]) or any(
        s["error_count"] or s["socket_errors"] or (s["warmup"] or {}).get("errors")
        or any(one["status"] != 200 for one in s.get("settle", {}).values())
        for s in document["scenarios"])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 1 when an engine failed or any request was not answered 2xx."""
    args = parse_args(argv)
    generator.RECENT = args.recent
    if args.dp:
        servers.SERVER_ENV.update(LRS_DP_ENABLED="true", LRS_DP_BUDGET_PER_DAY="1e12")
    tool = choose_load_tool(args.load, args.load_parallelism)
    print(f"load generator: {tool.description}", file=sys.stderr)
    pool = validated_pool(args.statements, args.seed)
    sizes = sorted(len(orjson.dumps(s)) for s in pool)
    print(f"{len(pool)} statements, {sizes[0]} to {sizes[-1]} bytes; measuring the parse floor",
          file=sys.stderr)
    parse = [parse_floor(pool, batch, args.floor_seconds) for batch in args.batch_sizes]
    machine = machine_info()
    failed = False
    documents = []
    for engine in args.engines:
        file_label, label = ENGINES[engine]
        started = datetime.now(UTC)
        document: dict[str, Any] = {
            "schema": 2, "engine": file_label, "engine_label": label,
            "mode": "quick" if args.quick else "full", "started": started.isoformat(),
            "server_env": dict(servers.SERVER_ENV),
            "load_tool": {"name": tool.name, "description": tool.description,
                          "parallelism": tool.parallelism},
            "config": {"clients": args.clients, "single_clients": args.single,
                       "bulk_clients": args.bulk_clients,
                       "duration_s": args.duration, "max_requests": args.max_requests,
                       "warmup_s": args.warmup, "batches": args.batch_sizes,
                       "groups": args.group_list, "seed": args.seed,
                       "server_workers": args.server_workers, "server_log_level": "warning",
                       "credential_retention": args.retention,
                       "history_opt_ins": args.history_opt_ins,
                       "compliance_share_of_mix": COMPLIANCE_SHARE,
                       "documents": args.documents, "page_size": scenarios.PAGE,
                       "xapi_version": XapiVersion.V2.value},
            "statements": {"count": len(pool), "bytes_min": sizes[0],
                           "bytes_median": statistics.median(sizes),
                           "bytes_mean": statistics.fmean(sizes), "bytes_max": sizes[-1]},
            "machine": machine, "floor": {"parse": parse, "insert": []}, "fills": [],
            "scenarios": [], "error": None,
        }
        print(f"{label}: starting", file=sys.stderr)
        run_engine(engine, args, pool, tool, document)
        document["finished"] = datetime.now(UTC).isoformat()
        document["machine"]["load_average_after"] = list(os.getloadavg())
        print(table(document) + "\n")
        failed |= _failed(document)
        documents.append(document)
        if not args.no_save:
            suffix = "".join(part for on, part in (
                (args.retention == "tally", "-tally"), (args.recent, "-recent"),
                (args.history_opt_ins > 0, f"-history{args.history_opt_ins}"),
                (args.dp, "-dp"), (args.quick, "-quick")) if on)
            path = args.results / f"{started:%Y-%m-%d}-{file_label}{suffix}.json"
            write_json(path, document)
            print(f"results: {path}", file=sys.stderr)
    if args.docs and not args.no_save:
        write_docs(args.docs, documents)
        print(f"table: {args.docs}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
