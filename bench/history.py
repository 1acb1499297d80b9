"""My own history for the ingest benchmark (`--history-opt-ins N`), in a process of its own.

    python -m bench.history opt-in --data-dir DIR [--store URL] --count N --seed S
    python -m bench.history flush --data-dir DIR [--store URL] --out FILE

`opt-in`, before `lrs serve` starts: the first N learners of `StatementGenerator(seed)` (the
world the load's statements are drawn from) each get a space (`Spaces.create`), sealed
(`Spaces.seal`) and opted in (`lrs.space.history_service.start`), the calls the learner's
API makes; the server then reads these opt-ins from the store as in production. To make
5,000 seals take seconds rather than a quarter of an hour, the passphrase and recovery-code
wraps of these spaces use scrypt at N = 2^10 instead of 2^15 (this process only; the cost
is written in each wrap, so they still unlock): the ingest path and the flush never touch
the wrapped private key, only the public key. `bench.space` times the real scrypt cost.

`flush`, after the server has stopped: the daily flush through today
(`history_service.flush`, what `lrs space flush-history --through-today` runs) of the
copies the run left, timed; its report and the time go to FILE as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import orjson

from bench.fill import settings_for
from bench.generator import StatementGenerator
from lrs.space import crypto
from lrs.space import history_service as history
from lrs.space.keys import owner_key
from lrs.space.service import open_spaces
from lrs.storage import open_storage

PASSPHRASE = "bench passphrase"  # a benchmark's learners, not a secret
BENCH_SCRYPT_LOG2_N = 10


async def opt_in(data_dir: Path, store: str | None, count: int, seed: int) -> dict[str, float]:
    """Spaces made, sealed and opted in for the first `count` learners; seconds taken."""
    crypto.SCRYPT_LOG2_N = BENCH_SCRYPT_LOG2_N
    people = StatementGenerator(seed).people[:count]
    settings = settings_for(data_dir, store)
    storage = await open_storage(settings)
    try:
        spaces = open_spaces(settings, storage.space, storage.engine)
        began = time.perf_counter()
        for person in people:
            owner = owner_key(person)
            await spaces.create(owner)
            await spaces.seal(owner, PASSPHRASE)
            await history.start(storage.history, spaces, owner, person,
                                now_ms=int(time.time() * 1000))
        seconds = time.perf_counter() - began
    finally:
        await storage.close()
    return {"learners": count, "seconds": seconds}


async def flush(data_dir: Path, store: str | None) -> dict[str, object]:
    """The flush through today of what waits in the buffer, timed."""
    settings = settings_for(data_dir, store)
    storage = await open_storage(settings)
    try:
        spaces = open_spaces(settings, storage.space, storage.engine)
        pending = len(await storage.history.pending())
        learners = len(await storage.history.opted_in())
        began = time.perf_counter()
        report = await history.flush(storage.history, spaces, settings,
                                     now_ms=int(time.time() * 1000), through_today=True)
        seconds = time.perf_counter() - began
    finally:
        await storage.close()
    return {"pending_before": pending, "learners": learners, "seconds": seconds,
            "batch_bytes": settings.history_batch_bytes, "report": report.__dict__,
            "ms_per_learner": 1000 * seconds / learners if learners else None,
            "ms_per_copy": 1000 * seconds / pending if pending else None}


def main(argv: list[str] | None = None) -> None:
    """Opt learners in, or flush, on the store named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("opt-in", "flush"))
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--store", help="A mongodb:// URL (default: SQLite in --data-dir).")
    parser.add_argument("--count", type=int, default=0, help="Learners to opt in.")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, help="Where the figures go (JSON).")
    args = parser.parse_args(argv)
    if args.what == "opt-in":
        figures: dict[str, object] = dict(asyncio.run(
            opt_in(args.data_dir, args.store, args.count, args.seed)))
    else:
        figures = asyncio.run(flush(args.data_dir, args.store))
    if args.out:
        args.out.write_bytes(orjson.dumps(figures))
    print(orjson.dumps(figures).decode(), file=sys.stderr)


if __name__ == "__main__":
    main()
