"""`lrs demo`: fill a store with a month of realistic traffic, through the real ingest path,
so a newcomer sees the dashboard with something on it."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from lrs.config import Settings
from lrs.credentials import (
    Credential,
    Retention,
    Scope,
    authority_for,
    hash_secret,
    new_key,
    new_secret,
)
from lrs.ingest import Ingest, build_ingest
from lrs.storage import Storage
from plugins.catalogue import CatalogueEntry
from statements.query import StatementQuery
from statements.versions import XapiVersion

INTRANET = "https://intranet.example.com/pages/"
LMS = "https://lms.example.com/courses/"
VIEWED = "http://id.tincanapi.com/verb/viewed"
LIKED = "http://activitystrea.ms/schema/1.0/like"
DOWNLOADED = "http://id.tincanapi.com/verb/downloaded"
PLAYED = "https://w3id.org/xapi/video/verbs/played"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PAGE_TYPE = "http://activitystrea.ms/schema/1.0/page"
FILE_TYPE = "http://adlnet.gov/expapi/activities/file"
VIDEO_TYPE = "https://w3id.org/xapi/video/activity-type/video"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"

# (slug, display name, type, weight): weights fall off like real intranet popularity.
RESOURCES = [
    ("holiday-policy", "Holiday policy", PAGE_TYPE, 40),
    ("expense-claims", "How to claim expenses", PAGE_TYPE, 30),
    ("it-security-basics", "IT security basics", VIDEO_TYPE, 22),
    ("new-starter-guide", "New starter guide", FILE_TYPE, 18),
    ("parental-leave", "Parental leave", PAGE_TYPE, 12),
    ("org-chart", "Organisation chart", FILE_TYPE, 10),
    ("coaching-toolkit", "Coaching toolkit", FILE_TYPE, 8),
    ("ceo-town-hall", "CEO town hall recording", VIDEO_TYPE, 7),
    ("writing-for-the-web", "Writing for the web", PAGE_TYPE, 5),
    ("accessibility-checklist", "Accessibility checklist", FILE_TYPE, 4),
    ("mentoring-scheme", "Mentoring scheme", PAGE_TYPE, 3),
    ("pension-explainer", "Pension explainer", VIDEO_TYPE, 2),
]
RARE = ("travel-insurance", "Travel insurance card", FILE_TYPE)  # a handful of hits only
GONE = ("summer-party", "Summer party photos", PAGE_TYPE)  # hit weeks ago, not since
# (slug, name, share of learners who complete it over the month)
COURSES = [("fire-safety", "Fire safety", 0.45), ("data-protection", "Data protection", 0.3),
           ("anti-bribery", "Anti-bribery", 0.008)]
PLATFORMS = {PAGE_TYPE: "intranet", FILE_TYPE: "intranet", VIDEO_TYPE: "video-portal"}


@dataclass(frozen=True)
class DemoResult:
    """What `fill` did, and the credential to sign in to the dashboard with."""

    statements: int
    reader: Credential
    reader_secret: str


def _credential(settings: Settings, name: str, scopes: frozenset[Scope],
                retention: Retention) -> tuple[Credential, str]:
    key, secret = new_key(), new_secret()
    return Credential(key=key, name=name, secret_hash=hash_secret(secret), scopes=scopes,
                      retention=retention, authority=authority_for(key, name, settings.public_url),
                      created=datetime.now(UTC)), secret


def _activity(iri: str, name: str, kind: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": iri,
            "definition": {"name": {"en": name}, "type": kind}}


def _statement(learner: int, verb: str, activity: dict[str, Any],
               when: datetime, platform: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "name": f"Demo learner {learner}",
                      "mbox": f"mailto:learner{learner}@demo.example.com"},
            "verb": {"id": verb}, "object": activity,
            "context": {"platform": platform},
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


def _moment(rng: random.Random, now: datetime, days: int) -> datetime:
    """A working-hours moment in the last `days` days, never in the future; recent days are
    a little busier."""
    while True:
        back = int(rng.expovariate(1 / (days / 1.5)))
        if back >= days:
            continue
        moment = (now - timedelta(days=back)).replace(
            hour=rng.randint(7, 18), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        if moment <= now:
            return moment


def traffic(rng: random.Random, now: datetime, *, learners: int, days: int
            ) -> Iterator[tuple[str, dict[str, Any]]]:
    """(platform credential, statement) pairs: intranet and video hits, and completions of
    the mandatory courses from the LMS."""
    weights = [w for *_, w in RESOURCES]
    for _ in range(learners * 6):
        slug, name, kind, _weight = rng.choices(RESOURCES, weights)[0]
        activity = _activity(INTRANET + slug, name, kind)
        verb = PLAYED if kind == VIDEO_TYPE else DOWNLOADED if kind == FILE_TYPE else VIEWED
        if rng.random() < 0.08:
            verb = LIKED
        yield "intranet", _statement(rng.randrange(learners), verb, activity,
                                     _moment(rng, now, days), PLATFORMS[kind])
    for _ in range(3):
        yield "intranet", _statement(rng.randrange(learners), VIEWED,
                                     _activity(INTRANET + RARE[0], RARE[1], RARE[2]),
                                     _moment(rng, now, 3), "intranet")
    for n in range(12):
        when = now - timedelta(days=days + 5 + n % 4)
        yield "intranet", _statement(rng.randrange(learners), VIEWED,
                                     _activity(INTRANET + GONE[0], GONE[1], GONE[2]), when,
                                     "intranet")
    for slug, name, share in COURSES:
        course = _activity(LMS + slug, name, COURSE_TYPE)
        for learner in rng.sample(range(learners), max(1, math.ceil(learners * share))):
            yield "lms", _statement(learner, COMPLETED, course, _moment(rng, now, days),
                                    "lms")


async def holds_data(storage: Storage) -> str | None:
    """What the store already holds (credentials, catalogue entries, kept statements), or
    None when it is empty: `lrs demo` refuses to mix made-up data into a live store."""
    if await storage.credentials.list():
        return "credentials"
    if await storage.catalogue.entries():
        return "catalogue entries"
    if (await storage.statements.query(StatementQuery(limit=1))).statements:
        return "statements"
    return None


async def fill(storage: Storage, settings: Settings, *, learners: int = 400, days: int = 30,
               seed: int = 9, now: datetime | None = None) -> DemoResult:
    """Create the demo platforms' credentials and catalogue, send the traffic through
    `Ingest` (what POST /xapi/statements calls) and return the dashboard credential."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    platforms: dict[str, Credential] = {}
    for name in ("intranet", "lms"):
        existing = await storage.credentials.find_by_name(f"demo-{name}")
        if existing is None:
            existing, _ = _credential(settings, f"demo-{name}", frozenset(
                {Scope.STATEMENTS_WRITE, Scope.DEFINE}), Retention.TALLY)
            await storage.credentials.add(existing)
        platforms[name] = existing
    await storage.catalogue.add([CatalogueEntry("activity", LMS + slug, name)
                                 for slug, name, _ in COURSES])
    ingest = await build_ingest(storage, settings)
    batches: dict[str, list[dict[str, Any]]] = {"intranet": [], "lms": []}
    sent = 0
    for platform, statement in traffic(rng, now, learners=learners, days=days):
        batch = batches[platform]
        batch.append(statement)
        if len(batch) == 200:
            sent += await _send(ingest, platforms[platform], batch)
    for platform, batch in batches.items():
        if batch:
            sent += await _send(ingest, platforms[platform], batch)
    reader, secret = _credential(settings, "demo-dashboard",
                                    frozenset({Scope.AGGREGATES_READ}), Retention.TALLY)
    old = await storage.credentials.find_by_name(reader.name)
    if old is not None:
        await storage.credentials.revoke(old.key, now)
    await storage.credentials.add(reader)
    return DemoResult(sent, reader, secret)


async def _send(ingest: Ingest, credential: Credential, batch: list[dict[str, Any]]) -> int:
    await ingest(orjson.dumps(batch), content_type="application/json",
                 version=XapiVersion.V2, credential=credential)
    count = len(batch)
    batch.clear()
    return count
