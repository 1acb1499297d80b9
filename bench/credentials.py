"""What signed credentials cost (issue 21), through lrs.vc's own functions, in this process.

    python -m bench.credentials [--seconds 2] [--objectives 1,10,50] [--no-save]

Per credential (an Open Badges 3.0 OpenBadgeCredential for one assessed objective with two
pieces of evidence): building it (`credentials.open_badge`), canonicalising it alone
(`dataintegrity.canonicalize`, RDFC-1.0 by pyld), signing it as `eddsa-rdfc-2022`
(`issue.sign`: two canonicalisations, two SHA-256, one Ed25519 signature), encoding it as a
VC-JWT (`issue.as_jwt`), and verifying each (`verify.verify_credential`; a VC-JWT carries its
Data Integrity proof, OB 3.0 §8.2, so verifying it checks the JWS *and* that proof: the
JWS alone is `vcjwt.decode`). Then a whole export of a learner with 1, 10, 30 and 50 objectives
assessed as met: `issue.issue_record` (a badge each and a CLR bundling them, each as
JSON-LD and VC-JWT), `export.space_document` and `export.export_archive` (the zip), and its
verification as the import does it (`imports.verify_archive`; an archive it refuses is
recorded with its problems, not timed). No HTTP: the export's route
adds reading the space and the statements, which bench.space and the query benchmarks time.
Each figure is the mean of as many runs as fit in --seconds (at least one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.report import machine_info, write_json
from lrs.vc import dataintegrity, issue, vcjwt
from lrs.vc.credentials import AssessedObjective, Evidence, Issuer, open_badge
from lrs.vc.export import SpaceItem, export_archive, space_document
from lrs.vc.imports import verify_archive
from lrs.vc.keys import IssuerKey, did_key_for
from lrs.vc.verify import resolver
from statements.errors import InvalidRequest

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LEARNER = "mailto:ada.lovelace@example.org"


def objective(number: int) -> AssessedObjective:
    """An objective assessed as met, with an entry and a statement as its evidence."""
    return AssessedObjective(
        iri=f"https://case.example.org/uri/item-{number:04d}",
        title=f"Runs a site induction, level {number}",
        description="Walks a new starter through the site's hazards, exits and first aid.",
        framework="Site safety competencies", outcome="met",
        assessed_at=NOW, assessor="Grace Hopper", comment="Clear and thorough.",
        code=f"SS.{number}",
        evidence=(
            Evidence(f"Induction for the night shift {number}",
                     narrative="What happened: I ran the induction for three starters. "
                               "What I learned: start with the exits. What I will do: "
                               "add the chemical store.", genre="Reflection"),
            Evidence("Completed: Site safety refresher", description="score 0.92",
                     genre="Statement", url=f"https://lms.example.com/courses/safety-{number}"),
        ))


def timed(action: Callable[[], object], seconds: float) -> dict[str, float]:
    """Mean and median milliseconds of `action` over as many runs as fit in `seconds`."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while not samples or time.perf_counter() < deadline:
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return {"runs": len(samples), "mean_ms": statistics.fmean(samples),
            "median_ms": statistics.median(samples)}


def per_credential(key: IssuerKey, seconds: float) -> dict[str, dict[str, float]]:
    """The steps of one badge, each timed."""
    issuer = Issuer(key.did, "Tally LRS")
    badge = open_badge(objective(1), LEARNER, issuer)
    signed = issue.sign(badge, key, NOW)
    token = issue.as_jwt(signed, key)
    resolve = resolver()
    public = key.private_key.public_key()
    return {
        "build": timed(lambda: open_badge(objective(1), LEARNER, issuer), seconds),
        "canonicalize": timed(lambda: dataintegrity.canonicalize(badge), seconds),
        "sign_eddsa_rdfc_2022": timed(lambda: issue.sign(badge, key, NOW), seconds),
        "encode_vc_jwt": timed(lambda: issue.as_jwt(signed, key), seconds),
        "verify_eddsa_rdfc_2022": timed(
            lambda: asyncio.run(issue_verify(signed, resolve)), seconds),
        "verify_vc_jwt_with_proof": timed(
            lambda: asyncio.run(issue_verify(token, resolve)), seconds),
        "verify_jws_only": timed(lambda: vcjwt.decode(token, public), seconds),
    }


async def issue_verify(credential: dict[str, Any] | str, resolve: Any) -> None:
    from lrs.vc.verify import verify_credential

    await verify_credential(credential, resolve, NOW)


def export(key: IssuerKey, count: int, seconds: float) -> dict[str, Any]:
    """A whole export of a learner with `count` met objectives, and its verification."""
    objectives = [objective(n) for n in range(1, count + 1)]
    items = [SpaceItem(f"entry-{n}", "entry", b'{"title": "an entry"}') for n in range(count)]

    def run() -> bytes:
        record = issue.issue_record(objectives, LEARNER, "Ada Lovelace", key, "Tally LRS", NOW)
        document = space_document(LEARNER, "Ada Lovelace", objectives, items, [], NOW)
        return export_archive(document, record, key, "Tally LRS")

    archive = run()
    resolve = resolver()
    figures: dict[str, Any] = {
        "objectives": count, "archive_bytes": len(archive),
        "credentials": 2 * (count + 1),  # each badge and the CLR, JSON-LD and VC-JWT
        "export": timed(run, seconds)}
    try:
        figures["verify_archive"] = timed(
            lambda: asyncio.run(verify_archive(archive, resolve, NOW)), seconds)
    except InvalidRequest as refused:  # a finding, not a crash: say what was refused
        figures["verify_archive"] = {"refused": [f"{p.path}: {p.message}"
                                                 for p in refused.problems]}
    return figures


def table(document: dict[str, Any]) -> str:
    """The figures as text."""
    steps = document["per_credential"]
    sign = steps["sign_eddsa_rdfc_2022"]["mean_ms"]
    lines = ["per credential (one OB 3.0 badge)      mean ms  median ms  runs  x sign"]
    for name, figures in steps.items():
        lines.append(f"  {name:<36} {figures['mean_ms']:8.2f} {figures['median_ms']:9.2f} "
                     f"{figures['runs']:5d} {figures['mean_ms'] / sign:7.3f}")
    lines.append("whole export (badges + CLR, JSON-LD + VC-JWT, zip)   export ms   "
                 "per badge ms   verify ms   bytes")
    for row in document["exports"]:
        n = row["objectives"]
        lines.append(f"  {n:3d} objectives {'':34} {row['export']['mean_ms']:9.1f} "
                     f"{row['export']['mean_ms'] / n:14.1f} "
                     f"{_verify_ms(row['verify_archive']):>11} {row['archive_bytes']:7,}")
    return "\n".join(lines)


def _verify_ms(figures: dict[str, Any]) -> str:
    if "refused" in figures:
        return "refused: " + "; ".join(figures["refused"])
    return f"{figures['mean_ms']:.1f}"


def main(argv: list[str] | None = None) -> int:
    """Time the credential steps and whole exports; print them, save JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.credentials", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="Seconds per measurement (default 2; at least one run each).")
    parser.add_argument("--objectives", default="1,10,30,50",
                        help="Met objectives of the whole exports (default 1,10,30,50).")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--no-save", action="store_true", help="Print only.")
    args = parser.parse_args(argv)
    private = Ed25519PrivateKey.generate()
    key = IssuerKey(private, did_key_for(private))
    started = datetime.now(UTC)
    machine = machine_info()
    document: dict[str, Any] = {
        "schema": 1, "benchmark": "credentials", "started": started.isoformat(),
        "machine": machine, "seconds_per_measurement": args.seconds,
        "per_credential": per_credential(key, args.seconds),
        "exports": [export(key, int(n), args.seconds) for n in args.objectives.split(",")],
    }
    document["finished"] = datetime.now(UTC).isoformat()
    document["machine"]["load_average_after"] = list(os.getloadavg())
    print(table(document))
    if not args.no_save:
        path = args.results / f"{started:%Y-%m-%d}-credentials.json"
        write_json(path, document)
        print(f"results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
