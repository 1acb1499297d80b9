"""A deterministic generator of realistic xAPI statements, 0.5 to 3 KB each, for benchmarks."""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

MIN_BYTES, MAX_BYTES = 512, 3072
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ADL_TYPES = "http://adlnet.gov/expapi/activities/"
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
VIDEO = "https://w3id.org/xapi/video/"
SSO = "https://sso.example.com"
EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 90  # statement timestamps fall in the DAYS days from EPOCH
RECENT = False  # or in the last half hour (bench.ingest --recent): open key periods
# Mandatory courses belong to this programme; every activity of one has an id under the
# course's IRI, which compliance_catalogue() lists as a prefix.
COMPLIANCE_PROGRAMME = "https://lms.example.com/programmes/compliance-2026"
SKILLS_PROGRAMME = "https://lms.example.com/programmes/skills-2026"

# ADL verbs (http://adlnet.gov/expapi/verbs/…) with displays in three languages.
VERB_DISPLAYS: dict[str, tuple[str, str, str]] = {
    "answered": ("answered", "a répondu", "hat beantwortet"),
    "attempted": ("attempted", "a tenté", "hat versucht"),
    "completed": ("completed", "a terminé", "hat abgeschlossen"),
    "experienced": ("experienced", "a consulté", "hat erlebt"),
    "failed": ("failed", "a échoué", "hat nicht bestanden"),
    "initialized": ("initialized", "a initialisé", "hat initialisiert"),
    "interacted": ("interacted", "a interagi", "hat interagiert"),
    "launched": ("launched", "a lancé", "hat gestartet"),
    "passed": ("passed", "a réussi", "hat bestanden"),
    "progressed": ("progressed", "a progressé", "hat Fortschritte gemacht"),
    "registered": ("registered", "s'est inscrit", "hat sich angemeldet"),
    "resumed": ("resumed", "a repris", "hat fortgesetzt"),
    "scored": ("scored", "a obtenu", "hat erzielt"),
    "shared": ("shared", "a partagé", "hat geteilt"),
    "commented": ("commented", "a commenté", "hat kommentiert"),
    "suspended": ("suspended", "a suspendu", "hat unterbrochen"),
    "terminated": ("terminated", "a quitté", "hat beendet"),
}

# How often each kind of activity is the object of a statement, relatively.
KIND_WEIGHTS = {"course": 6, "module": 3, "assessment": 12, "interaction": 5, "video": 4,
                "article": 8, "file": 3}

# What people do with each kind of activity, the most frequent verbs listed first.
VERBS_BY_KIND: dict[str, tuple[str, ...]] = {
    "course": ("launched", "initialized", "completed", "terminated", "registered", "suspended",
               "resumed", "passed", "failed"),
    "module": ("experienced", "completed", "progressed", "attempted", "launched"),
    "assessment": ("attempted", "passed", "failed", "scored", "completed", "terminated"),
    "interaction": ("answered", "answered", "answered", "interacted"),
    "video": ("experienced", "progressed", "completed", "interacted", "suspended", "resumed"),
    "article": ("experienced",) * 8 + ("shared", "commented"),
    "file": ("experienced",) * 4 + ("shared",),
}

FIRST_NAMES = ("Alice", "Bruno", "Chloé", "Dmitri", "Emma", "Farid", "Greta", "Hiroshi", "Inès",
               "Jonas", "Kateřina", "Léa", "Mateo", "Nora", "Oskar", "Priya", "Quentin", "Rosa",
               "Søren", "Tariq", "Ulla", "Valentin", "Wen", "Ximena", "Yusuf", "Zoë")
LAST_NAMES = ("Martin", "Dubois", "Müller", "García", "Rossi", "Nowak", "Jensen", "Kowalski",
              "Bernard", "Lefèvre", "Schmidt", "Fernández", "Nakamura", "Okafor", "Petit",
              "Johansson", "Novák", "Moreau", "Silva", "Van den Berg", "O'Brien", "Łukasik")
TOPICS = ("Fire safety", "Data protection", "Anti-bribery", "Workplace ergonomics",
          "Information security", "First aid", "Diversity and inclusion", "Export control",
          "Manual handling", "Food hygiene", "Cyber awareness", "Project management",
          "Negotiation skills", "Customer care", "Leadership essentials", "Time management")
TOPICS_FR = ("Sécurité incendie", "Protection des données", "Lutte anticorruption",
             "Ergonomie au travail", "Sécurité de l'information", "Premiers secours",
             "Diversité et inclusion", "Contrôle des exportations", "Manutention",
             "Hygiène alimentaire", "Cybersécurité", "Gestion de projet",
             "Techniques de négociation", "Service client", "Bases du leadership",
             "Gestion du temps")
DEPARTMENTS = ("Finance", "Sales", "Engineering", "Operations", "Legal", "Human resources",
               "Logistics", "Customer support")
BROWSERS = (("Firefox", "128.0"), ("Chrome", "126.0.6478"), ("Safari", "17.5"), ("Edge", "126.0"))
LOREM = tuple(" ".join((
    "Learners review the rules that apply at work, practise with realistic cases and check",
    "what they retained. Each part ends with a short quiz; the final assessment is",
    "mandatory for every employee and must be passed once a year.")).split())


_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae"})


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    folded = folded.encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


@dataclass(frozen=True)
class Activity:
    """An activity with its place in the catalogue: what it belongs to, where it lives."""

    kind: str
    body: dict[str, Any]
    parent: dict[str, Any] | None
    grouping: dict[str, Any] | None
    platform: str
    cmi5: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    compliance: bool = False  # part of a mandatory course (see compliance_catalogue)


class StatementGenerator:
    """Statements from a fixed, seeded world of people and activities: same seed, same output.

    The world: `people` learners (identified by mbox or by an SSO account), `courses` LMS
    courses with modules, assessments, questions and videos, and intranet articles and files.
    """

    def __init__(self, seed: int = 2026, *, people: int = 5000, courses: int = 40,
                 compliance_share: float | None = None) -> None:
        if compliance_share is not None and not 0 <= compliance_share <= 1:
            raise ValueError("compliance_share must be between 0 and 1")
        self.rng = random.Random(seed)
        self.compliance_share = compliance_share
        self.people = [self._person(n) for n in range(people)]
        self.activities: list[Activity] = []
        self.mandatory_courses: list[str] = []  # IRIs of the compliance programme's courses
        for number in range(courses):
            self._course(number)
        self._intranet(pages=courses * 10)
        weight = KIND_WEIGHTS
        self._weights = [weight[a.kind] for a in self.activities]
        # With a compliance share, statements are drawn from the compliance programme's
        # activities with that probability, from everything else otherwise.
        self._split = [([a for a in self.activities if a.compliance == mandatory],
                        [weight[a.kind] for a in self.activities if a.compliance == mandatory])
                       for mandatory in (False, True)]

    # -- the world --------------------------------------------------------------------

    def _person(self, number: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        person: dict[str, Any] = {"objectType": "Agent", "name": f"{first} {last}"}
        if rng.random() < 0.6:
            person["mbox"] = f"mailto:{_ascii(first)}.{_ascii(last)}{number}@example.org"
        else:
            person["account"] = {"homePage": SSO, "name": f"u{100000 + number}"}
        return person

    def _names(self, english: str, french: str) -> dict[str, str]:
        names = {"en-US": english, "fr-FR": french}
        if self.rng.random() < 0.4:
            names["de-DE"] = f"{english} (DE)"
        return names

    def _description(self, words: int) -> dict[str, str]:
        words = max(3, round(words * self.rng.uniform(0.3, 3.0)))
        start = self.rng.randrange(len(LOREM))
        text = " ".join(LOREM[(start + i) % len(LOREM)] for i in range(words))
        description = {"en-US": text[:1].upper() + text[1:] + "."}
        if self.rng.random() < 0.5:
            description["fr-FR"] = "Description en français : " + text[:300] + "."
        return description

    def _activity(self, iri: str, kind: str, type_iri: str, english: str, french: str,
                  words: int) -> dict[str, Any]:
        definition: dict[str, Any] = {"name": self._names(english, french)}
        if kind not in ("article", "file") or self.rng.random() < 0.5:
            definition["description"] = self._description(words)
        definition["type"] = type_iri
        if self.rng.random() < 0.3:
            definition["moreInfo"] = iri.replace("https://lms.", "https://help.")
        return {"objectType": "Activity", "id": iri, "definition": definition}

    def _course(self, number: int) -> None:
        rng = self.rng
        topic = number % len(TOPICS)
        english, french = TOPICS[topic], TOPICS_FR[topic]
        slug = f"{_ascii(english)}-{number:03d}"
        base = f"https://lms.example.com/courses/{slug}"
        platform = rng.choice(("Moodle 4.3", "Moodle 4.3", "Articulate Rise", "Totara 18"))
        cmi5 = rng.random() < 0.5
        mandatory = topic < 11
        if mandatory:
            self.mandatory_courses.append(base)
        programme = {"objectType": "Activity",
                     "id": COMPLIANCE_PROGRAMME if mandatory else SKILLS_PROGRAMME}
        course = self._activity(base, "course", ADL_TYPES + "course", english, french, 30)
        course["definition"]["extensions"] = {
            "https://lms.example.com/extensions/mandatory": mandatory,
            "https://lms.example.com/extensions/catalogue-code": f"C-{number:04d}"}
        self.activities.append(Activity("course", course, None, programme, platform, cmi5,
                                        compliance=mandatory))
        course_ref = {"objectType": "Activity", "id": base,
                      "definition": {"type": ADL_TYPES + "course"}}
        for part in range(1, rng.randint(3, 8) + 1):
            module = self._activity(f"{base}/modules/{part}", "module", ADL_TYPES + "module",
                                    f"{english}, part {part}", f"{french}, partie {part}", 18)
            self.activities.append(Activity("module", module, course_ref, programme, platform,
                                            cmi5, compliance=mandatory))
        for clip in range(1, rng.randint(1, 3) + 1):
            video = self._activity(f"{base}/videos/{clip}", "video", VIDEO + "activity-type/video",
                                   f"{english}: video {clip}", f"{french} : vidéo {clip}", 12)
            length = round(rng.uniform(60, 900), 1)
            video["definition"]["extensions"] = {VIDEO + "extensions/length": length}
            self.activities.append(Activity("video", video, course_ref, programme, platform,
                                            cmi5, {"length": length}, compliance=mandatory))
        exam = self._activity(f"{base}/assessment", "assessment", ADL_TYPES + "assessment",
                              f"{english}: final assessment", f"{french} : évaluation finale", 20)
        self.activities.append(Activity("assessment", exam, course_ref, programme, platform,
                                        cmi5, compliance=mandatory))
        exam_ref = {"objectType": "Activity", "id": exam["id"],
                    "definition": {"type": ADL_TYPES + "assessment"}}
        for question in range(1, rng.randint(5, 12) + 1):
            self.activities.append(Activity(
                "interaction", self._question(f"{exam['id']}/questions/q{question}", question),
                exam_ref, course_ref, platform, cmi5, compliance=mandatory))

    def _question(self, iri: str, number: int) -> dict[str, Any]:
        rng = self.rng
        definition: dict[str, Any] = {
            "name": {"en-US": f"Question {number}", "fr-FR": f"Question {number}"},
            "description": {"en-US": "Which of these should you do first? " +
                            " ".join(rng.sample(LOREM, 8)) + "?"},
            "type": ADL_TYPES + "cmi.interaction",
        }
        kind = rng.choice(("choice", "choice", "true-false", "fill-in", "likert", "numeric"))
        definition["interactionType"] = kind
        if kind == "choice":
            options = [f"option-{c}" for c in "abcd"[: rng.randint(3, 4)]]
            definition["choices"] = [
                {"id": o, "description": {"en-US": " ".join(rng.sample(LOREM, 5)).capitalize()}}
                for o in options]
            definition["correctResponsesPattern"] = [rng.choice(options)]
        elif kind == "true-false":
            definition["correctResponsesPattern"] = [rng.choice(("true", "false"))]
        elif kind == "fill-in":
            definition["correctResponsesPattern"] = [rng.choice(LOREM).strip(".,;")]
        elif kind == "likert":
            definition["scale"] = [{"id": f"likert_{n}", "description": {"en-US": label}}
                                   for n, label in enumerate(("Disagree", "Neutral", "Agree"))]
        else:
            definition["correctResponsesPattern"] = [f"{rng.randint(1, 5)}[:]{rng.randint(6, 9)}"]
        return {"objectType": "Activity", "id": iri, "definition": definition}

    def _intranet(self, pages: int) -> None:
        rng = self.rng
        for number in range(pages):
            department = rng.choice(DEPARTMENTS)
            space = {"objectType": "Activity",
                     "id": f"https://intranet.example.com/spaces/{_ascii(department)}"}
            if rng.random() < 0.75:
                body = self._activity(f"https://intranet.example.com/news/{number:05d}", "article",
                                      ADL_TYPES + "link", f"{department} news #{number}",
                                      f"Actualités {department} n° {number}", 14)
                kind = "article"
            else:
                body = self._activity(f"https://intranet.example.com/files/{number:05d}.pdf",
                                      "file", ADL_TYPES + "file", f"{department} handbook",
                                      f"Manuel {department}", 10)
                kind = "file"
            self.activities.append(Activity(kind, body, space, None, "Intranet"))

    # -- the compliance catalogue and documents -----------------------------------------

    def compliance_catalogue(self) -> dict[str, Any]:
        """The catalogue, in the format of `lrs catalogue load`, that keeps the statements of
        the compliance programme: one prefix entry per mandatory course, under whose IRI every
        activity of the course lies (the generator's `compliance_share` of the statements)."""
        return {"version": 1, "entries": [
            {"kind": "prefix", "value": base, "name": "mandatory course"}
            for base in self.mandatory_courses]}

    def state_documents(self, count: int) -> list[dict[str, Any]]:
        """`count` State documents as a course player keeps them: where to resume, suspend
        data, cmi5 launch data, a video's state. Each is {"activityId", "agent",
        "registration", "stateId", "body" (JSON bytes)}, drawn from a random sequence
        seeded once from the generator's."""
        rng = random.Random(self.rng.getrandbits(64))
        players = [a for a in self.activities if a.kind in ("course", "module", "video",
                                                               "assessment")]
        documents = []
        for _ in range(count):
            activity = rng.choice(players)
            state_id, body = self._state_body(rng, activity)
            documents.append({
                "activityId": activity.body["id"], "agent": rng.choice(self.people),
                "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "stateId": state_id, "body": orjson.dumps(body)})
        return documents

    def _state_body(self, rng: random.Random, activity: Activity) -> tuple[str, dict[str, Any]]:
        if activity.kind == "video":
            length = activity.extras["length"]
            segments = sorted(round(rng.uniform(0, length), 2) for _ in range(rng.randint(2, 12)))
            return VIDEO + "activity-state", {
                "length": length, "completion-threshold": 0.9,
                "played-segments": "[,]".join(f"{a}[.]{b}" for a, b in
                                             zip(segments[::2], segments[1::2], strict=False))}
        if activity.cmi5 and rng.random() < 0.3:
            return "LMS.LaunchData", {
                "contextTemplate": {"extensions": {
                    "https://w3id.org/xapi/cmi5/context/extensions/sessionid":
                        str(uuid.UUID(int=rng.getrandbits(128), version=4))}},
                "launchMode": "Normal", "moveOn": "CompletedOrPassed",
                "returnURL": activity.body["id"].replace("/courses/", "/return/"),
                "launchParameters": orjson.dumps({"lang": "en-US"}).decode()}
        if rng.random() < 0.3:
            updated = EPOCH + timedelta(days=rng.uniform(0, DAYS))
            return "bookmark", {"location": f"slide-{rng.randint(1, 60)}",
                                "updated": f"{updated:%Y-%m-%dT%H:%M:%SZ}"}
        answers = {f"q{n}": rng.choice(("option-a", "option-b", "option-c", "true", "false"))
                   for n in range(1, rng.randint(3, 40))}
        words = rng.randint(0, 200)
        return "suspend_data", {
            "version": 2, "progress": round(rng.random(), 3),
            "visited": sorted(rng.sample(range(1, 61), rng.randint(1, 30))),
            "answers": answers, "attempt": rng.randint(1, 3),
            "notes": " ".join(rng.choice(LOREM) for _ in range(words))}

    # -- statements -------------------------------------------------------------------

    def statements(self, count: int) -> list[dict[str, Any]]:
        """The next `count` statements."""
        return [self.statement() for _ in range(count)]

    def statement(self) -> dict[str, Any]:
        """The next statement, between MIN_BYTES and MAX_BYTES once serialised."""
        # With a compliance share, whether the statement is a compliance one is drawn once,
        # before the size check: redrawing it with each rejected candidate would bias the
        # share toward the kind whose statements are rejected less often.
        mandatory = None if self.compliance_share is None else (
            self.rng.random() < self.compliance_share)
        for _ in range(50):
            candidate = self._candidate(mandatory)
            if MIN_BYTES <= len(orjson.dumps(candidate)) <= MAX_BYTES:
                # The world's actors and activities are shared: hand out a private copy.
                return copy.deepcopy(candidate)
        raise RuntimeError("the generator keeps producing statements out of the size range")

    def _candidate(self, mandatory: bool | None) -> dict[str, Any]:
        rng = self.rng
        if mandatory is None:
            activity = rng.choices(self.activities, self._weights)[0]
        else:
            activities, weights = self._split[mandatory]
            activity = rng.choices(activities, weights)[0]
        verb = rng.choice(VERBS_BY_KIND[activity.kind])
        english, french, german = VERB_DISPLAYS[verb]
        display = {"en-US": english, "fr-FR": french}
        if rng.random() < 0.3:
            display["de-DE"] = german
        moment = (datetime.now(UTC) - timedelta(seconds=rng.uniform(60, 1800)) if RECENT
                  else EPOCH + timedelta(seconds=rng.uniform(0, DAYS * 86400)))
        statement: dict[str, Any] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "actor": rng.choice(self.people),
            "verb": {"id": ADL_VERBS + verb, "display": display},
            "object": activity.body,
            "timestamp": f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z",
        }
        result = self._result(activity, verb)
        if result:
            statement["result"] = result
        statement["context"] = self._context(activity)
        return statement

    def _result(self, activity: Activity, verb: str) -> dict[str, Any]:
        rng = self.rng
        result: dict[str, Any] = {}
        if verb in ("passed", "failed", "scored") or (activity.kind == "assessment"
                                                       and verb == "completed"):
            low, high = 0, rng.choice((10, 20, 100))
            raw = rng.randint(low, high)
            result["score"] = {"scaled": round(raw / high, 2), "raw": raw, "min": low, "max": high}
            result["success"] = verb != "failed" and raw / high >= 0.5
            result["completion"] = True
        elif verb == "answered":
            result["success"] = rng.random() < 0.7
            result["response"] = rng.choice(("option-a", "option-b", "true", "false",
                                             "extinguisher", "likert_2", "4"))
        elif verb in ("completed", "terminated"):
            result["completion"] = verb == "completed" or rng.random() < 0.5
        elif verb in ("progressed", "suspended") and activity.kind == "video":
            time = round(rng.uniform(0, activity.extras["length"]), 2)
            result["extensions"] = {
                VIDEO + "extensions/time": time,
                VIDEO + "extensions/progress": round(time / activity.extras["length"], 3),
                VIDEO + "extensions/played-segments": f"0[.]{time}",
            }
        elif verb == "progressed":
            result["extensions"] = {"https://w3id.org/xapi/cmi5/result/extensions/progress":
                                    rng.randint(1, 99)}
        if verb in ("completed", "passed", "failed", "terminated", "suspended", "answered") \
                and activity.kind != "article":
            minutes, seconds = rng.randint(0, 45), rng.uniform(0, 60)
            result["duration"] = f"PT{minutes}M{seconds:.2f}S"
        if verb in ("passed", "failed") and rng.random() < 0.5:
            result.setdefault("extensions", {})[
                "http://id.tincanapi.com/extension/attempt-id"] = rng.randint(1, 3)
        return result

    def _context(self, activity: Activity) -> dict[str, Any]:
        rng = self.rng
        context: dict[str, Any] = {"platform": activity.platform,
                                   "language": rng.choice(("en-US", "en-GB", "fr-FR", "de-DE"))}
        if activity.platform != "Intranet":
            context["registration"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            if rng.random() < 0.3:
                context["revision"] = f"v{rng.randint(1, 4)}.{rng.randint(0, 9)}"
        parents: dict[str, Any] = {}
        if activity.parent is not None:
            parents["parent"] = [activity.parent]
        if activity.grouping is not None:
            parents["grouping"] = [activity.grouping]
        if activity.cmi5:
            parents["category"] = [{"objectType": "Activity", "id": CMI5_CATEGORY}]
        if parents:
            context["contextActivities"] = parents
        extensions: dict[str, Any] = {
            "https://lms.example.com/extensions/department": rng.choice(DEPARTMENTS)}
        if rng.random() < 0.6:
            browser, version = rng.choice(BROWSERS)
            extensions["http://id.tincanapi.com/extension/browser-info"] = {
                "name": browser, "version": version}
        if activity.cmi5:
            extensions["https://w3id.org/xapi/cmi5/context/extensions/sessionid"] = str(
                uuid.UUID(int=rng.getrandbits(128), version=4))
        if activity.kind == "video":
            extensions[VIDEO + "extensions/session-id"] = str(
                uuid.UUID(int=rng.getrandbits(128), version=4))
        context["extensions"] = extensions
        if activity.platform != "Intranet" and rng.random() < 0.1:
            context["instructor"] = rng.choice(self.people)
        return context


def generate(count: int, seed: int = 2026) -> list[dict[str, Any]]:
    """`count` statements from a fresh generator with this seed (same seed, same statements)."""
    return StatementGenerator(seed).statements(count)


def main() -> None:
    """Print generated statements as JSON lines, or their size statistics with --stats."""
    parser = argparse.ArgumentParser(prog="python -m bench.generator", description=main.__doc__)
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--stats", action="store_true", help="Print sizes, not statements.")
    args = parser.parse_args()
    batch = generate(args.count, args.seed)
    if not args.stats:
        for statement in batch:
            print(orjson.dumps(statement).decode())
        return
    sizes = sorted(len(orjson.dumps(s)) for s in batch)
    print(f"{len(sizes)} statements: min {sizes[0]} B, median {statistics.median(sizes):.0f} B, "
          f"mean {statistics.fmean(sizes):.0f} B, max {sizes[-1]} B")


if __name__ == "__main__":
    main()
