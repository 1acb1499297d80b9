"""The privacy report as Markdown: the facts of `lrs.privacy.facts`, and nothing else, under
the headings of GDPR Art. 30(1) (record of processing) and Art. 35(7) (DPIA)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def shown(value: Any) -> str:
    """How one fact is written: the same spelling for every value, so a test can find each
    fact of the JSON answer in the Markdown."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping) and not value:
        return "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(v) for v in value) if value else "none"
    return str(value).replace("|", "\\|")


def _label(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _facts(values: Mapping[str, Any]) -> list[str]:
    lines = []
    for name, value in values.items():
        if isinstance(value, Mapping):
            lines.append(f"- {_label(name)}:")
            lines += [f"  {line}" for line in _facts(value)] or ["  - none"]
        else:
            lines.append(f"- {_label(name)}: {shown(value)}")
    return lines


def _table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return ["- none"]
    names = list(rows[0])
    return [f"| {' | '.join(_label(n) for n in names)} |",
            f"|{'---|' * len(names)}",
            *(f"| {' | '.join(shown(row[n]) for n in names)} |" for row in rows)]


def _items(values: Iterable[str]) -> list[str]:
    return [f"- {shown(v)}" for v in values]


def render(facts: Mapping[str, Any]) -> str:
    """The report for a DPO to read and complete."""
    kept, tally, forwarding = facts["kept_in_full"], facts["tally"], facts["forwarding"]
    uniques = tally["unique_learners"]
    dp = tally["differential_privacy"]
    lines = [
        "# Record of processing and DPIA draft: tally-lrs",
        "",
        f"Generated at {facts['generated_at']} from the running configuration "
        f"(format version {facts['format_version']}). Every fact below is read from the "
        "settings, the code and the store; what only a person can say is listed at the end.",
        "",
        "## Part 1: Record of processing activities (GDPR Art. 30(1))",
        "",
        "### (a) Controller, representative and data protection officer",
        "",
        "To be completed by hand (see the end).",
        "",
        "### (b) Purposes of the processing",
        "",
        *_table(facts["purposes"]),
        "",
        "### (c) Categories of data subjects and of personal data",
        "",
        "Data subjects:",
        "",
        *_items(facts["data_subjects"]),
        "",
        "Categories of personal data:",
        "",
        *_items(facts["data_categories"]),
        "",
        "### (d) Categories of recipients: who can read what, by role",
        "",
        *_table(facts["access_by_role"]),
        "",
        "Sign-in:",
        "",
        *_facts(facts["sign_in"]),
        "",
        f"Metrics exposure: {shown(facts['metrics_exposure'])}",
        "",
        "Forwarding (statements sent on to other systems):",
        "",
    ]
    if forwarding is None:
        lines += ["Not available in this version (no forwarding).", ""]
    else:
        lines += ["Destinations:", "", *_table(forwarding["destinations"]), "",
                  "Rules:", "", *_table(forwarding["rules"]), "",
                  *_facts({"forwarding_settings": forwarding["settings"]}), ""]
    lines += [
        "### (e) Transfers to third countries",
        "",
        "The hosts data goes to: the store (below) and the forwarding destinations above. "
        "Whether any is outside the EEA is to be completed by hand.",
        "",
        "### (f) Time limits for erasure",
        "",
        "Kept statements, by retention class (the first that applies wins; `not set` keeps "
        "them for ever):",
        "",
        *_table(kept["retention_periods"]),
        "",
        f"- Purge interval minutes: {shown(kept['purge_interval_minutes'])}",
        f"- Tally fingerprints kept (days): {shown(tally['fingerprint_days'])}",
        "",
        "### (g) Technical and organisational security measures",
        "",
        "Where the data lives:",
        "",
        *_facts(facts["storage"]),
        "",
        "Keys and their lifetimes:",
        "",
        *_table(facts["key_lifetimes"]),
        "",
        "## Part 2: Data protection impact assessment, draft (GDPR Art. 35(7))",
        "",
        "### (a) Systematic description of the processing",
        "",
        "The retention chain decides, per statement, whether it is kept in full or tallied "
        f"(consulted in this order): {shown(kept['retention_chain'])}.",
        "",
        f"- Server default: {shown(kept['server_default'])}",
        "- Credentials by retention default:",
        *[f"  {line}" for line in _facts(kept["credential_defaults"])],
        "- Machine clients by retention default:",
        *[f"  {line}" for line in _facts(kept["machine_client_defaults"])],
        "- Catalogue entries by kind:",
        *([f"  {line}" for line in _facts(kept["catalogue_entries"])] or ["  - none"]),
        "",
        "### (b) Necessity and proportionality: what is tallied, and how it is anonymised",
        "",
        "A tallied statement leaves only these fields; everything else (actor, authority, "
        "result, context, extensions) is dropped at the door:",
        "",
        *_table(tally["fields"]),
        "",
        "Unique learners:",
        "",
        *_facts(uniques),
        "",
        f"Small-group suppression: {shown(tally['threshold_kind'])}. The fixed k is "
        f"{shown(tally['suppression_threshold'])}: with differential privacy off, a figure "
        "below k is reported as fewer than k.",
        "",
        "Differential privacy: " + ("not available in this version." if dp is None
                                    else "the settings in effect:"),
        *(["", *_facts(dp)] if dp is not None else []),
        "",
        "### (c) Risks to the rights and freedoms of data subjects",
        "",
        "What remains with the measures below (docs/privacy.md explains each):",
        "",
        *_items(facts["risks"]),
        "",
        "Limits of erasure:",
        "",
        *_items(facts["erasure"]["limits"]),
        "",
        "### (d) Measures envisaged to address the risks",
        "",
        "Erasure (`lrs forget`, `POST /api/v1/admin/forget`) removes:",
        "",
        *_items(facts["erasure"]["erased"]),
        "",
        f"The audit log records an erasure by {shown(facts['erasure']['audit_subject'])}, "
        "never the identifier.",
        "",
        "## To complete by hand",
        "",
        *_items(facts["to_complete_by_hand"]),
        "",
    ]
    return "\n".join(lines)
