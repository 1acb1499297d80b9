"""My own history for the ingest benchmark (`--history-opt-ins N`), in a process of its own.

    python -m bench.history opt-in --data-dir DIR [--store URL] --count N --seed S
    python -m bench.history flush --data-dir DIR [--store URL] --out FILE
    python -m bench.history seal [--count 2000] [--seed S]

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

`seal`, no store: what the door adds per copy, in this process: `history.seal_copy` (HPKE to
a space's public key, padded) of `count` of the generator's statements, and the lookup of
their owners (`history.owners_in`), in microseconds per statement.
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
from lrs.space.history import owners_in, seal_copy
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
        began = time.perf_counter()
        learners = len(await storage.history.opted_in())  # what the door reads every 5 s
        read_opt_ins = time.perf_counter() - began
        began = time.perf_counter()
        report = await history.flush(storage.history, spaces, settings,
                                     now_ms=int(time.time() * 1000), through_today=True)
        seconds = time.perf_counter() - began
    finally:
        await storage.close()
    return {"pending_before": pending, "learners": learners, "seconds": seconds,
            "read_opt_ins_ms": 1000 * read_opt_ins,
            "batch_bytes": settings.history_batch_bytes, "report": report.__dict__,
            "ms_per_learner": 1000 * seconds / learners if learners else None,
            "ms_per_copy": 1000 * seconds / pending if pending else None}


def seal_floor(count: int, seed: int) -> dict[str, float]:
    """Microseconds per statement of sealing a copy, and of finding its owners."""
    statements = StatementGenerator(seed).statements(count)
    _, public = crypto.new_key_pair()
    space = "00000000-0000-4000-8000-000000000000"
    began = time.perf_counter()
    sizes = [len(seal_copy(public, space, s)) for s in statements]
    sealed = time.perf_counter() - began
    began = time.perf_counter()
    for s in statements:
        owners_in(s)
    owners = time.perf_counter() - began
    return {"statements": count, "seal_copy_us": 1e6 * sealed / count,
            "owners_in_us": 1e6 * owners / count, "sealed_bytes_mean": sum(sizes) / count}


def main(argv: list[str] | None = None) -> None:
    """Opt learners in, or flush, on the store named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("opt-in", "flush", "seal"))
    parser.add_argument("--data-dir", type=Path, help="The store's data directory.")
    parser.add_argument("--store", help="A mongodb:// URL (default: SQLite in --data-dir).")
    parser.add_argument("--count", type=int, default=0, help="Learners to opt in.")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, help="Where the figures go (JSON).")
    args = parser.parse_args(argv)
    if args.what != "seal" and args.data_dir is None:
        parser.error(f"{args.what} needs --data-dir")
    if args.what == "opt-in":
        figures: dict[str, object] = dict(asyncio.run(
            opt_in(args.data_dir, args.store, args.count, args.seed)))
    elif args.what == "seal":
        figures = dict(seal_floor(args.count or 2000, args.seed))
    else:
        figures = asyncio.run(flush(args.data_dir, args.store))
    if args.out:
        args.out.write_bytes(orjson.dumps(figures))
    print(orjson.dumps(figures).decode(), file=sys.stderr)


if __name__ == "__main__":
    main()
