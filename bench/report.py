"""What a benchmark run records: the machine it ran on, a table for people, JSON for files."""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

LIBRARIES = ("tally-lrs", "starlette", "uvicorn", "uvloop", "httptools", "pydantic",
             "pydantic-core", "pydantic-settings", "orjson", "pymongo", "SecantusDB", "httpx",
             "psutil")
ROOT = Path(__file__).resolve().parent.parent


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU, OS, Python and the versions of the libraries that matter."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "memory_bytes": _memory_bytes(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "libraries": versions,
        # Other work on the machine skews every figure: note how busy it was.
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git": _git(),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _git() -> dict[str, Any] | None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return None


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a results document, pretty-printed, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def _n(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _r(value: float | None) -> str:
    """A rate: whole numbers, with one decimal under 10 (0.5 requests/s is not 0)."""
    return _n(value, 1 if value is not None and value < 10 else 0)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f}"


def rate(scenario: dict[str, Any]) -> tuple[float, str]:
    """A scenario's throughput and its unit: statements/s for POSTs, requests/s otherwise."""
    if scenario.get("statements_per_s") is not None:
        return scenario["statements_per_s"], "statements/s"
    return scenario["requests_per_s"], "requests/s"


def _server(scenario: dict[str, Any]) -> dict[str, Any]:
    return dict(scenario.get("resources", {}).get("server") or {})


def table(document: dict[str, Any]) -> str:
    """The results of one engine as a text table."""
    config = document["config"]
    lines = [f"== {document['engine_label']} ({document['mode']} run) ==",
             f"load: {document['load_tool']['description']}; "
             f"{config['clients']} clients unless said; bounds {config['duration_s']:g} s / "
             f"{config['max_requests']:,} requests per scenario",
             f"{'scenario':<52}{'throughput':>12} {'unit':<13}{'p50 ms':>8}{'p95 ms':>8}"
             f"{'p99 ms':>8}{'CPU s':>7}{'RSS MB':>7}{'errors':>7}{'requests':>9}"]
    floors = document["floor"]
    for kind, rows in (floors.items() if isinstance(floors, dict) else [("parse", floors)]):
        for floor in rows:
            lines.append(f"{kind + ' floor, batch ' + str(floor['batch']):<52}"
                         f"{_n(floor['statements_per_s']):>12} {'statements/s':<13}")
    for s in document["scenarios"]:
        latency = s["latency_ms"]
        value, unit = rate(s)
        server = _server(s)
        lines.append(f"{s['name'][:51]:<52}{_r(value):>12} {unit:<13}"
                     f"{_n(latency.get('p50'), 1):>8}{_n(latency.get('p95'), 1):>8}"
                     f"{_n(latency.get('p99'), 1):>8}{_n(server.get('cpu_s'), 1):>7}"
                     f"{_mb(server.get('peak_rss_bytes')):>7}{s['error_count']:>7,}"
                     f"{s['requests']:>9,}")
        decisions = s.get("decisions") or {}
        if decisions.get("tally"):
            kept = decisions.get("full", 0) / (decisions.get("full", 0) + decisions["tally"])
            lines.append(f"    retention: {decisions.get('full', 0):,} kept, "
                         f"{decisions['tally']:,} tallied ({kept:.1%} kept)")
        for when, one in s.get("settle", {}).items():
            if one["status"] != 200 or one["seconds"] > 5:
                lines.append(f"    a single POST {when} the run: status {one['status'] or 'none'}"
                             f" after {one['seconds']:.1f} s")
        if not s["requests"]:
            lines.append("    no response within the scenario's time: each request takes longer; "
                         "raise --duration")
        for title, counts in (("errors", s["errors"]), ("socket errors", s["socket_errors"]),
                              ("warm-up errors", (s["warmup"] or {}).get("errors"))):
            if counts:
                detail = ", ".join(f"{kind}: {count:,}" for kind, count in counts.items())
                lines.append(f"    {title}: {detail}")
    if document.get("error"):
        lines.append(f"FAILED: {document['error']}")
    return "\n".join(lines)


# -- the targets of issue 6 (SQLite engine) ------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One row of the issue's target table, and how to judge it from a results document."""

    scenario: str
    target: str
    judge: Callable[[dict[str, Any]], tuple[str, bool | None]]


def _find(document: dict[str, Any], scenario_id: str) -> list[dict[str, Any]]:
    return [s for s in document["scenarios"] if s["id"] == scenario_id]


def _at_least(scenario_id: str, floor: float, p99_under: float | None = None
              ) -> Callable[[dict[str, Any]], tuple[str, bool | None]]:
    def judge(document: dict[str, Any]) -> tuple[str, bool | None]:
        found = _find(document, scenario_id)
        if not found:
            return "not measured", None
        s = found[0]
        value, unit = rate(s)
        text = f"{value:,.0f} {unit}"
        met = value >= floor and not s["error_count"]
        if p99_under is not None:
            p99 = s["latency_ms"].get("p99")
            text += f", p99 {_n(p99, 1)} ms"
            met = met and p99 is not None and p99 < p99_under
        return text, met

    return judge


def _p99_under(ids: tuple[str, ...], size_key: str, size: int, limit_ms: float
               ) -> Callable[[dict[str, Any]], tuple[str, bool | None]]:
    def judge(document: dict[str, Any]) -> tuple[str, bool | None]:
        found = [s for i in ids for s in _find(document, i)]
        if not found:
            return "not measured", None
        largest = max(s.get(size_key, 0) for s in found)
        at = [s for s in found if s.get(size_key) == largest]
        p99s = [s["latency_ms"].get("p99") for s in at]
        worst = max((p for p in p99s if p is not None), default=None)
        text = "p99 " + " / ".join(_n(p, 1) for p in p99s) + " ms"
        if largest != size:
            return f"{text} at {largest:,} (not {size:,})", None
        return text, worst is not None and worst < limit_ms and not any(
            s["error_count"] for s in at)

    return judge


def _peak_rss(document: dict[str, Any]) -> tuple[str, bool | None]:
    peaks = [(int(b), s["name"]) for s in document["scenarios"]
             if (b := _server(s).get("peak_rss_bytes")) is not None]
    if not peaks:
        return "not measured", None
    peak, name = max(peaks)
    return f"{_mb(peak)} MB ({name})", peak < 300 * 2**20


TARGETS = (
    Target("kept statements, batches of 100", "≥ 15,000 statements/s",
           _at_least("post-100", 15_000)),
    Target("tallied statements, batches of 100", "≥ 30,000 statements/s",
           _at_least("post-100-tallied", 30_000)),
    Target("single-statement POST, 8 clients", "≥ 3,000 statements/s, p99 < 20 ms",
           _at_least("post-1-c8", 3_000, p99_under=20)),
    Target("GET by agent / activity / verb at 1,000,000 statements", "p99 < 50 ms",
           _p99_under(("get-agent", "get-activity", "get-verb"), "stored", 1_000_000, 50)),
    Target("popularity query at 10,000,000 hits", "p99 < 10 ms",
           _p99_under(("aggregates-popular",), "hits", 10_000_000, 10)),
    Target("server peak RSS under any scenario", "< 300 MB", _peak_rss),
)


def _met(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "n/a"}[met]


# -- docs/benchmarks.md ----------------------------------------------------------------------

NOTES_MARKER = "<!-- notes: everything below this line is kept when the file is regenerated -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(documents: list[dict[str, Any]], notes: str = "") -> str:
    """docs/benchmarks.md from the results documents of one run (one per engine)."""
    first = documents[0]
    machine = first["machine"]
    libraries = ", ".join(f"{name} {version}" for name, version in
                          machine["libraries"].items() if version)
    git = machine.get("git") or {}
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench.ingest`, see bench/README.md) from "
        + ", ".join(f"`bench/results/{d['started'][:10]}-{d['engine']}"
                    f"{'-quick' if d['mode'] == 'quick' else ''}.json`" for d in documents)
        + "; `python -m bench.report FILES --docs docs/benchmarks.md` renders it again. "
        "Do not edit above the notes.",
        "",
        "`make bench` runs every scenario on both engines and writes this file (about half an "
        "hour on 2 cores, a third of it filling the stores); `make bench BENCH_ARGS=--quick` "
        "is a "
        "smoke run of under 5 minutes that writes only `bench/results/*-quick.json`. "
        "bench/README.md says what each scenario does, how the stores are filled and how to "
        "read the figures.",
        "",
    ]
    if any(d["mode"] == "quick" for d in documents):
        out += ["> **A quick run**: 3-second scenarios on small stores, a smoke test of the "
                "harness, not figures to quote. `make bench` makes the real ones.", ""]
    memory = machine.get("memory_bytes")
    out += [
        "## Machine",
        "",
        f"- CPU: {machine.get('cpu_model')}, {machine.get('cpu_count')} cores "
        f"({machine.get('cpus_usable')} usable)",
        f"- memory: {'-' if memory is None else f'{memory / 2**30:.1f} GiB'}",
        f"- OS: {machine.get('platform')}",
        f"- Python {machine.get('python')} ({machine.get('python_implementation')})",
        f"- libraries: {libraries}",
        f"- load average before / after the run: "
        f"{' '.join(f'{x:.2f}' for x in machine.get('load_average') or [])} / "
        f"{' '.join(f'{x:.2f}' for x in machine.get('load_average_after') or [])}",
        f"- commit {git.get('commit', '?')[:12]}"
        f"{' (uncommitted changes)' if git.get('dirty') else ''}",
        f"- load: {first['load_tool']['description']}, on the same machine",
        "",
    ]
    sqlite = next((d for d in documents if d["engine"] == "sqlite"), None)
    if sqlite is not None:
        out += ["## Targets (issue 6; SQLite engine)", "",
                "| scenario | target | measured | met |", "|---|---|---|---|"]
        for target in TARGETS:
            measured, met = target.judge(sqlite)
            out.append(f"| {target.scenario} | {target.target} | {_cell(measured)} | "
                       f"{_met(met)} |")
        out += ["", "n/a: not measured at the target's size (a quick run) or not run.", ""]
    for document in documents:
        out += _engine_section(document)
    out += [NOTES_MARKER, notes.strip("\n"), ""] if notes.strip() else [NOTES_MARKER, ""]
    return "\n".join(out)


def _engine_section(document: dict[str, Any]) -> list[str]:
    config = document["config"]
    out = [f"## {document['engine_label']}", "",
           f"{document['mode'].capitalize()} run, "
           f"{document['started'][:16].replace('T', ' ')} UTC; "
           f"{config['clients']} connections unless said; each scenario "
           f"{config['duration_s']:g} s or {config['max_requests']:,} requests after "
           f"{config['warmup_s']:g} s of warm-up; server `lrs serve --workers "
           f"{config['server_workers']}`. Statements: {document['statements']['count']:,} "
           f"generated, {document['statements']['bytes_min']:,} to "
           f"{document['statements']['bytes_max']:,} bytes "
           f"(mean {document['statements']['bytes_mean']:,.0f}).", ""]
    if document.get("error"):
        out += [f"**The run failed**: {_cell(document['error'])}", ""]
    floors = document["floor"]
    out += ["### Floors", "",
            "| floor | batch | statements/s | µs per statement |", "|---|---|---|---|"]
    for kind, rows in floors.items():
        title = {"parse": "parse + validate, in process",
                 "insert": "raw insert into a bare table or collection"}.get(kind, kind)
        for row in rows:
            out.append(f"| {title} | {row['batch']:,} | {_n(row['statements_per_s'])} | "
                       f"{_n(row['us_per_statement'], 1)} |")
    out += ["", "### Scenarios", "",
            "| scenario | throughput | p50 ms | p95 ms | p99 ms | server CPU s (per s) | "
            "server peak RSS MB | share of parse floor | share of insert floor | errors |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for s in document["scenarios"]:
        value, unit = rate(s)
        latency, server = s["latency_ms"], _server(s)
        ratios = s.get("ratios") or {}
        store = (s.get("resources") or {}).get("store")
        cpu = f"{_n(server.get('cpu_s'), 1)} ({_n(server.get('cpu_share'), 2)})"
        if store:
            cpu += f"; store {_n(store.get('cpu_s'), 1)}"
        out.append(
            f"| {_cell(s['name'])} | {_r(value)} {unit} | {_n(latency.get('p50'), 1)} | "
            f"{_n(latency.get('p95'), 1)} | {_n(latency.get('p99'), 1)} | {cpu} | "
            f"{_mb(server.get('peak_rss_bytes'))} | {_pct(ratios.get('parse'))} | "
            f"{_pct(ratios.get('insert'))} | {s['error_count']:,} |")
    retained = [(s["name"], s["decisions"]) for s in document["scenarios"]
                if (s.get("decisions") or {}).get("tally")]
    if retained:
        out += ["", "What the retention chain decided (the tally's decision counters, warm-up "
                "included): " + "; ".join(
                    f"{name}: {d.get('full', 0):,} kept, {d['tally']:,} tallied "
                    f"({d.get('full', 0) / (d.get('full', 0) + d['tally']):.1%} kept)"
                    for name, d in retained) + "."]
    fills = document.get("fills") or []
    if fills:
        out += ["", "Stores filled before the server started (bench/fill.py): " + "; ".join(
            f"{f['what']} {f.get('from', 0):,} → {f['to']:,} in {f['seconds']:.0f} s"
            for f in fills) + "."]
    out.append("")
    return out


def write_docs(path: Path, documents: list[dict[str, Any]]) -> None:
    """Write the Markdown table, keeping the notes below NOTES_MARKER of the file there."""
    notes = ""
    if path.exists():
        text = path.read_text()
        if NOTES_MARKER in text:
            notes = text.split(NOTES_MARKER, 1)[1]
    path.write_text(markdown(documents, notes))


def main(argv: list[str] | None = None) -> None:
    """Render results JSON files (one per engine) as a text table or as docs/benchmarks.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=main.__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--docs", type=Path, help="Write the Markdown here too.")
    args = parser.parse_args(argv)
    documents = [orjson.loads(f.read_bytes()) for f in args.files]
    for document in documents:
        print(table(document) + "\n")
    if args.docs:
        write_docs(args.docs, documents)


if __name__ == "__main__":
    main()
