"""The facts of the privacy report, from the settings, the code's constants and the store.

Every value here is read, not written: the tally's fields from `aggregation.hits.Hit`, the
scopes per role from `lrs.people.ROLE_SCOPES`, the retention periods from the catalogue in
the store and the settings, the sketch's size from `aggregation.sketch`. Settings that other
features add later (the key period and differential privacy, forwarding) are read with
`getattr`, so the report says "not available" until they exist.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pluggy
from pydantic import SecretStr

from aggregation import learners, sketch
from aggregation.hits import Hit
from lrs.admin.settings_view import metrics_exposure
from lrs.config import Settings
from lrs.credentials import Credential, Retention
from lrs.people import ROLE_SCOPES, Role
from lrs.storage import Storage
from plugins.catalogue import Catalogue
from statements.erasure import Change

FORMAT_VERSION = 1

# What each Hit field holds; a field added to Hit without a line here is still reported,
# by its name (and a test asks for its line).
HIT_FIELDS = {
    "activity": "the object activity's IRI",
    "verb": "the verb's IRI",
    "activity_type": "the object's activity type",
    "platform": "context.platform",
    "credential": "the credential (platform) that posted it",
    "hour": "the hour (UTC) of its timestamp, else of its storage",
}
ERASED = {
    "delete": "statements whose actor is the person, deleted",
    "rewrite": "statements that otherwise name the person, rewritten without them",
    "document_agents": "the person's State and Agent Profile documents, deleted",
    "attachments": "attachments no remaining statement refers to, deleted",
}
ROLE_READS = {
    Role.ADMIN: "credentials, the catalogue, the settings in effect, the audit log, erasure",
    Role.COMPLIANCE: "kept statements, compliance reports, evidence exports (identifying)",
    Role.ANALYST: "aggregates and the dashboard only: counts, never an identifier",
    Role.LEARNER: "their own kept statements and portfolio",
    Role.MANAGER: "only the evidence a learner granted them, until it expires or is revoked",
}
ERASURE_LIMITS = (
    "backups taken before an erasure still hold the person until they expire; restoring one "
    "brings them back (run the erasure again)",
    "a keyring backup taken before an erasure keeps that learner's space readable (an "
    "envelope space with the server key) until the backup expires: keep keyring backups "
    "short (docs/personal-space.md)",
    "the learner-hash key of a period still open is in the store and its backups: the "
    "period's sketch can be tested against a person until the key is destroyed",
    "the tally holds no identity, so there is nothing in it to erase or to hand over",
    "copies already forwarded to a destination are that recipient's to erase",
)
DATA_SUBJECTS = (
    "learners: the actors and other agents named in statements and documents",
    "staff who sign in (admins, compliance officers, analysts, managers): subject, name, "
    "roles, groups",
    "platforms' operators: credential names",
)
DATA_CATEGORIES = (
    "kept statements: identity (mbox, account), activity, result, time, context; "
    "attachments (e.g. certificates)",
    "State and Agent Profile documents a platform stores per learner",
    "sessions of people signed in (subject, name, roles, groups, until they end)",
    "frameworks of objectives and the groups they are assigned to (no person named); "
    "managers' assessments, which are kept statements",
    "learners' own spaces: entries, reflections and files they write, encrypted per learner "
    "(sealed: only they can open them); who has one, in a keyring kept apart "
    "(docs/personal-space.md)",
    "learners' grants and share links (lrs.sharing): who granted whom (agent, name, e-mail), "
    "the objective, the dates, each read (reader, time); the evidence only sealed, its key "
    "destroyed at revocation or expiry",
    "the audit log: operator, action, time, counts; erasures by keyed reference only",
    "the tally: counts per the fields below, with no identity",
    "learners' own history, for those who opt in: who keeps one; sealed copies of their "
    "tallied statements that only they can open (docs/personal-space.md)",
)

BY_HAND = (
    "the controller's name and contact details, its representative and DPO (Art. 30(1)(a))",
    "the lawful basis of each purpose (Art. 6), and information to learners (Art. 13/14)",
    "whether a forwarding destination or the store's host is outside the EEA, and the "
    "safeguards of that transfer (Art. 30(1)(e), Chapter V)",
    "processors: the hosting of the store, the identity provider (Art. 28 contracts)",
    "the likelihood and severity of each risk, and the DPO's opinion (Art. 35(2), 35(7)(c))",
    "how long backups are kept, and who holds them",
)


# Settings of features other branches add (the key period, differential privacy,
# forwarding), found by name so the report works before and after they are merged; the
# report lists the names it found with their values.
KEY_PERIOD_MARK = "key_period"
DP_MARKS = ("dp_", "differential_privacy", "epsilon", "privacy_budget")
FORWARDING_SETTING_PREFIX = "forwarding_"


def _named(settings: Settings, *marks: str, prefix: bool = False) -> dict[str, Any]:
    """Every setting whose name starts with (`prefix`) or contains one of `marks`, secrets
    reported as set or not, other values as JSON scalars."""
    found: dict[str, Any] = {}
    for name in sorted(type(settings).model_fields):
        if not any(name.startswith(m) if prefix else m in name for m in marks):
            continue
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            found[f"{name}_set"] = True
        elif isinstance(value, (str, int, float, bool)) or value is None:
            found[name] = value
        else:
            found[name] = str(getattr(value, "value", value))
    return found


def key_period(settings: Settings) -> str:
    """The unique-learner key period: the setting named `*key_period*`, else a day (the
    period of `aggregation.learners.new_day_key` before that setting existed)."""
    found = _named(settings, KEY_PERIOD_MARK)
    return str(next(iter(found.values()), None) or "day")


def dp_settings(settings: Settings) -> dict[str, Any] | None:
    """The differential privacy settings, or None in a version without them."""
    return _named(settings, *DP_MARKS) or None


def dp_enabled(settings: Settings) -> bool:
    """Whether differential privacy is on: a `*enabled*` setting true, or a `*mode*` one
    other than off."""
    for name, value in (dp_settings(settings) or {}).items():
        if "enabled" in name and value is True:
            return True
        if "mode" in name and isinstance(value, str) and value.lower() not in ("off", "none"):
            return True
    return False


def where_data_lives(settings: Settings, engine: str) -> dict[str, Any]:
    """The engine and the store's address without user name, password or options."""
    url = urlsplit(settings.store_url())
    database = None
    if engine == "sqlite":
        location = settings.store_url().removeprefix("sqlite:///")
    else:
        # The hosts (a replica set lists several) after any user:password@.
        location = f"{url.scheme}://{url.netloc.rpartition('@')[2]}"
        # As the engine opens it: the URL's database, else LRS_MONGODB_DATABASE.
        database = url.path.lstrip("/") or settings.mongodb_database
    return {"engine": engine, "location": location, "database": database,
            "data_dir": str(settings.data_dir),
            "request_log": "standard output, one JSON line per request (route template, "
                           "status, credential name; never a path, query or body)"}


def retention_periods(settings: Settings, catalogue: Catalogue) -> list[dict[str, Any]]:
    """Each retention class in force (plugins.retention's order): catalogue entries with a
    period, verbs, then the default (None: kept for ever)."""
    periods = [{"class": f"catalogue:{e.kind}:{e.value}", "name": e.name,
                "days": e.retention_days} for e in catalogue if e.retention_days is not None]
    periods += [{"class": f"verb:{verb}", "name": None, "days": days}
                for verb, days in sorted(settings.retention_verb_days.items())]
    periods.append({"class": "default", "name": None, "days": settings.retention_default_days})
    return periods


def credential_defaults(credentials: list[Credential]) -> dict[str, int]:
    """Unrevoked credentials by retention default, and how many are bound to a person
    (their authority is not the credential's own account)."""
    active = [c for c in credentials if c.revoked is None]
    counts = Counter(c.retention.value for c in active)
    bound = sum(1 for c in active if c.authority.get("account", {}).get("name") != c.key)
    return {"full": counts[Retention.FULL.value], "tally": counts[Retention.TALLY.value],
            "bound_to_a_person": bound, "revoked": len(credentials) - len(active)}


def access_by_role(settings: Settings) -> list[dict[str, Any]]:
    """Each role: the claim values that grant it (the role map), its scopes, what it reads."""
    return [{"role": role.value,
             "claim_values": sorted(v for v, r in settings.oidc_role_map.items()
                                    if r == role.value),
             "scopes": sorted(scope.value for scope in ROLE_SCOPES[role]),
             "reads": ROLE_READS[role]} for role in Role]


def tally_facts(settings: Settings) -> dict[str, Any]:
    """What is tallied and how it is anonymised."""
    period = key_period(settings)
    return {
        "fields": [{"name": f.name, "holds": HIT_FIELDS.get(f.name, f.name)}
                   for f in dataclasses.fields(Hit)],
        "fingerprint_days": settings.fingerprint_days,
        "unique_learners": {
            "sketch": "HyperLogLog", "registers": sketch.REGISTERS,
            "standard_error": round(1.04 / sketch.REGISTERS ** 0.5, 4),
            "hash": f"HMAC-SHA256 truncated to {learners.DIGEST_BYTES * 8} bits",
            "key_bytes": learners.DAY_KEY_BYTES, "key_period": period,
            "key_destroyed_minutes_after_period": settings.day_key_grace_minutes,
            "across_periods": f"person-{period}s (a person counts once per {period})",
        },
        "suppression_threshold": settings.suppression_threshold,
        "threshold_kind": "noisy threshold (differential privacy)" if dp_enabled(settings)
                          else "fixed k",
        "differential_privacy": dp_settings(settings),
    }


def key_lifetimes(settings: Settings) -> list[dict[str, Any]]:
    """The keys and secrets that keep pseudonymised data linkable, and how long they live."""
    period = key_period(settings)
    return [
        {"key": "learner-hash key", "links": "a person's hits within one key period",
         "lifetime": f"one {period}, destroyed {settings.day_key_grace_minutes} minutes "
                     "after it closes"},
        {"key": "audit-log secret", "links": "an erasure record to the identifier it erased",
         "lifetime": "the store's (created on first use, in the store and its backups)"},
        {"key": "session secret", "links": "a browser to a signed-in session",
         "lifetime": "set" if settings.session_secret is not None else "not set (one per "
                     "process, gone at exit)"},
        {"key": "history tag key", "links": "an opted-in learner to their sealed copies "
                                           "waiting in the buffer (docs/personal-space.md)",
         "lifetime": f"one day, destroyed when the day is flushed "
                     f"({settings.history_flush_grace_minutes} minutes after it closes)"},
    ]


async def forwarding_facts(settings: Settings, storage: Storage) -> dict[str, Any] | None:
    """Forwarding destinations and rules, where the forwarding feature exists (else None)."""
    store = getattr(storage, "forwarding", None)
    if store is None:
        return None
    destinations = await store.destinations()
    rules = await store.rules()
    names = {d.id: d.name for d in destinations}
    return {
        "settings": _named(settings, FORWARDING_SETTING_PREFIX, prefix=True),
        "destinations": [{"name": d.name, "kind": d.kind,
                          "host": urlsplit(d.url).hostname or ""} for d in destinations],
        "rules": [{"destination": names.get(r.destination, r.destination),
                   "decision": r.decision} for r in rules],
    }


def purposes(settings: Settings, catalogue: Catalogue, credentials: list[Credential]
             ) -> list[dict[str, Any]]:
    """Each purpose, and whether this configuration serves it."""
    keeps = (len(catalogue) > 0 or settings.default_retention == "full"
             or any(c.retention is Retention.FULL and c.revoked is None for c in credentials))
    return [
        {"purpose": "proof of completed mandatory training (compliance)", "active": keeps},
        {"purpose": "usage statistics of learning resources (the tally)", "active": True},
        {"purpose": "the learner's own record and portfolio", "active": keeps},
        {"purpose": "sign-in of staff and learners", "active": settings.sign_in_enabled()},
    ]


def risks(settings: Settings) -> list[str]:
    """The risks that remain with this configuration's measures (docs/privacy.md)."""
    period = key_period(settings)
    dp_on = dp_enabled(settings)
    return [
        "differencing two overlapping figures (windows, filters) can reveal a group below "
        "k: suppression alone is no guarantee" + (
            "; differential privacy bounds what any release reveals" if dp_on else
            "; differential privacy is off"),
        f"a person's hits are linkable to each other within one {period} while its key "
        "lives, and testable against a guessed identifier",
        "kept statements identify people by design: read by the compliance and admin "
        "roles, and by the learner (their own)",
        "a figure can point at a person where the context does (a page or platform only "
        "one person uses), even without an identifier",
    ]


def retention_chain(manager: pluggy.PluginManager) -> list[str]:
    """The retention rules in the order they are consulted (the first answer wins)."""
    impls = manager.hook.lrs_retention_decide.get_hookimpls()
    return [impl.plugin_name for impl in reversed(impls)]


async def gather(settings: Settings, storage: Storage, catalogue: Catalogue,
                 manager: pluggy.PluginManager, *, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Every fact of the report, as the JSON answer carries them (lrs.privacy.schema)."""
    credentials = await storage.credentials.list()
    clients = Counter(c.retention for c in settings.oidc_machine_clients.values())
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "storage": where_data_lives(settings, storage.engine),
        "kept_in_full": {
            "retention_chain": retention_chain(manager),
            "server_default": settings.default_retention,
            "credential_defaults": credential_defaults(credentials),
            "machine_client_defaults": {"full": clients["full"], "tally": clients["tally"]},
            "catalogue_entries": dict(sorted(Counter(e.kind for e in catalogue).items())),
            "retention_periods": retention_periods(settings, catalogue),
            "purge_interval_minutes": settings.purge_interval_minutes,
        },
        "tally": tally_facts(settings),
        "key_lifetimes": key_lifetimes(settings),
        "sign_in": {
            "enabled": settings.sign_in_enabled(), "issuer": settings.oidc_issuer,
            "dev_sign_in": settings.dev_sign_in, "roles_claim": settings.oidc_roles_claim,
            "agent_mapping": settings.oidc_agent_mapping,
            "session_idle_seconds": settings.session_idle_seconds,
            "session_lifetime_seconds": settings.session_lifetime_seconds,
        },
        "access_by_role": access_by_role(settings),
        "erasure": {
            "erased": [ERASED.get(f.name, f.name.replace("_", " "))
                       for f in dataclasses.fields(Change)],
            "audit_subject": "HMAC-SHA256 of the identifier with the audit-log secret",
            "limits": list(ERASURE_LIMITS),
        },
        "purposes": purposes(settings, catalogue, credentials),
        "risks": risks(settings),
        "data_subjects": list(DATA_SUBJECTS),
        "data_categories": list(DATA_CATEGORIES),
        "forwarding": await forwarding_facts(settings, storage),
        "metrics_exposure": metrics_exposure(settings),
        "to_complete_by_hand": list(BY_HAND),
    }


