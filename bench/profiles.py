"""The `profiles` group's material: video-profile statements and the check's own cost."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from statements.profiles import Profile, check, parse_profile

PROFILES = Path(__file__).resolve().parent.parent / "tests" / "data" / "profiles"
VIDEO_PROFILE = PROFILES / "video.jsonld"
CMI5_PROFILE = PROFILES / "cmi5.jsonld"
_EXT = "https://w3id.org/xapi/video/extensions/"
_VERBS = "https://w3id.org/xapi/video/verbs/"
_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)


def video_pool(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` statements of a video player following the ADL video profile's `played`,
    `paused` and `seeked` templates (each matches one template and breaks no rule)."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        length = round(rng.uniform(60, 1800), 3)
        at = round(rng.uniform(0, length), 3)
        verb = rng.choice(("played", "paused", "seeked"))
        result: dict[str, Any] = {"extensions": {_EXT + "time": at}}
        if verb == "paused":
            result["extensions"].update({_EXT + "progress": round(at / length, 3),
                                         _EXT + "played-segments": f"0[.]{at}"})
        if verb == "seeked":
            result["extensions"] = {_EXT + "time-from": at,
                                    _EXT + "time-to": round(rng.uniform(0, length), 3)}
        out.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "actor": {"objectType": "Agent", "mbox": f"mailto:learner{rng.randrange(500)}"
                                                    f"@example.com"},
            "verb": {"id": _VERBS + verb, "display": {"en": verb}},
            "object": {"objectType": "Activity",
                       "id": f"https://videos.example.com/v/{rng.randrange(200)}",
                       "definition": {"type": "https://w3id.org/xapi/video/activity-type/video",
                                      "name": {"en": "A video"}}},
            "result": result,
            "context": {
                "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "contextActivities": {"category": [{"id": "https://w3id.org/xapi/video/v1.0.3"}]},
                "extensions": {_EXT + "length": length,
                               _EXT + "session-id": str(uuid.uuid4())}},
            "timestamp": (_EPOCH + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
        })
    return out


def load_profiles() -> tuple[Profile, ...]:
    """The video and cmi5 profiles, as `LRS_PROFILES` would load them."""
    return tuple(parse_profile(orjson.loads(p.read_bytes()))
                 for p in (VIDEO_PROFILE, CMI5_PROFILE))


def check_floor(pool: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Statements checked a second by the profile check alone, in this process: what the
    door adds to each statement before any HTTP, parsing or storing."""
    profiles = load_profiles()
    checked, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        for statement in pool:
            outcome = check(statement, profiles)
            if outcome.findings:
                raise RuntimeError(f"the bench's video statement breaks a rule: "
                                   f"{outcome.findings[0]}")
        checked += len(pool)
    elapsed = time.perf_counter() - began
    return {"statements": checked, "seconds": elapsed, "statements_per_s": checked / elapsed,
            "microseconds_per_statement": elapsed / checked * 1e6}
