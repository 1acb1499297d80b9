"""Known data for the console's browser tests and screenshots, sent over HTTP as platforms
send it: a catalogue, kept statements for the seeded learners, and anonymous traffic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

LMS = "https://lms.example.com/courses/"
FIRE = LMS + "fire-safety"
GDPR = LMS + "data-protection"
INTRANET = "https://intranet.example.com/pages/"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
VIEWED = "http://id.tincanapi.com/verb/viewed"
COURSE = "http://adlnet.gov/expapi/activities/course"
PAGE = "http://activitystrea.ms/schema/1.0/page"

# The seeded people: (e-mail, name). Ada and Bob are the OIDC provider's learners; the others
# exist only in statements. No name or address of these may reach an analyst.
ADA = ("ada@example.com", "Ada Lovelace")
BOB = ("bob@example.com", "Bob Learner")
LEARNERS = [ADA, BOB, ("cleo@example.com", "Cleo Patra"),
            ("dan@example.com", "Dan Dare"), ("erin@example.com", "Erin Evans"),
            ("frank@example.com", "Frank Fisher")]
# Who completed fire safety, who attempted and failed it; the rest have no record.
FIRE_COMPLETED = [ADA, LEARNERS[2], LEARNERS[3]]
FIRE_FAILED = [BOB]
ROSTER_ONLY = ("grace@example.com", "Grace Hopper")  # on the roster, in no statement


def _at(days_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def kept(person: tuple[str, str], activity: str, name: str, verb: str, *,
         success: bool | None = None, days_ago: float = 1) -> dict[str, Any]:
    """A statement about a mandatory activity (so it is kept, with the person in it)."""
    email, full_name = person
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": full_name, "mbox": f"mailto:{email}"},
        "verb": {"id": verb, "display": {"en": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": activity,
                   "definition": {"name": {"en": name}, "type": COURSE}},
        "context": {"platform": "lms"},
        "timestamp": _at(days_ago),
    }
    if success is not None:
        statement["result"] = {"success": success, "completion": success,
                               "score": {"scaled": 0.92 if success else 0.41}}
    return statement


def tallied(person: tuple[str, str], page: str, name: str, days_ago: float) -> dict[str, Any]:
    """An intranet page view: counted anonymously, the person thrown away at the door."""
    email, full_name = person
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "name": full_name, "mbox": f"mailto:{email}"},
            "verb": {"id": VIEWED, "display": {"en": "viewed"}},
            "object": {"id": INTRANET + page, "definition": {"name": {"en": name}, "type": PAGE}},
            "context": {"platform": "intranet"}, "timestamp": _at(days_ago)}


def traffic() -> list[dict[str, Any]]:
    """A week of intranet page views by the learners and thirty more visitors, more on some
    days than others, so the dashboard has trends to draw."""
    visitors = [*LEARNERS, *((f"visitor{n}@example.com", f"Visitor {n}") for n in range(30))]
    pages = [("handbook", "Staff handbook", 22), ("expenses", "Expense claims", 14),
             ("holidays", "Holiday booking", 9), ("canteen", "Canteen menu", 3)]
    views = []
    for day in range(7):
        for slug, name, count in pages:
            for n in range(count - (day * 3 + len(slug)) % 5):
                person = visitors[(n * 7 + day) % len(visitors)]
                views.append(tallied(person, slug, name, days_ago=day + 0.1 + n / 100))
    return views


def seed(base: str, auth: tuple[str, str]) -> None:
    """Fill a running LRS (`auth`: a credential with scope `all`) as the LMS and the intranet
    would: through a platform credential whose retention is `tally`, so that only statements
    about catalogued activities are kept."""
    with httpx.Client(base_url=base, auth=auth,
                      headers={"X-Experience-API-Version": "2.0.0"}) as client:
        made = client.post("/api/v1/admin/credentials", json={
            "name": "seed-platform", "scopes": ["statements/write", "define"],
            "retention": "tally"})
        assert made.status_code == 201, made.text
        # A cmi5 LMS whose statements are checked and flagged (docs/cmi5.md), its rejected
        # ones kept a week: the credentials page shows what differs from the defaults.
        lms = client.post("/api/v1/admin/credentials", json={
            "name": "seed-cmi5-lms", "scopes": ["statements/write"], "retention": "full",
            "cmi5": "flag", "cmi5_lms": True, "profiles": "reject", "quarantine_days": 7})
        assert lms.status_code == 201, lms.text
        client.auth = (made.json()["key"], made.json()["secret"])
        catalogue = {"version": 1, "entries": [
            {"kind": "activity", "value": FIRE, "name": "Fire safety", "retention_days": 2555},
            {"kind": "activity", "value": GDPR, "name": "Data protection"}]}
        assert client.post("/api/v1/catalogue", json=catalogue, auth=auth).status_code == 200
        batch = [kept(p, FIRE, "Fire safety", COMPLETED, success=True, days_ago=2 + i)
                 for i, p in enumerate(FIRE_COMPLETED)]
        batch += [kept(p, FIRE, "Fire safety", ATTEMPTED, success=False) for p in FIRE_FAILED]
        batch += [kept(BOB, GDPR, "Data protection", COMPLETED, success=True, days_ago=3),
                  kept(ADA, GDPR, "Data protection", ATTEMPTED, days_ago=0.5)]
        batch += traffic()
        posted = client.post("/xapi/statements", json=batch)
        assert posted.status_code == 200, posted.text
