"""The results table and docs/benchmarks.md render from a results document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import NOTES_MARKER, machine_info, markdown, table, write_docs

MB = 2**20


def _scenario(scenario_id: str, name: str, *, statements_per_s: float | None = None,
              requests_per_s: float = 100.0, p99: float = 5.0, rss_mb: int = 100,
              errors: int = 0, **extra: Any) -> dict[str, Any]:
    return {"id": scenario_id, "group": "g", "name": name, "clients": 8, "requests": 500,
            "ok": 500 - errors, "duration_s": 5.0, "errors": {"status 500": errors} if errors
            else {}, "error_count": errors, "socket_errors": {}, "followed": 0,
            "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": p99, "max": p99, "mean": 1.5},
            "requests_per_s": requests_per_s, "statements_per_s": statements_per_s,
            "resources": {"watched_s": 5.0, "server": {
                "cpu_s": 4.0, "cpu_share": 0.8, "peak_rss_bytes": rss_mb * MB,
                "high_water_bytes": rss_mb * MB}},
            "ratios": {"parse": 0.5, "insert": 0.25} if statements_per_s else None,
            "warmup": None, **extra}


def _document() -> dict[str, Any]:
    return {
        "schema": 2, "engine": "sqlite", "engine_label": "SQLite engine", "mode": "full",
        "started": "2026-11-28T12:00:00+00:00", "error": None,
        "load_tool": {"name": "wrk", "description": "wrk 4.1.0", "parallelism": 1},
        "config": {"clients": 8, "duration_s": 10.0, "max_requests": 50_000, "warmup_s": 2.0,
                   "server_workers": 1},
        "statements": {"count": 5000, "bytes_min": 600, "bytes_max": 3000,
                       "bytes_mean": 1300.0},
        "machine": machine_info(),
        "floor": {"parse": [{"batch": 100, "statements_per_s": 40_000.0,
                             "us_per_statement": 25.0}],
                  "insert": [{"batch": 100, "statements_per_s": 80_000.0,
                              "us_per_statement": 12.5}]},
        "fills": [{"what": "statements", "from": 0, "to": 100_000, "seconds": 60.0}],
        "scenarios": [
            _scenario("post-100", "POST batch of 100 (kept)", statements_per_s=20_000.0),
            _scenario("post-100-tallied", "POST batch of 100 (all tallied)",
                      statements_per_s=10_000.0),
            _scenario("post-100-mix", "POST batch of 100 (10% kept, 90% tallied)",
                      statements_per_s=12_000.0, decisions={"full": 120, "tally": 1080}),
            _scenario("post-1-c8", "POST 1 statement, 8 clients", statements_per_s=3_500.0,
                      p99=25.0),
            _scenario("get-agent", "GET by agent at 100,000", stored=100_000, p99=4.0),
            _scenario("aggregates-popular", "Popularity at 10,000,000 hits",
                      hits=10_000_000, p99=3.0, rss_mb=400, errors=2),
        ],
    }


def _row(text: str, scenario: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {scenario} |"))


def test_the_targets_are_judged_from_the_figures() -> None:
    text = markdown([_document()])
    assert _row(text, "kept statements, batches of 100").endswith("| 20,000 statements/s | met |")
    assert _row(text, "tallied statements, batches of 100").endswith("| **not met** |")
    # Fast enough, but the p99 is over 20 ms.
    assert "p99 25.0 ms | **not met** |" in _row(text, "single-statement POST, 8 clients")
    # Measured at 100,000 only: no verdict.
    assert _row(text, "GET by agent / activity / verb at 1,000,000 statements").endswith(
        "at 100,000 (not 1,000,000) | n/a |")
    # Under 10 ms, but with errors: a figure with errors is not a figure.
    assert _row(text, "popularity query at 10,000,000 hits").endswith("| **not met** |")
    assert "400 MB (Popularity at 10,000,000 hits) | **not met** |" in _row(
        text, "server peak RSS under any scenario")


def test_the_machine_floors_and_scenarios_are_in_the_tables() -> None:
    document = _document()
    text = markdown([document])
    assert f"{document['machine']['cpu_count']} cores" in text
    assert "| raw insert into a bare table or collection | 100 | 80,000 | 12.5 |" in text
    assert "| POST batch of 100 (kept) | 20,000 statements/s | 1.0 | 2.0 | 5.0 | 4.0 (0.80) " \
           "| 100 | 50.0% | 25.0% | 0 |" in text
    assert "POST batch of 100 (10% kept, 90% tallied): 120 kept, 1,080 tallied (10.0% kept)" \
        in text
    printed = table(document)
    for scenario in document["scenarios"]:
        assert scenario["name"] in printed
    assert "errors: status 500: 2" in printed


def test_regenerating_keeps_the_notes(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    write_docs(path, [_document()])
    path.write_text(path.read_text() + "\nThe profile shows the time goes to JSON.\n")
    write_docs(path, [_document()])
    text = path.read_text()
    assert text.count(NOTES_MARKER) == 1
    assert text.endswith("The profile shows the time goes to JSON.\n")
