"""Load generators in processes of their own: wrk with bench/ingest.lua (statement POSTs) or
bench/requests.lua (any request: queries, documents), or a Python fallback."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

# Stands in for every statement id in a body template; as long as a UUID, letters only.
PLACEHOLDER = "Z" * 36
LUA_SCRIPT = Path(__file__).with_name("ingest.lua")
REQUESTS_SCRIPT = Path(__file__).with_name("requests.lua")


@dataclass(frozen=True)
class Call:
    """One request of a rotation: method, path with its query string, extra headers, and an
    optional JSON body."""

    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def line(self) -> bytes:
        """The request as a line of bench/requests.lua's input: method, path, headers
        ("Name: value" joined by "|"), body, separated by tabs."""
        headers = "|".join(f"{name}: {value}" for name, value in self.headers)
        if any(c in text for text in (self.path, headers) for c in "\t\n") or b"\n" in (
                self.body or b"") or "|" in "".join(n + v for n, v in self.headers):
            raise ValueError("a request line may hold no tab or newline (nor | in a header)")
        return f"{self.method}\t{self.path}\t{headers}\t".encode() + (self.body or b"")


@dataclass(frozen=True)
class Target:
    """Where and as whom to POST: the statements URL and the Authorization header."""

    url: str
    authorization: str


@dataclass(frozen=True)
class Load:
    """How hard and for how long: concurrent clients, and bounds in time and in requests."""

    clients: int
    duration_s: float
    max_requests: int


@dataclass
class LoadResult:
    """What one load run saw. Every answer other than 200 counts as an error."""

    tool: str
    requests: int  # completed requests, whatever their status
    ok: int  # answered 200
    duration_s: float
    # Failed requests by kind ("status 409", "timeout", "connect error") → count.
    errors: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)  # p50, p95, p99, max, mean
    # wrk's read/write errors: events on a connection, not requests. The server closing a
    # connection after a 500 is one; a request lost on a broken connection is another.
    socket_errors: dict[str, int] = field(default_factory=dict)
    followed: int = 0  # `more` links followed (requests.lua with following on)

    @property
    def error_count(self) -> int:
        """Requests that failed, by status or at the transport."""
        return sum(self.errors.values())

    def as_json(self) -> dict[str, Any]:
        """The result as plain JSON values."""
        return {**asdict(self), "error_count": self.error_count}


def body_templates(statements: list[dict[str, Any]], batch: int) -> list[bytes]:
    """Request bodies of `batch` statements each, every id replaced by PLACEHOLDER.

    A batch of one is sent as a bare Statement object, as most platforms do; larger batches
    as an array. The load generators put a fresh random id in place of each placeholder, so
    no request is a retry of an earlier one.
    """
    bodies = []
    for start in range(0, len(statements) - batch + 1, batch):
        sent = [{**s, "id": PLACEHOLDER} for s in statements[start:start + batch]]
        bodies.append(orjson.dumps(sent[0] if batch == 1 else sent))
    return bodies


def fill(template: bytes) -> bytes:
    """A template with a fresh random UUID in place of each placeholder."""
    parts = template.split(PLACEHOLDER.encode())
    out = [parts[0]]
    for part in parts[1:]:
        out += (str(uuid.uuid4()).encode(), part)
    return b"".join(out)


def settle(target: Target, template: bytes, timeout_s: float = 300.0) -> dict[str, Any]:
    """POST one statement and wait for the answer: {"seconds": …, "status": …}.

    wrk abandons the requests in flight when a run ends, and the server still works through
    them: this waits until it has (its answer queues behind theirs), so that one run's
    leftovers do not count against the next. Status 0 means no answer at all.
    """
    request = urllib.request.Request(target.url, data=fill(template), method="POST", headers={
        "Authorization": target.authorization, "Content-Type": "application/json",
        "X-Experience-API-Version": "2.0.0"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError):
        status = 0
    return {"seconds": time.monotonic() - start, "status": status}


# -- wrk ------------------------------------------------------------------------------------


def wrk_version() -> str | None:
    """wrk's version line, or None when wrk is not installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False, timeout=10)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "wrk"


def run_wrk(target: Target, templates: list[bytes], load: Load, threads: int,
            work: Path) -> LoadResult:
    """Drive the target with wrk and bench/ingest.lua; `threads` wrk threads share the
    `load.clients` connections."""
    threads = max(1, min(threads, load.clients))
    bodies = work / "bodies.txt"
    bodies.write_bytes(b"\n".join(templates) + b"\n")
    quota = math.ceil(load.max_requests / threads)
    command = ["wrk", "-t", str(threads), "-c", str(load.clients),
               "-d", f"{max(1, round(load.duration_s))}s", "--timeout", "60s",
               "-s", str(LUA_SCRIPT), target.url, "--",
               str(bodies), target.authorization, str(quota), PLACEHOLDER,
               str(secrets.randbits(31))]
    return _wrk_result(subprocess.run(command, capture_output=True, text=True, check=False,
                                      timeout=load.duration_s + 120))


def run_wrk_calls(base_url: str, authorization: str, calls: list[Call], load: Load,
                  threads: int, work: Path, *, follow: bool = False) -> LoadResult:
    """Drive `base_url` with wrk and bench/requests.lua, rotating over `calls`; with `follow`,
    each StatementResult's `more` link is requested next."""
    threads = max(1, min(threads, load.clients))
    lines = work / "requests.txt"
    lines.write_bytes(b"\n".join(call.line() for call in calls) + b"\n")
    quota = math.ceil(load.max_requests / threads)
    command = ["wrk", "-t", str(threads), "-c", str(load.clients),
               "-d", f"{max(1, round(load.duration_s))}s", "--timeout", "60s",
               "-s", str(REQUESTS_SCRIPT), base_url, "--",
               str(lines), authorization, str(quota), "1" if follow else "0"]
    return _wrk_result(subprocess.run(command, capture_output=True, text=True, check=False,
                                      timeout=load.duration_s + 120))


def _wrk_result(done: subprocess.CompletedProcess[str]) -> LoadResult:
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH-RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}\n"
                           f"{done.stdout.strip()}")
    raw = orjson.loads(line.removeprefix("BENCH-RESULT "))
    errors = {f"status {code}": count for code, count in sorted(raw["statuses"].items())}
    if raw["connect_errors"]:
        errors["connect error"] = raw["connect_errors"]
    if raw["timeouts"]:
        errors["timeout"] = raw["timeouts"]
    sockets = {f"{kind} error": raw[f"{kind}_errors"] for kind in ("read", "write")
               if raw[f"{kind}_errors"]}
    latency = {name: raw[f"{name}_us"] / 1000 for name in ("p50", "p95", "p99", "max", "mean")}
    if not raw["requests"]:
        latency = {}  # wrk reports zeros when nothing completed
    return LoadResult("wrk", requests=raw["requests"], ok=raw["requests"] - raw["non200"],
                      duration_s=raw["duration_us"] / 1e6, errors=errors, latency_ms=latency,
                      socket_errors=sockets, followed=raw.get("followed", 0))


# -- the Python fallback ---------------------------------------------------------------------


def run_python(target: Target, templates: list[bytes], load: Load,
               processes: int) -> LoadResult:
    """Drive the target from `processes` processes, each an asyncio loop with an httpx
    client; together they hold `load.clients` connections."""
    processes = max(1, min(processes, load.clients))
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    start = context.Event()
    shares = [load.clients // processes + (i < load.clients % processes)
              for i in range(processes)]
    quota = math.ceil(load.max_requests / processes)
    workers = [
        context.Process(target=_python_worker, daemon=True,
                        args=(target, templates[i::processes] or templates, share,
                              load.duration_s, quota, start, results))
        for i, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    try:
        ready = [results.get(timeout=60) for _ in workers]
        if not all(r.get("ready") for r in ready):
            raise RuntimeError(f"a load process failed to start: {ready}")
        start.set()
        parts = [results.get(timeout=load.duration_s + 120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
    latencies = sorted(x for part in parts for x in part["latencies"])
    errors: dict[str, int] = {}
    for part in parts:
        for kind, count in part["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    duration = max(p["end"] for p in parts) - min(p["begin"] for p in parts)
    return LoadResult("python-httpx", requests=sum(p["requests"] for p in parts),
                      ok=sum(p["ok"] for p in parts), duration_s=duration,
                      errors=dict(sorted(errors.items())), latency_ms=summarise(latencies))


def summarise(latencies_s: list[float]) -> dict[str, float]:
    """Nearest-rank percentiles, max and mean of sorted latencies in seconds, as ms."""
    if not latencies_s:
        return {}

    def rank(p: float) -> float:
        return latencies_s[max(0, math.ceil(p / 100 * len(latencies_s)) - 1)] * 1000

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "max": latencies_s[-1] * 1000,
            "mean": sum(latencies_s) / len(latencies_s) * 1000}


def _python_worker(target: Target, templates: list[bytes], connections: int, duration_s: float,
                   quota: int, start: Any, results: Any) -> None:
    try:
        import httpx  # a dev dependency, needed only by this fallback
    except ImportError as exc:
        results.put({"ready": False, "error": str(exc)})
        return
    results.put({"ready": True, "pid": os.getpid()})
    start.wait()
    results.put(asyncio.run(_python_load(httpx, target, templates, connections, duration_s,
                                         quota)))


async def _python_load(httpx: Any, target: Target, templates: list[bytes], connections: int,
                       duration_s: float, quota: int) -> dict[str, Any]:
    headers = {"Authorization": target.authorization, "Content-Type": "application/json",
               "X-Experience-API-Version": "2.0.0"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    state = {"started": 0, "ok": 0, "next": os.getpid() % len(templates)}
    begin = time.monotonic()
    deadline = begin + duration_s

    async def client_loop(client: Any) -> None:
        while state["started"] < quota and time.monotonic() < deadline:
            state["started"] += 1
            body = fill(templates[state["next"]])
            state["next"] = (state["next"] + 1) % len(templates)
            sent = time.perf_counter()
            try:
                response = await client.post(target.url, content=body)
            except httpx.TimeoutException:
                errors["timeout"] = errors.get("timeout", 0) + 1
                continue
            except httpx.TransportError as exc:
                kind = f"transport {type(exc).__name__}"
                errors[kind] = errors.get(kind, 0) + 1
                continue
            latencies.append(time.perf_counter() - sent)
            if response.status_code == 200:
                state["ok"] += 1
            else:
                kind = f"status {response.status_code}"
                errors[kind] = errors.get(kind, 0) + 1

    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60.0) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(connections)))
    return {"requests": len(latencies), "ok": state["ok"], "errors": errors,
            "latencies": latencies, "begin": begin, "end": time.monotonic()}


def run_python_calls(base_url: str, authorization: str, calls: list[Call], load: Load,
                     processes: int, *, follow: bool = False) -> LoadResult:
    """The Python fallback of run_wrk_calls: `processes` processes of asyncio + httpx."""
    processes = max(1, min(processes, load.clients))
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    shares = [load.clients // processes + (i < load.clients % processes)
              for i in range(processes)]
    quota = math.ceil(load.max_requests / processes)
    workers = [context.Process(target=_calls_worker, daemon=True, args=(
        base_url, authorization, calls[i::processes] or calls, share, load.duration_s, quota,
        follow, results)) for i, share in enumerate(shares)]
    for worker in workers:
        worker.start()
    try:
        parts = [results.get(timeout=load.duration_s + 120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
    if any("error" in part for part in parts):
        raise RuntimeError(f"a load process failed: {[p.get('error') for p in parts]}")
    latencies = sorted(x for part in parts for x in part["latencies"])
    errors: dict[str, int] = {}
    for part in parts:
        for kind, count in part["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult("python-httpx", requests=sum(p["requests"] for p in parts),
                      ok=sum(p["ok"] for p in parts),
                      duration_s=max(p["end"] for p in parts) - min(p["begin"] for p in parts),
                      errors=dict(sorted(errors.items())), latency_ms=summarise(latencies),
                      followed=sum(p["followed"] for p in parts))


def _calls_worker(base_url: str, authorization: str, calls: list[Call], connections: int,
                  duration_s: float, quota: int, follow: bool, results: Any) -> None:
    try:
        import httpx  # a dev dependency, needed only by this fallback
    except ImportError as exc:
        results.put({"error": str(exc)})
        return
    results.put(asyncio.run(_calls_load(httpx, base_url, authorization, calls, connections,
                                        duration_s, quota, follow)))


async def _calls_load(httpx: Any, base_url: str, authorization: str, calls: list[Call],
                      connections: int, duration_s: float, quota: int,
                      follow: bool) -> dict[str, Any]:
    headers = {"Authorization": authorization, "Content-Type": "application/json",
               "X-Experience-API-Version": "2.0.0"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    state = {"started": 0, "ok": 0, "followed": 0, "next": os.getpid() % len(calls)}
    begin = time.monotonic()
    deadline = begin + duration_s

    async def client_loop(client: Any) -> None:
        more: str | None = None
        while state["started"] < quota and time.monotonic() < deadline:
            state["started"] += 1
            if more:
                call, more = Call("GET", more), None
            else:
                call = calls[state["next"]]
                state["next"] = (state["next"] + 1) % len(calls)
            sent = time.perf_counter()
            try:
                response = await client.request(call.method, base_url + call.path,
                                                content=call.body, headers=dict(call.headers))
            except httpx.TransportError as exc:
                kind = f"transport {type(exc).__name__}"
                errors[kind] = errors.get(kind, 0) + 1
                continue
            latencies.append(time.perf_counter() - sent)
            if 200 <= response.status_code < 300:
                state["ok"] += 1
                if follow and response.content.endswith(b"}"):
                    more = orjson.loads(response.content).get("more") or None
                    state["followed"] += more is not None
            else:
                kind = f"status {response.status_code}"
                errors[kind] = errors.get(kind, 0) + 1

    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60.0) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(connections)))
    return {"requests": len(latencies), "ok": state["ok"], "errors": errors,
            "latencies": latencies, "followed": state["followed"], "begin": begin,
            "end": time.monotonic()}
