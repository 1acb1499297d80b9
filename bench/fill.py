"""Fill a store fast, before `lrs serve` starts on it, in a process of its own.

    python -m bench.fill statements --data-dir DIR [--store URL] --start N --count M --seed S
    python -m bench.fill hits --data-dir DIR [--store URL] --count M --seed S

`statements` stores generated statements through the store API (`statements.enrich` and
`StatementStore.save`, the calls the ingest pipeline makes after validation and the retention
decision), in batches of 5,000, each with a `stored` time from `stored_at()` so that the
harness knows which `since` values leave how many statements after them. The statements are
those of `StatementGenerator(seed)`, numbers `start` to `start + count - 1`, so a store filled
to 100,000 and then to 1,000,000 holds what one fill to 1,000,000 would.

`hits` adds `count` hits to the tally's counters, pre-aggregated: hits are drawn from the
generator's world (activity by its weight, a verb that goes with it, an hour in the
generator's DAYS days, the platform, one of two credential keys), counted per (activity,
hour, verb, type, platform, credential), and each count added once with the engine's counter
upsert, the one the ingest path uses. The counter rows are those that `count` tallied
statements would leave; no fingerprint or learner sketch is written (the popularity and
time-series queries by hits read neither).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregation.hits import HOUR_MS, Hit
from bench.generator import (
    ADL_VERBS,
    DAYS,
    EPOCH,
    KIND_WEIGHTS,
    VERBS_BY_KIND,
    StatementGenerator,
)
from lrs.config import Settings
from lrs.storage import Storage, open_storage
from statements.enrich import enrich
from statements.versions import XapiVersion

STORED_EPOCH = datetime(2026, 4, 6, tzinfo=UTC)
STORED_STEP_MS = 10
AUTHORITY = {"objectType": "Agent", "name": "bench-fill",
             "account": {"homePage": "http://127.0.0.1", "name": "bench-fill"}}
CREDENTIALS = ("bench-lms", "bench-intranet")
CHUNK = 5000
HIT_CHUNK = 1_000_000
WRITE_CHUNK = 200_000


def stored_at(number: int) -> datetime:
    """The `stored` time given to the statement of this number (0-based)."""
    return STORED_EPOCH + timedelta(milliseconds=number * STORED_STEP_MS)


def settings_for(data_dir: Path, store: str | None) -> Settings:
    """The Settings `lrs serve --data-dir DIR [--store URL]` would use (bench database)."""
    return Settings(data_dir=data_dir, store=store, mongodb_database="bench")


async def fill_statements(storage: Storage, seed: int, start: int, count: int) -> None:
    """Store statements `start` … `start + count - 1` of the generator with this seed."""
    generator = StatementGenerator(seed)
    for _ in range(start // CHUNK):
        generator.statements(CHUNK)
    generator.statements(start % CHUNK)
    number = start
    while number < start + count:
        size = min(CHUNK, start + count - number)
        batch = [enrich(s, statement_id=s["id"], stored=stored_at(number + i),
                        authority=AUTHORITY, version=XapiVersion.V2)
                 for i, s in enumerate(generator.statements(size))]
        await storage.statements.save(batch)
        number += size


def draw_hits(seed: int, count: int) -> Counter[Hit]:
    """`count` hits drawn from the world of `StatementGenerator(seed)`, counted by Hit: an
    activity by the generator's weights, one of the verbs that go with its kind, an hour of
    the generator's DAYS days (uniformly: every hour has hits, the most counter rows)."""
    generator = StatementGenerator(seed)
    rng = generator.rng
    activities = generator.activities
    first_hour = int(EPOCH.timestamp()) * 1000 // HOUR_MS
    verbs = [VERBS_BY_KIND[a.kind] for a in activities]
    lengths = [len(v) for v in verbs]
    weights = [KIND_WEIGHTS[a.kind] for a in activities]
    everything = range(len(activities))
    hours = range(first_hour, first_hour + DAYS * 24)
    cells: Counter[tuple[int, int, int]] = Counter()
    left = count
    while left:  # in chunks, as ints: a Counter of int tuples is counted in C
        size = min(left, HIT_CHUNK)
        picked = rng.choices(everything, weights, k=size)
        verb = [int(rng.random() * lengths[a]) for a in picked]
        cells.update(zip(picked, verb, rng.choices(hours, k=size), strict=True))
        left -= size
    counts: Counter[Hit] = Counter()
    for (number, verb_number, hour), n in cells.items():
        activity = activities[number]
        counts[Hit(activity.body["id"], ADL_VERBS + verbs[number][verb_number],
                   activity.body["definition"].get("type", ""), activity.platform,
                   CREDENTIALS[activity.platform == "Intranet"], hour)] += n
    return counts


async def add_hits(storage: Storage, hits: Counter[Hit]) -> None:
    """Add pre-aggregated hits to the counters with the engine's own counter upsert."""
    # In key order, so that the counter tables' B-trees are written front to back.
    items = sorted(hits.items(), key=lambda item: (item[0].activity, item[0].hour))
    for start in range(0, len(items), WRITE_CHUNK):
        part: Counter[Hit] = Counter(dict(items[start:start + WRITE_CHUNK]))
        if storage.engine == "sqlite":
            from aggregation.stores.sqlite import bump_counters
            from statements.stores.sqlite_db import transaction

            db: Any = storage.tally._db  # type: ignore[attr-defined]
            await db.write(lambda conn, part=part: transaction(
                conn, lambda c: bump_counters(c, part)))
        else:
            await storage.tally._bump(part, None)  # type: ignore[attr-defined]


async def _main(args: argparse.Namespace) -> None:
    storage = await open_storage(settings_for(args.data_dir, args.store))
    try:
        if args.what == "statements":
            await fill_statements(storage, args.seed, args.start, args.count)
        else:
            await add_hits(storage, draw_hits(args.seed, args.count))
    finally:
        await storage.close()


def main(argv: list[str] | None = None) -> None:
    """Fill the store named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.fill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("statements", "hits"))
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--store", help="A mongodb:// URL (default: SQLite in --data-dir).")
    parser.add_argument("--start", type=int, default=0, help="First statement number.")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    asyncio.run(_main(args))
    print(f"filled {args.count:,} {args.what} in {time.perf_counter() - began:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
