"""What a benchmark run records: the machine it ran on, a table for people, JSON for files."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

LIBRARIES = ("tally-lrs", "starlette", "uvicorn", "uvloop", "httptools", "pydantic",
             "pydantic-core", "pydantic-settings", "orjson", "pymongo", "SecantusDB", "httpx")
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


def table(document: dict[str, Any]) -> str:
    """The results of one engine as a text table."""
    lines = [f"== {document['engine_label']} ==",
             f"load: {document['load_tool']['description']}; "
             f"{document['config']['clients']} clients; "
             f"bounds {document['config']['duration_s']:g} s / "
             f"{document['config']['max_requests']:,} requests per scenario",
             f"{'scenario':<24}{'statements/s':>14}{'requests/s':>12}{'p50 ms':>9}"
             f"{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}{'requests':>10}{'secs':>7}"]
    for floor in document["floor"]:
        lines.append(f"{'parse floor, batch ' + str(floor['batch']):<24}"
                     f"{_n(floor['statements_per_s']):>14}{_n(floor['bodies_per_s']):>12}"
                     f"{'':>9}{'':>9}{'':>9}{'':>8}{floor['bodies']:>10,}"
                     f"{floor['duration_s']:>7.1f}")
    for s in document["scenarios"]:
        latency = s["latency_ms"]
        lines.append(f"{'POST batch of ' + str(s['batch']):<24}{_n(s['statements_per_s']):>14}"
                     f"{_n(s['requests_per_s']):>12}{_n(latency.get('p50'), 1):>9}"
                     f"{_n(latency.get('p95'), 1):>9}{_n(latency.get('p99'), 1):>9}"
                     f"{s['error_count']:>8,}{s['requests']:>10,}{s['duration_s']:>7.1f}")
        for when, one in s["settle"].items():
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
