"""The space export: signed credentials, the space as JSON and a readable page, in one zip."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

import orjson

from lrs.vc.credentials import AssessedObjective, iso
from lrs.vc.issue import IssuedRecord
from lrs.vc.keys import IssuerKey

CREDENTIALS_DIR = "credentials/"
README = """\
This archive is the learning record of {name}, exported on {when}.

credentials/   Verifiable credentials signed by {issuer} ({did}):
               badge-N.json  an Open Badges 3.0 OpenBadgeCredential for each objective a
                             manager assessed as met (W3C VC 2.0, Data Integrity proof
                             eddsa-rdfc-2022);
               badge-N.jwt   the same credential as a VC-JWT (Open Badges 3.0 section 8.2);
               clr.json/.jwt a CLR 2.0 ClrCredential bundling every badge.
space.json     Everything in the space, as it was: entries, files, assessments, statements.
record.html    The same, readable in a browser.

Any VC 2.0 verifier checks the .json credentials (for example the Digital Credentials
Consortium's verifier-core); another Tally LRS imports this archive, verifying each
credential, with POST /api/v1/space/import.
"""


@dataclass(frozen=True)
class SpaceItem:
    """One thing from the learner's space, opened."""

    id: str
    kind: str
    content: bytes


def _item_json(item: SpaceItem) -> dict[str, Any]:
    try:
        return {"id": item.id, "kind": item.kind, "content": orjson.loads(item.content)}
    except orjson.JSONDecodeError:
        encoded = base64.b64encode(item.content).decode("ascii")
        return {"id": item.id, "kind": item.kind, "content_base64": encoded}


def space_document(
    learner: str,
    name: str,
    objectives: Sequence[AssessedObjective],
    items: Sequence[SpaceItem],
    statements: Sequence[dict[str, Any]],
    exported: datetime,
) -> dict[str, Any]:
    """The whole space as one JSON document (space.json)."""
    return {
        "learner": {"id": learner, "name": name},
        "exported": iso(exported),
        "assessments": [
            {"objective": o.iri, "title": o.title, "framework": o.framework,
             "outcome": o.outcome, "assessed": iso(o.assessed_at), "assessor": o.assessor,
             "comment": o.comment}
            for o in objectives
        ],
        "space": [_item_json(item) for item in items],
        "statements": list(statements),
    }


def _section(title: str, rows: list[str]) -> str:
    body = "".join(rows) if rows else "<p>None.</p>"
    return f"<section><h2>{escape(title)}</h2>{body}</section>"


def _badge_html(badge: dict[str, Any]) -> str:
    achievement = badge["credentialSubject"]["achievement"]
    alignment = achievement.get("alignment", [{}])[0]
    evidence = "".join(
        f"<li><strong>{escape(str(e.get('name', '')))}</strong> "
        f"{escape(str(e.get('narrative', '')))}</li>" for e in badge.get("evidence", []))
    return (
        f"<article><h3>{escape(achievement['name'])}</h3>"
        f"<p>{escape(achievement.get('description', ''))}</p>"
        f"<dl><dt>Framework</dt><dd>{escape(str(alignment.get('targetFramework', '')))}</dd>"
        f"<dt>Objective</dt><dd><code>{escape(str(alignment.get('targetUrl', '')))}</code></dd>"
        f"<dt>Awarded</dt><dd>{escape(badge['validFrom'][:10])}</dd>"
        f"<dt>Credential</dt><dd><code>{escape(badge['id'])}</code></dd></dl>"
        f"<h4>Evidence</h4><ul>{evidence}</ul></article>"
    )


_REFLECTION = (("happened", "What happened"), ("learned", "What I learned"),
               ("next", "What I will do"))


def _entry_html(entry: dict[str, Any]) -> str:
    when = str(entry.get("occurred") or entry.get("created", ""))[:10]
    parts = [f"<article><h3>{escape(str(entry.get('title', '')))}</h3>"
             f"<p>{escape(str(entry.get('kind', '')))}, {escape(when)}</p><dl>"]
    reflection = entry.get("reflection") or {}
    for key, label in _REFLECTION:
        if reflection.get(key):
            parts.append(f"<dt>{label}</dt><dd>{escape(str(reflection[key]))}</dd>")
    for key, label in (("tags", "Tags"), ("links", "Links")):
        if entry.get(key):
            parts.append(f"<dt>{label}</dt><dd>{escape(', '.join(map(str, entry[key])))}</dd>")
    if entry.get("files"):
        names = ", ".join(str(f.get("name", "")) for f in entry["files"])
        parts.append(f"<dt>Files</dt><dd>{escape(names)} (in space.json)</dd>")
    return "".join(parts) + "</dl></article>"


def _item_html(item: dict[str, Any]) -> str:
    content = item.get("content")
    if item["kind"] == "entry" and isinstance(content, dict):
        return _entry_html(content)
    if item["kind"] == "credential" and isinstance(content, dict):
        credential = content.get("credential") or {}
        issuer = (content.get("verification") or {}).get("issuer", "")
        return (f"<article><h3>{escape(str(credential.get('name', '')))}</h3><p>An imported "
                f"credential, verified: signed by <code>{escape(str(issuer))}</code></p>"
                "</article>")
    text = orjson.dumps(content, option=orjson.OPT_INDENT_2).decode()
    return (f"<article><h3>{escape(item['kind'])}</h3><pre>{escape(text)}</pre></article>")


def html_page(document: dict[str, Any], record: IssuedRecord, key: IssuerKey) -> str:
    """record.html: the credentials, assessments and space contents, readable (no script)."""
    learner = document["learner"]
    assessments = [
        f"<tr><td>{escape(a['title'])}</td><td>{escape(a['framework'])}</td>"
        f"<td>{escape(a['outcome'].replace('-', ' '))}</td><td>{escape(a['assessed'][:10])}</td>"
        f"<td>{escape(a['assessor'])}</td><td>{escape(a['comment'])}</td></tr>"
        for a in document["assessments"]
    ]
    table = ("<table><thead><tr><th>Objective</th><th>Framework</th><th>Outcome</th>"
             "<th>Date</th><th>Assessor</th><th>Comment</th></tr></thead><tbody>"
             + "".join(assessments) + "</tbody></table>") if assessments else ""
    items = [_item_html(item) for item in document["space"] if item["kind"] != "file"]
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Learning record of {escape(learner['name'])}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:60em;"
        "padding:0 1em;color:#1a1a1a;line-height:1.5}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #888;"
        "padding:.3em .5em;text-align:left;vertical-align:top}th{background:#eee}"
        "article{border-top:1px solid #ccc;padding:.5em 0}pre{white-space:pre-wrap}"
        "dt{font-weight:bold}li,dd{white-space:pre-line}</style></head><body>"
        f"<h1>Learning record of {escape(learner['name'])}</h1>"
        f"<p>Exported {escape(document['exported'])}. Credentials signed by "
        f"<code>{escape(key.did)}</code>.</p>"
        + _section("Credentials", [_badge_html(b) for b in record.badges])
        + _section("Assessments", [table] if table else [])
        + _section("My space", items)
        + "</body></html>\n"
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "badge"


def export_archive(
    document: dict[str, Any], record: IssuedRecord, key: IssuerKey, organisation: str
) -> bytes:
    """The zip: credentials/ (each badge and the CLR as JSON-LD and VC-JWT), space.json,
    record.html and README.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (badge, token) in enumerate(
                zip(record.badges, record.badge_jwts, strict=True), start=1):
            stem = f"{CREDENTIALS_DIR}badge-{number}-{_slug(badge['name'])}"
            archive.writestr(f"{stem}.json", orjson.dumps(badge, option=orjson.OPT_INDENT_2))
            archive.writestr(f"{stem}.jwt", token + "\n")
        if record.clr is not None and record.clr_jwt is not None:
            archive.writestr(f"{CREDENTIALS_DIR}clr.json",
                             orjson.dumps(record.clr, option=orjson.OPT_INDENT_2))
            archive.writestr(f"{CREDENTIALS_DIR}clr.jwt", record.clr_jwt + "\n")
        archive.writestr("space.json", orjson.dumps(document, option=orjson.OPT_INDENT_2))
        archive.writestr("record.html", html_page(document, record, key))
        archive.writestr("README.txt", README.format(
            name=document["learner"]["name"], when=document["exported"],
            issuer=organisation, did=key.did))
    return buffer.getvalue()
