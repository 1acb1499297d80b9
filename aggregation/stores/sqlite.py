"""The tally on SQLite, sharing the statements' database file and its write transactions."""

from __future__ import annotations

import secrets
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Literal

from aggregation.hits import DAY_HOURS, Hit
from aggregation.plan import Batch, Plan
from aggregation.sketch import estimate
from aggregation.store import NO_FILTERS, ActivityCount, Filters, Summary, Where
from aggregation.stores.sqlite_privacy import SqliteReleases, dp_schema
from statements.stores.sqlite import held_hashes
from statements.stores.sqlite_db import SqliteDatabase, run_script, transaction

_DIMS = ("activity", "verb", "activity_type", "platform", "credential")
# The journal is rolled up into the counters by whichever comes first: this many hits
# journalled by this process, this long since its last roll-up, or a read of the counters.
_ROLL_UP_HITS = 5_000
_ROLL_UP_SECONDS = 1.0
_DIMS_MEMORY = 100_000
_LEARNER_LOOKUPS = 100  # up to this many activities, their sketches are read one by one


def _schema_v1(conn: sqlite3.Connection) -> None:
    run_script(conn, """
        CREATE TABLE tally_hours (
            activity TEXT NOT NULL, hour INTEGER NOT NULL, verb TEXT NOT NULL,
            activity_type TEXT NOT NULL, platform TEXT NOT NULL, credential TEXT NOT NULL,
            hits INTEGER NOT NULL,
            PRIMARY KEY (activity, hour, verb, activity_type, platform, credential)
        ) WITHOUT ROWID;
        CREATE TABLE tally_days (
            day INTEGER NOT NULL, activity TEXT NOT NULL, verb TEXT NOT NULL,
            activity_type TEXT NOT NULL, platform TEXT NOT NULL, credential TEXT NOT NULL,
            hits INTEGER NOT NULL,
            PRIMARY KEY (day, activity, verb, activity_type, platform, credential)
        ) WITHOUT ROWID;
        CREATE TABLE tally_learners (
            activity TEXT NOT NULL, day INTEGER NOT NULL, register INTEGER NOT NULL,
            rank INTEGER NOT NULL,
            PRIMARY KEY (activity, day, register)
        ) WITHOUT ROWID;
        CREATE TABLE tally_decisions (
            day INTEGER NOT NULL, decision TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (day, decision)
        ) WITHOUT ROWID;
        CREATE TABLE day_keys (day INTEGER PRIMARY KEY, key BLOB NOT NULL);
        -- Idempotency without identity: the id, a content hash and where the hit was counted.
        CREATE TABLE fingerprints (
            id TEXT PRIMARY KEY, hash TEXT NOT NULL, expires INTEGER NOT NULL,
            voided INTEGER NOT NULL DEFAULT 0, hour INTEGER, activity TEXT, verb TEXT,
            activity_type TEXT, platform TEXT, credential TEXT
        ) WITHOUT ROWID;
        CREATE INDEX fingerprints_expires ON fingerprints(expires)
    """)


def _schema_v2(conn: sqlite3.Connection) -> None:
    # Counters are bumped from a journal rather than in each request's transaction. A batch
    # of 100 hits touches about 300 counter rows spread over the tables' B-trees, which cost
    # more than everything else the tally does; appending 100 journal rows touches the last
    # page or two. The journal is written in the same transaction as the fingerprints, so an
    # acknowledged hit is durable; _roll_up moves it into the counters exactly once.
    #
    # Fingerprints shrink from about 390 to 90 bytes: the id and the content hash as 16-byte
    # blobs (the hash truncated to 128 bits, ample to tell a retry from changed content) and
    # the dimensions as a number in tally_dims. One is written per tallied statement, at a
    # random place in the table, so its size is most of the tally's write cost.
    run_script(conn, """
        CREATE TABLE tally_dims (
            id INTEGER PRIMARY KEY, activity TEXT NOT NULL, verb TEXT NOT NULL,
            activity_type TEXT NOT NULL, platform TEXT NOT NULL, credential TEXT NOT NULL,
            UNIQUE (activity, verb, activity_type, platform, credential)
        );
        CREATE TABLE tally_journal (
            seq INTEGER PRIMARY KEY, hour INTEGER NOT NULL, dims INTEGER NOT NULL,
            delta INTEGER NOT NULL, register INTEGER, rank INTEGER
        );
        CREATE TABLE compact_fingerprints (
            id BLOB PRIMARY KEY, hash BLOB NOT NULL, expires INTEGER NOT NULL,
            voided INTEGER NOT NULL DEFAULT 0, hour INTEGER, dims INTEGER
        ) WITHOUT ROWID;
        INSERT INTO tally_dims(activity, verb, activity_type, platform, credential)
        SELECT DISTINCT activity, verb, activity_type, platform, credential
        FROM fingerprints WHERE hour IS NOT NULL
    """)
    rows = conn.execute(
        "SELECT f.id, f.hash, f.expires, f.voided, f.hour, d.id FROM fingerprints f"
        " LEFT JOIN tally_dims d ON (d.activity, d.verb, d.activity_type, d.platform,"
        " d.credential) = (f.activity, f.verb, f.activity_type, f.platform, f.credential)")
    while chunk := rows.fetchmany(10_000):  # SQLite 3.40 has no unhex(): converted here
        conn.executemany("INSERT INTO compact_fingerprints VALUES (?,?,?,?,?,?)", [
            (_id_bytes(i), _short(h), expires, voided, hour, dims)
            for i, h, expires, voided, hour, dims in chunk])
    run_script(conn, """
        DROP TABLE fingerprints;
        ALTER TABLE compact_fingerprints RENAME TO fingerprints;
        CREATE INDEX fingerprints_expires ON fingerprints(expires)
    """)


# tally_activity_days keeps, per activity and day, the total (dim '') and the hits of each
# value of one dimension at a time.
_SINGLE = (("", "''"), ("verb", "verb"), ("activity_type", "activity_type"),
           ("platform", "platform"), ("credential", "credential"))


def _schema_v3(conn: sqlite3.Connection) -> None:
    # A popularity query with no filter or one (the dashboard's usual views) sums one row
    # per activity and day, not one per combination of dimensions; two filters or more read
    # tally_days.
    run_script(conn, """
        CREATE TABLE tally_activity_days (
            dim TEXT NOT NULL, value TEXT NOT NULL, day INTEGER NOT NULL,
            activity TEXT NOT NULL, hits INTEGER NOT NULL,
            PRIMARY KEY (dim, value, day, activity)
        ) WITHOUT ROWID;
        CREATE INDEX tally_activity_days_series ON tally_activity_days(activity, dim, value, day)
    """)
    for dim, value in _SINGLE:
        conn.execute(f"INSERT INTO tally_activity_days(dim, value, day, activity, hits)"
                     f" SELECT '{dim}', {value}, day, activity, SUM(hits) FROM tally_days"
                     f" GROUP BY 2, 3, 4")


def _id_bytes(statement_id: str) -> bytes:
    # The canonical form (what the ingest stores: lower-case, hyphenated) without building
    # a UUID object, which costs more than the rest of a fingerprint's write.
    digits = statement_id.replace("-", "")
    return bytes.fromhex(digits) if len(digits) == 32 else uuid.UUID(statement_id).bytes


def _id_text(stored: bytes) -> str:
    digits = stored.hex()  # the canonical form, as str(uuid.UUID(bytes=stored)) writes it
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _short(content_hash: str) -> bytes:
    return bytes.fromhex(content_hash[:32])


_ACTIVITY_DAYS_ROLL_UP = "".join(f"""
    INSERT INTO tally_activity_days(dim, value, day, activity, hits)
    SELECT '{dim}', {"d." + dim if dim else "''"}, j.hour / {DAY_HOURS}, d.activity,
           SUM(j.delta)
    FROM tally_journal j JOIN tally_dims d ON d.id = j.dims
    WHERE j.seq <= :last GROUP BY 2, 3, 4 HAVING SUM(j.delta) != 0
    ON CONFLICT DO UPDATE SET hits = hits + excluded.hits;""" for dim, _ in _SINGLE)

_ROLL_UP = f"""
    INSERT INTO tally_hours(activity, hour, verb, activity_type, platform, credential, hits)
    SELECT d.activity, j.hour, d.verb, d.activity_type, d.platform, d.credential, SUM(j.delta)
    FROM tally_journal j JOIN tally_dims d ON d.id = j.dims
    WHERE j.seq <= :last GROUP BY j.dims, j.hour HAVING SUM(j.delta) != 0
    ON CONFLICT DO UPDATE SET hits = hits + excluded.hits;
    INSERT INTO tally_days(day, activity, verb, activity_type, platform, credential, hits)
    SELECT j.hour / {DAY_HOURS}, d.activity, d.verb, d.activity_type, d.platform,
           d.credential, SUM(j.delta)
    FROM tally_journal j JOIN tally_dims d ON d.id = j.dims
    WHERE j.seq <= :last GROUP BY j.dims, j.hour / {DAY_HOURS} HAVING SUM(j.delta) != 0
    ON CONFLICT DO UPDATE SET hits = hits + excluded.hits;
{_ACTIVITY_DAYS_ROLL_UP}
    INSERT INTO tally_learners(activity, day, register, rank)
    SELECT d.activity, j.hour / {DAY_HOURS}, j.register, MAX(j.rank)
    FROM tally_journal j JOIN tally_dims d ON d.id = j.dims
    WHERE j.seq <= :last AND j.register IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT DO UPDATE SET rank = max(rank, excluded.rank);
    DELETE FROM tally_journal WHERE seq <= :last
"""


def _roll_up(conn: sqlite3.Connection) -> int:
    """Add the journal's hits to the hour and day counters and the learner sketches, then
    empty it: all in the caller's transaction, so each hit is counted exactly once."""
    (last,) = conn.execute("SELECT MAX(seq) FROM tally_journal").fetchone()
    if last is None:
        return 0
    for statement in _ROLL_UP.split(";"):
        conn.execute(statement, {"last": last})
    return int(last)


Dims = tuple[str, str, str, str, str]


def bump_counters(conn: sqlite3.Connection, hits: Counter[Hit]) -> None:
    """Add pre-counted hits straight to the hour and day counters, with no fingerprint and
    no journal: for filling a store in bulk (the benchmark's 10,000,000 hits)."""
    by_day: Counter[tuple[object, ...]] = Counter()
    for h, n in hits.items():
        by_day[(h.day, h.activity, h.verb, h.activity_type, h.platform, h.credential)] += n
    conn.executemany(
        "INSERT INTO tally_hours VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE"
        " SET hits = hits + excluded.hits",
        [(h.activity, h.hour, h.verb, h.activity_type, h.platform, h.credential, n)
         for h, n in hits.items() if n])
    conn.executemany(
        "INSERT INTO tally_days VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE"
        " SET hits = hits + excluded.hits", [(*key, n) for key, n in by_day.items() if n])
    by_activity: Counter[tuple[str, str, int, str]] = Counter()
    for h, n in hits.items():
        for dim, _ in _SINGLE:
            by_activity[(dim, getattr(h, dim) if dim else "", h.day, h.activity)] += n
    conn.executemany(
        "INSERT INTO tally_activity_days VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE"
        " SET hits = hits + excluded.hits", [(*key, n) for key, n in by_activity.items() if n])


def known_in(conn: sqlite3.Connection, batch: Batch) -> tuple[dict[str, str], dict[str, Hit]]:
    """The tally's side of what the store holds about `batch`: id → (short) content hash of
    the batch's ids that have a fingerprint, and the hit of each voiding target that is a
    tallied statement not voided yet."""
    held = {i: h.hex() for i, h in _held_fingerprints(conn, batch.ids).items()}
    takeable: dict[str, Hit] = {}
    for target in batch.targets:
        row = conn.execute(
            "SELECT f.hour, d.activity, d.verb, d.activity_type, d.platform, d.credential"
            " FROM fingerprints f JOIN tally_dims d ON d.id = f.dims"
            " WHERE f.id=? AND f.voided=0 AND f.hour IS NOT NULL",
            (_id_bytes(target),)).fetchone()
        if row:
            hour, activity, verb, activity_type, platform, credential = row
            takeable[target] = Hit(activity, verb, activity_type, platform, credential,
                                   int(hour))
    return held, takeable


def write_in(conn: sqlite3.Connection, plan: Plan, known_dims: dict[Dims, int]
             ) -> dict[Dims, int]:
    """Write the tally's part of a plan inside the caller's transaction; return the
    dimensions it numbered anew (for the caller to remember once committed)."""
    used = {*plan.hits, *(h for h, _, _ in plan.learners)}
    used.update(t.hit for t in plan.fingerprints if t.hit is not None)
    key = {h: _dims(h) for h in used}
    dims = _number_dims(conn, set(key.values()), known_dims)
    number = {h: dims[k] for h, k in key.items()}
    voided = set(plan.take_back)
    expires = plan.fingerprint_expires_ms
    conn.executemany(
        "INSERT INTO fingerprints(id, hash, expires, voided, hour, dims) VALUES (?,?,?,?,?,?)",
        [(_id_bytes(t.statement_id), _short(t.content_hash), expires,
          int(t.statement_id in voided),
          *((t.hit.hour, number[t.hit]) if t.hit else (None, None)))
         for t in plan.fingerprints])
    if plan.take_back:
        conn.executemany("UPDATE fingerprints SET voided=1 WHERE id=?",
                         [(_id_bytes(t),) for t in plan.take_back_held])
    # The hits go to the journal, _roll_up adds them to the counters later, in batches (see
    # _schema_v2): one row per sketch cell, the first of each bucket carrying the bucket's
    # hits (summed in the plan), and one per bucket left without a cell.
    left = dict(plan.hits)
    rows: list[tuple[int, int, int, int | None, int | None]] = [
        (h.hour, number[h], left.pop(h, 0), register, rank)
        for h, register, rank in plan.learners]
    rows += [(h.hour, number[h], n, None, None) for h, n in left.items()]
    conn.executemany(
        "INSERT INTO tally_journal(hour, dims, delta, register, rank) VALUES (?,?,?,?,?)", rows)
    conn.executemany(
        "INSERT INTO tally_decisions VALUES (?,?,?) ON CONFLICT DO UPDATE"
        " SET count = count + excluded.count",
        [(plan.day, decision, n) for decision, n in plan.decisions.items()])
    return {d: n for d, n in dims.items() if d not in known_dims}


def _dims(hit: Hit) -> Dims:
    return (hit.activity, hit.verb, hit.activity_type, hit.platform, hit.credential)


def _number_dims(conn: sqlite3.Connection, wanted: set[Dims], known: dict[Dims, int]
                 ) -> dict[Dims, int]:
    """The tally_dims number of each of `wanted`, adding the new ones."""
    numbers = {d: known[d] for d in wanted if d in known}
    for d in wanted - numbers.keys():
        conn.execute("INSERT INTO tally_dims(activity, verb, activity_type, platform,"
                     " credential) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING", d)
        (numbers[d],) = conn.execute(
            "SELECT id FROM tally_dims WHERE activity=? AND verb=? AND activity_type=?"
            " AND platform=? AND credential=?", d).fetchone()
    return numbers


def _held_fingerprints(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, bytes]:
    """id → (short) content hash of the ids among `ids` that have a fingerprint."""
    held: dict[str, bytes] = {}
    for start in range(0, len(ids), 500):
        chunk = [_id_bytes(i) for i in ids[start:start + 500]]
        held.update((_id_text(i), h) for i, h in conn.execute(
            f"SELECT id, hash FROM fingerprints WHERE id IN ({','.join('?' * len(chunk))})",
            chunk))
    return held


class SqliteTallyStore(SqliteReleases):
    """TallyStore on the SqliteDatabase the statement store uses."""

    def __init__(self, db: SqliteDatabase, *, roll_up_hits: int = _ROLL_UP_HITS,
                 roll_up_seconds: float = _ROLL_UP_SECONDS) -> None:
        self._db = db
        self._roll_up_hits = roll_up_hits
        self._roll_up_seconds = roll_up_seconds
        self._journalled = 0  # hits this process journalled since its last roll-up
        self._rolled_at = time.monotonic()
        self._dims: dict[Dims, int] = {}  # tally_dims numbers, read or added by this process

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate([_schema_v1, _schema_v2, _schema_v3, dp_schema], name="tally")

    def roll_up_due(self, hits: int) -> bool:
        """Whether the commit about to journal `hits` more should roll the journal up."""
        return (self._journalled + hits >= self._roll_up_hits
                or time.monotonic() - self._rolled_at >= self._roll_up_seconds)

    def write_in(self, conn: sqlite3.Connection, plan: Plan) -> dict[Dims, int]:
        """The tally's part of the engine's commit, in its transaction."""
        return write_in(conn, plan, self._dims)

    @staticmethod
    def roll_up_in(conn: sqlite3.Connection) -> None:
        """Roll the journal up, in a transaction of its own (after a commit)."""
        transaction(conn, _roll_up)

    def remember(self, numbered: dict[Dims, int]) -> None:
        """Remember the dimension numbers a committed plan added."""
        if len(self._dims) > _DIMS_MEMORY:
            self._dims.clear()
        self._dims.update(numbered)  # committed: dimension numbers are never taken back

    def journalled(self, hits: int, *, rolled: bool) -> None:
        """Count the hits committed plans journalled (or start again after a roll-up)."""
        if rolled:
            self._journalled, self._rolled_at = 0, time.monotonic()
        else:
            self._journalled += hits

    async def roll_up(self) -> None:
        """Bring the counters up to date with every hit acknowledged so far."""
        if await self._db.read(_journal_has_hits):
            await self._db.write(lambda conn: transaction(conn, _roll_up))

    async def where(self, statement_ids: Collection[str]) -> dict[str, Where]:
        ids = sorted(statement_ids)

        def run(conn: sqlite3.Connection) -> dict[str, Where]:
            found: dict[str, Where] = dict.fromkeys(_held_fingerprints(conn, ids), "tally")
            found.update(dict.fromkeys(held_hashes(conn, "statements", ids), "full"))
            return found

        return await self._db.read(run)

    async def day_key(self, day: int, *, today: int) -> bytes | None:
        if day < today:
            return await self._db.read(lambda conn: _key(conn, day))

        def run(conn: sqlite3.Connection) -> bytes:
            conn.execute("INSERT INTO day_keys VALUES (?, ?) ON CONFLICT DO NOTHING",
                         (day, secrets.token_bytes(32)))
            key = _key(conn, day)
            assert key is not None
            return key

        return await self._db.write(lambda conn: transaction(conn, run))

    async def popular(self, first_day: int, last_day: int, filters: Filters, *,
                      by: Literal["hits", "learners"], limit: int) -> list[ActivityCount]:
        await self.roll_up()
        where, params = _filter_sql(filters)
        given = _given(filters)
        if len(given) <= 1:  # the per-activity totals answer it
            dim, value = given[0] if given else ("", "")
            where, params = " AND dim=? AND value=?", [dim, value]
        table = "tally_days" if len(given) > 1 else "tally_activity_days"

        def run(conn: sqlite3.Connection) -> list[ActivityCount]:
            rows = conn.execute(
                f"SELECT activity, SUM(hits) FROM {table} WHERE day BETWEEN ? AND ?{where}"
                " GROUP BY activity HAVING SUM(hits) > 0", (first_day, last_day, *params),
            ).fetchall()
            if by == "hits" and len(rows) > limit:  # learners only for the top (and ties)
                rows.sort(key=lambda row: row[1], reverse=True)
                rows = [row for row in rows if row[1] >= rows[limit - 1][1]]
            registers = _registers(conn, [a for a, _ in rows], first_day, last_day)
            counts = [ActivityCount(a, n, estimate(registers.get(a, {}))) for a, n in rows]
            key = (lambda c: (c.hits, c.learners)) if by == "hits" else (
                lambda c: (c.learners, c.hits))
            return sorted(counts, key=key, reverse=True)[:limit]

        return await self._db.read(run)

    async def series(self, activity: str, first_hour: int, last_hour: int, *,
                     daily: bool, filters: Filters = NO_FILTERS) -> list[tuple[int, int]]:
        where, params = _filter_sql(filters)
        await self.roll_up()
        given = _given(filters)
        if daily and len(given) <= 1:  # one row a day from the per-activity totals
            dim, value = given[0] if given else ("", "")
            sql = ("SELECT day, hits FROM tally_activity_days WHERE activity=? AND day"
                   " BETWEEN ? AND ? AND dim=? AND value=? AND hits > 0 ORDER BY day")
            span = (first_hour // DAY_HOURS, last_hour // DAY_HOURS)
            params = [dim, value]
        elif daily:
            sql = ("SELECT day, SUM(hits) FROM tally_days WHERE activity=? AND day BETWEEN ? AND ?"
                   f"{where} GROUP BY day HAVING SUM(hits) > 0 ORDER BY day")
            span = (first_hour // DAY_HOURS, last_hour // DAY_HOURS)
        else:
            sql = ("SELECT hour, SUM(hits) FROM tally_hours WHERE activity=? AND hour BETWEEN ?"
                   f" AND ?{where} GROUP BY hour HAVING SUM(hits) > 0 ORDER BY hour")
            span = (first_hour, last_hour)
        return await self._db.read(lambda conn: [
            (bucket, hits) for bucket, hits in conn.execute(sql, (activity, *span, *params))])

    async def summary(self, first_day: int, last_day: int, filters: Filters = NO_FILTERS
                      ) -> Summary:
        await self.roll_up()
        where, params = _filter_sql(filters)

        def run(conn: sqlite3.Connection) -> Summary:
            window = (first_day, last_day)
            by: dict[str, dict[str, int]] = {}
            for column in ("verb", "platform"):
                by[column] = dict(conn.execute(
                    f"SELECT {column}, SUM(hits) FROM tally_days WHERE day BETWEEN ? AND ?"
                    f"{where} GROUP BY {column} HAVING SUM(hits) > 0",
                    (*window, *params)).fetchall())
            decisions = dict(conn.execute(
                "SELECT decision, SUM(count) FROM tally_decisions WHERE day BETWEEN ? AND ?"
                " GROUP BY decision", window).fetchall())
            return Summary(sum(by["verb"].values()), by["verb"], by["platform"], decisions)

        return await self._db.read(run)

    async def seen(self, first_day: int, last_day: int, filters: Filters = NO_FILTERS
                   ) -> set[str]:
        await self.roll_up()
        where, params = _filter_sql(filters)
        return await self._db.read(lambda conn: {activity for (activity,) in conn.execute(
            f"SELECT activity FROM tally_days WHERE day BETWEEN ? AND ?{where}"
            " GROUP BY activity HAVING SUM(hits) > 0", (first_day, last_day, *params))})

    async def purge(self, *, now_ms: int, today: int) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM fingerprints WHERE expires < ?", (now_ms,))
            conn.execute("DELETE FROM day_keys WHERE day < ?", (today,))
            conn.execute("DELETE FROM dp_contributions WHERE period < ?", (today,))

        await self._db.write(lambda conn: transaction(conn, run))


def _registers(conn: sqlite3.Connection, activities: list[str], first_day: int,
               last_day: int) -> dict[str, dict[int, int]]:
    """The merged sketch registers (register → rank) of these activities over the days."""
    registers: dict[str, dict[int, int]] = {}
    if len(activities) <= _LEARNER_LOOKUPS:  # a range of the primary key each
        for activity in activities:
            registers[activity] = dict(conn.execute(
                "SELECT register, MAX(rank) FROM tally_learners WHERE activity=? AND day"
                " BETWEEN ? AND ? GROUP BY register", (activity, first_day, last_day)))
        return registers
    wanted = set(activities)
    for activity, register, rank in conn.execute(
            "SELECT activity, register, MAX(rank) FROM tally_learners"
            " WHERE day BETWEEN ? AND ? GROUP BY activity, register", (first_day, last_day)):
        if activity in wanted:
            registers.setdefault(activity, {})[register] = rank
    return registers


def _journal_has_hits(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM tally_journal)").fetchone()[0])


def _key(conn: sqlite3.Connection, day: int) -> bytes | None:
    row = conn.execute("SELECT key FROM day_keys WHERE day=?", (day,)).fetchone()
    return bytes(row[0]) if row else None


def _given(filters: Filters) -> list[tuple[str, str]]:
    """The filters set, as (dimension, value)."""
    return [(dim, value) for dim, value in vars(filters).items() if value is not None]


def _filter_sql(filters: Filters) -> tuple[str, list[str]]:
    clauses, params = [], []
    for column, value in (("verb", filters.verb), ("activity_type", filters.activity_type),
                          ("platform", filters.platform), ("credential", filters.credential)):
        if value is not None:
            clauses.append(f" AND {column}=?")
            params.append(value)
    return "".join(clauses), params
