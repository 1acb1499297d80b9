"""End to end: the real `lrs import`, `lrs forget` and `lrs purge` commands on a real store,
including an import killed with SIGKILL part-way and resumed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from lrs.config import Settings
from lrs.import_sources import FileSource
from lrs.importer import import_files
from lrs.storage import open_storage
from statements.query import StatementQuery
from tests.e2e.test_serve import LRS, environment, kill_part_way, run_lrs
from tests.factories import COURSE, make_agent, make_statement

pytestmark = pytest.mark.e2e
VIEWED = "http://id.tincanapi.com/verb/viewed"
NOW = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def prepare(env: dict[str, str], tmp_path: Path, retention: str) -> None:
    run_lrs("credentials", "create", "--name", "old-lms", "--scopes", "statements/write",
            "--retention", retention, env=env)
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps({"version": 1, "entries": [
        {"kind": "activity", "value": COURSE, "retention_days": 365}]}))
    run_lrs("catalogue", "load", str(catalogue), env=env)


def big_file(tmp_path: Path, count: int) -> Path:
    """`count` statements: one in four about the catalogued course (kept), the rest page
    views (tallied); one in three without an id."""
    path = tmp_path / "history.jsonl"
    with path.open("wb") as out:
        for n in range(count):
            if n % 4 == 0:
                statement = make_statement(actor=make_agent(f"learner{n}"), timestamp=NOW)
            else:
                statement = make_statement(
                    actor=make_agent(f"reader{n}"), verb={"id": VIEWED}, result=None,
                    object={"id": f"http://intranet/page/{n % 7}"}, timestamp=NOW,
                    context={"platform": "intranet"})
            if n % 3 == 0:
                del statement["id"]
            out.write(orjson.dumps(statement) + b"\n")
    return path


async def _stored(settings: Settings) -> tuple[list[str], Any]:
    storage = await open_storage(settings)
    try:
        page = await storage.statements.query(StatementQuery(limit=100_000))
        today = int(time.time() * 1000) // 86_400_000
        return ([orjson.loads(s)["id"] for s in page.statements],
                await storage.tally.summary(today - 2, today + 1))
    finally:
        await storage.close()


def stored(settings: Settings) -> tuple[list[str], Any]:
    """Kept statement ids (with repeats, if any) and the tally's totals."""
    return asyncio.run(_stored(settings))


def test_cli_import_killed_mid_file_resumes_with_nothing_lost_or_doubled(
        settings: Settings, tmp_path: Path) -> None:
    env = environment(settings, tmp_path)
    prepare(env, tmp_path, "tally")
    count = 3000
    path = big_file(tmp_path, count)
    checkpoint, _ = import_files(Settings(data_dir=tmp_path), FileSource(path))
    kill_part_way(["import", str(path), "--credential", "old-lms", "--batch-size", "5"], env,
                  tmp_path / "import.log", checkpoint, "position")
    interrupted = orjson.loads(checkpoint.read_bytes())
    assert not interrupted["done"] and 0 < interrupted["position"] < path.stat().st_size
    assert len(stored(settings)[0]) < count // 4  # really part-way

    # On MongoDB the killed process's transaction holds its ids until the server expires it;
    # the resumed import waits for that (lrs.importer), up to a couple of minutes.
    output = run_lrs("import", str(path), "--credential", "old-lms", env=env, timeout=240)

    assert "rejected 0" in output
    ids, totals = stored(settings)
    assert len(ids) == len(set(ids)) == count // 4 + (count % 4 > 0)
    assert totals.hits == count - len(ids)
    assert totals.decisions == {"full": len(ids), "tally": count - len(ids)}
    again = run_lrs("import", str(path), "--credential", "old-lms", env=env)
    assert "already imported" in again
    assert stored(settings) == (ids, totals)


def test_cli_import_writes_rejects_into_the_data_dir_and_exits_3(settings: Settings,
                                                                  tmp_path: Path) -> None:
    env = environment(settings, tmp_path)
    prepare(env, tmp_path, "full")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    path = inputs / "few.jsonl"
    path.write_text(json.dumps(make_statement()) + "\n" + '{"actor": 1}\n')
    done = subprocess.run([*LRS, "import", str(path), "--credential", "old-lms"], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 3, done.stderr
    assert "kept 1" in done.stdout and "rejected 1" in done.stdout
    checkpoint, rejects = import_files(Settings(data_dir=tmp_path), FileSource(path))
    assert f"rejected statements, with reasons: {rejects}" in done.stdout
    assert checkpoint.exists() and sorted(p.name for p in inputs.iterdir()) == ["few.jsonl"]
    [reject] = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert reject["line"] == 2 and reject["status"] == 400 and reject["problems"]
    unknown = subprocess.run([*LRS, "import", str(path), "--credential", "nobody"], env=env,
                             capture_output=True, text=True, check=False)
    assert unknown.returncode == 1 and "no credential named or keyed nobody" in unknown.stderr
    run_lrs("credentials", "create", "--name", "reader", "--scopes", "statements/read",
            env=env)
    reader = subprocess.run([*LRS, "import", str(path), "--credential", "reader"], env=env,
                            capture_output=True, text=True, check=False)
    assert reader.returncode == 1 and "may not write statements" in reader.stderr


def test_cli_forget_erases_and_says_when_already_done(settings: Settings,
                                                      tmp_path: Path) -> None:
    env = environment(settings, tmp_path)
    prepare(env, tmp_path, "full")
    alice, bob = make_agent("alice"), make_agent("bob")
    path = tmp_path / "people.jsonl"
    statements = [make_statement(actor=alice), make_statement(actor=bob),
                  make_statement(actor=bob, context={"instructor": alice})]
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    run_lrs("import", str(path), "--credential", "old-lms", env=env)

    first = run_lrs("forget", "--agent", json.dumps(alice), "--operator", "dpo", env=env)

    assert "statements deleted: 1, rewritten: 1" in first and "already" not in first
    ids, _ = stored(settings)
    assert sorted(ids) == sorted(s["id"] for s in statements[1:])
    second = run_lrs("forget", "--agent", json.dumps(alice), env=env)
    assert "this agent was already erased on" in second
    assert "statements deleted: 0, rewritten: 0" in second
    bad = subprocess.run([*LRS, "forget", "--agent", '{"mbox": "alice@example.com"}'],
                         env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "--agent.mbox" in bad.stderr


def test_cli_purge_dry_run_previews_and_purge_keeps_what_is_not_due(
        settings: Settings, tmp_path: Path) -> None:
    env = environment(settings, tmp_path)
    prepare(env, tmp_path, "full")
    path = tmp_path / "course.jsonl"
    path.write_text("\n".join(json.dumps(make_statement()) for _ in range(3)) + "\n")
    run_lrs("import", str(path), "--credential", "old-lms", env=env)
    ids = stored(settings)[0]

    preview = run_lrs("purge", "--dry-run", "--as-of", "2099-01-01", env=env)
    now = run_lrs("purge", env=env)

    assert "would delete 3 statements" in preview and f"catalogue:activity:{COURSE}" in preview
    assert "deleted 0 statements" in now
    assert stored(settings)[0] == ids
    refused = subprocess.run([*LRS, "purge", "--as-of", "2099-01-01"], env=env,
                             capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "--dry-run" in refused.stderr
