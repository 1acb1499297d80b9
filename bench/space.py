"""What the personal space costs (issue 21): entries written and read through the service layer.

    python -m bench.space [--engine sqlite|mongodb] [--seconds 3] [--no-save]

For each engine (SQLite in a temporary data directory; the MongoDB engine on SecantusDB in a
process of its own, as bench.ingest starts it) and each mode (envelope, then sealed): one
learner's space made with `Spaces.create` (and `Spaces.seal`), then

- *write*: `entry_ops.record` in a loop for --seconds (the entry built as the API builds it,
  its xAPI statement through the validation door, encrypted under the data key or sealed to
  the public key with HPKE, padded to 1 KiB, one blob put);
- *read all*: `entry_ops.entries` of the whole space (every blob read, opened, parsed),
  repeated for --seconds; entries per second = entries opened ÷ time;
- *read one*: `entry_ops.entry` of entries drawn in turn;
- *unlock*: `Spaces.unlock` (envelope: the data key unwrapped by the key-encryption key;
  sealed: scrypt N = 2^15, r = 8, p = 1, then AES-GCM), timed apart, as it happens once per
  session, not per entry.

Entries are typical: a title, three reflection paragraphs of some 300 characters, three tags
and a link (about 2 KiB of plaintext with the statement). One asyncio task: the service's
own cost per call, with the store's round trips, not a server under concurrent load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.fill import settings_for
from bench.report import machine_info, write_json
from bench.servers import secantus
from lrs.space import entry_ops
from lrs.space.entries import EntryInput
from lrs.space.keys import owner_key
from lrs.space.service import SpaceKey, open_spaces
from lrs.storage import Storage, open_storage

HERE = Path(__file__).resolve().parent
PASSPHRASE = "a bench passphrase"  # a benchmark's learners, not a secret
AGENT = {"objectType": "Agent", "name": "Ada Lovelace", "mbox": "mailto:ada@example.org"}
PARAGRAPH = ("I ran the induction for three new starters on the night shift and walked them "
             "through the exits, the first-aid points and the chemical store; two of them "
             "had worked on a site like ours before, one had not, and the questions showed "
             "it. ")


def entry_input(number: int) -> EntryInput:
    """A typical entry, numbered."""
    return EntryInput.model_validate({
        "kind": "experience", "title": f"Site induction, night shift {number}",
        "occurred": date(2026, 11, 1 + number % 28),
        "reflection": {"happened": PARAGRAPH, "learned": PARAGRAPH, "next": PARAGRAPH},
        "tags": ["safety", "induction", f"shift-{number % 7}"],
        "links": [f"https://intranet.example.com/safety/induction/{number}"]})


async def timed_loop(action: Callable[[int], Awaitable[Any]], seconds: float
                     ) -> list[float]:
    """Milliseconds of each call of action(i), for as many as fit in `seconds`."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while not samples or time.perf_counter() < deadline:
        began = time.perf_counter()
        await action(len(samples))
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def summary(samples: list[float], per_call: int = 1) -> dict[str, float]:
    """Calls, mean and median ms, and items per second (`per_call` items each)."""
    return {"calls": len(samples), "mean_ms": statistics.fmean(samples),
            "median_ms": statistics.median(samples),
            "per_s": per_call * 1000 * len(samples) / sum(samples)}


async def one_mode(storage: Storage, settings: Any, mode: str, seconds: float
                   ) -> dict[str, Any]:
    """Write, read and unlock one learner's space in `mode`."""
    spaces = open_spaces(settings, storage.space, storage.engine)
    owner = owner_key({**AGENT, "mbox": f"mailto:ada-{mode}@example.org"})
    agent = {**AGENT, "mbox": f"mailto:ada-{mode}@example.org"}
    await spaces.create(owner)
    if mode == "sealed":
        await spaces.seal(owner, PASSPHRASE)
    now = datetime.now(UTC)
    inputs = [entry_input(n) for n in range(50)]
    ids: list[str] = []

    async def write(i: int) -> None:
        entry = await entry_ops.record(spaces, owner, agent, inputs[i % len(inputs)], now=now,
                                       limit=10**9)
        ids.append(entry.id)

    writes = await timed_loop(write, seconds)
    unlocks = await timed_loop(
        lambda _i: spaces.unlock(owner, PASSPHRASE if mode == "sealed" else None),
        min(seconds, 2.0))
    key: SpaceKey = await spaces.unlock(owner, PASSPHRASE if mode == "sealed" else None)
    count = len(ids)
    read_all = await timed_loop(lambda _i: entry_ops.entries(spaces, key), seconds)
    read_one = await timed_loop(lambda i: entry_ops.entry(spaces, key, ids[i % count]), seconds)
    return {"mode": mode, "entries": count, "write": summary(writes),
            "read_all": summary(read_all, count), "read_one": summary(read_one),
            "unlock": summary(unlocks)}


async def run_engine(data_dir: Path, store: str | None, seconds: float) -> list[dict[str, Any]]:
    """Both modes on one store."""
    # A key-encryption key from the settings, as several hosts sharing a store must have it.
    settings = settings_for(data_dir, store).model_copy(
        update={"space_key": SecretStr("bench-" + "k" * 40)})
    storage = await open_storage(settings)
    try:
        return [await one_mode(storage, settings, mode, seconds)
                for mode in ("envelope", "sealed")]
    finally:
        await storage.close()


def table(document: dict[str, Any]) -> str:
    """The figures as text."""
    lines = ["engine   mode      entries  write/s  write ms  read-all entries/s  read-one/s"
             "  unlock ms"]
    for engine, rows in document["engines"].items():
        for row in rows:
            lines.append(
                f"{engine:<8} {row['mode']:<9} {row['entries']:7,} {row['write']['per_s']:8,.0f} "
                f"{row['write']['median_ms']:9.2f} {row['read_all']['per_s']:19,.0f} "
                f"{row['read_one']['per_s']:11,.0f} {row['unlock']['median_ms']:10.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Time the space on each engine asked for; print, save JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.space", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", action="append", choices=("sqlite", "mongodb"),
                        help="Engine (repeatable; default both).")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="Seconds per measurement (default 3; at least one call each).")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--no-save", action="store_true", help="Print only.")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    document: dict[str, Any] = {"schema": 1, "benchmark": "space", "started": started.isoformat(),
                                "machine": machine_info(), "seconds_per_measurement":
                                args.seconds, "engines": {}}
    root = HERE / ".work"
    root.mkdir(exist_ok=True)
    for engine in args.engine or ["sqlite", "mongodb"]:
        work = Path(tempfile.mkdtemp(prefix=f"space-{engine}-", dir=root))
        try:
            if engine == "mongodb":
                with secantus(work) as running:
                    rows = asyncio.run(run_engine(work / "data", running.url, args.seconds))
            else:
                rows = asyncio.run(run_engine(work / "data", None, args.seconds))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        document["engines"][engine] = rows
    document["finished"] = datetime.now(UTC).isoformat()
    document["machine"]["load_average_after"] = list(os.getloadavg())
    print(table(document))
    if not args.no_save:
        path = args.results / f"{started:%Y-%m-%d}-space.json"
        write_json(path, document)
        print(f"results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
