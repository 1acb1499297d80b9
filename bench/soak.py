"""Soak: a real `lrs serve` at a fixed request rate for a long time, sampled as it goes.

`python -m bench.soak --engine sqlite --minutes 30` posts batches of generated statements
at a fixed rate (default 95 requests/s of 10 statements: half the batch-10 ingest benchmark
of bench/results/2026-11-28-sqlite.json; on MongoDB pass the half of that engine's figure)
and every `--sample-seconds` records the server's resident memory (VmRSS, and the store's on
MongoDB), its open file descriptors, and the latency and outcome of the requests of that
interval. The curve goes to bench/results/DATE-soak-ENGINE.json, with the
RSS growth after warm-up (the goal: under 10 %). Everything runs on 127.0.0.1 and stops
by itself at the end of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.generator import generate
from bench.load import body_templates, fill, summarise
from bench.servers import ROOT, lrs_serve, secantus


def rss_kib(pid: int) -> int:
    """Resident memory of `pid`, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_files(pid: int) -> int:
    """Open file descriptors of `pid` (files, sockets, pipes)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


async def soak(base_url: str, authorization: str, pid: int, store_pid: int | None,
               args: argparse.Namespace) -> list[dict[str, Any]]:
    """Send at the fixed rate until the end; return one sample per interval."""
    templates = body_templates(generate(max(2000, args.batch * 50)), args.batch)
    headers = {"Authorization": authorization, "Content-Type": "application/json",
               "X-Experience-API-Version": "2.0.0"}
    limits = httpx.Limits(max_connections=args.connections,
                          max_keepalive_connections=args.connections)
    samples: list[dict[str, Any]] = []
    latencies: list[float] = []
    outcome: dict[str, int] = {}
    in_flight: set[asyncio.Task[None]] = set()
    begin = time.monotonic()
    end = begin + args.minutes * 60

    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                                 timeout=60) as client:
        async def one(body: bytes) -> None:
            started = time.monotonic()
            try:
                response = await client.post("/xapi/statements", content=body)
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            latencies.append(time.monotonic() - started)
            outcome[key] = outcome.get(key, 0) + 1

        def sample(now: float) -> None:
            ordered = sorted(latencies)
            samples.append({
                "t_s": round(now - begin, 1), "rss_kib": rss_kib(pid),
                "open_files": open_files(pid), "requests": len(ordered),
                **({"store_rss_kib": rss_kib(store_pid)} if store_pid else {}),
                "outcome": dict(outcome), "latency_ms": {
                    k: round(v, 2) for k, v in summarise(ordered).items()}})
            latencies.clear()
            outcome.clear()
            print(json.dumps(samples[-1]), flush=True)

        interval = 1 / args.rate
        next_send = next_sample = begin
        sent = 0
        sample(begin)
        while (now := time.monotonic()) < end:
            if now >= next_sample + args.sample_seconds:
                next_sample += args.sample_seconds
                sample(now)
            if len(in_flight) < args.connections:
                task = asyncio.create_task(one(fill(templates[sent % len(templates)])))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                sent += 1
            else:  # the server is behind: the request is skipped, counted, not queued
                outcome["skipped"] = outcome.get("skipped", 0) + 1
            next_send += interval
            await asyncio.sleep(max(0.0, next_send - time.monotonic()))
        await asyncio.gather(*in_flight)
        sample(time.monotonic())
    return samples


def growth(samples: list[dict[str, Any]], warmup_s: float) -> float | None:
    """RSS growth from the first sample after warm-up to the last, as a fraction."""
    after = [s for s in samples if s["t_s"] >= warmup_s]
    if len(after) < 2:
        return None
    first, last = float(after[0]["rss_kib"]), float(after[-1]["rss_kib"])
    return (last - first) / first


def main(argv: list[str] | None = None) -> int:
    """Run the soak and write its curve."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "mongodb"], default="sqlite")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=95.0, help="Requests per second.")
    parser.add_argument("--batch", type=int, default=10, help="Statements per request.")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--warmup-minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="soak-", dir=ROOT / "bench"))
    started = datetime.now(UTC)
    try:
        with ExitStack() as stack:
            store = stack.enter_context(secantus(work)) if args.engine == "mongodb" else None
            running = stack.enter_context(lrs_serve(work, store.url if store else None))
            pid = running.pid
            samples = asyncio.run(soak(running.base_url, running.authorization, pid,
                                       store.pid if store else None, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    warmup = min(args.warmup_minutes * 60, args.minutes * 60 / 3)
    result = {
        "schema": "soak/1", "engine": args.engine, "started": started.isoformat(),
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "warmup_s": warmup, "rss_growth_after_warmup": growth(samples, warmup),
        "requests": sum(s["requests"] for s in samples),
        "outcome": {k: sum(s["outcome"].get(k, 0) for s in samples)
                    for k in {k for s in samples for k in s["outcome"]}},
        "samples": samples}
    out = args.out or ROOT / "bench" / "results" / \
        f"{started:%Y-%m-%d}-soak-{args.engine}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}: {result['requests']} requests, outcome {result['outcome']}, "
          f"RSS growth after warm-up {result['rss_growth_after_warmup']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
