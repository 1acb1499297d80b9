"""The requests of the read and document scenarios, built from the generator's output.

Every function here is pure: the same statements and seed give the same requests.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import orjson

from bench.fill import stored_at
from bench.generator import DAYS, EPOCH, StatementGenerator
from bench.load import Call

STATEMENTS = "/xapi/statements"
STATE = "/xapi/activities/state"
AGGREGATES = "/api/v1/aggregates"
PAGE = 100  # `limit` of every statement query
SINCE_TAIL = (100, 1000)  # a `since` query leaves this many statements after it (min, max)

# id → (title, query parameters from one statement, or None when the statement has none)
QUERY_KINDS = ("agent", "activity", "verb", "registration", "related_agents",
               "related_activities", "since")


def _agent(actor: dict[str, Any]) -> str:
    return orjson.dumps(actor).decode()


def _params(kind: str, statement: dict[str, Any]) -> dict[str, str] | None:
    context = statement.get("context", {})
    if kind == "agent":
        return {"agent": _agent(statement["actor"])}
    if kind == "activity":
        return {"activity": statement["object"]["id"]}
    if kind == "verb":
        return {"verb": statement["verb"]["id"]}
    if kind == "registration":
        return {"registration": context["registration"]} if "registration" in context else None
    if kind == "related_agents":
        return {"agent": _agent(statement["actor"]), "related_agents": "true"}
    if kind == "related_activities":
        parents = context.get("contextActivities", {})
        above = parents.get("grouping") or parents.get("parent")
        if not above:
            return None
        return {"activity": above[0]["id"], "related_activities": "true"}
    raise ValueError(f"unknown query kind {kind!r}")


def statement_queries(kind: str, statements: list[dict[str, Any]], stored: int,
                      count: int = 200, seed: int = 2026) -> list[Call]:
    """`count` GET /xapi/statements requests of this kind about a store holding `stored`
    statements, of which `statements` are the first ones (numbers 0, 1, …).

    `since` is the `stored` time of a statement SINCE_TAIL[0] to SINCE_TAIL[1] from the
    end, so that the query and the pages its `more` links lead to return that many
    statements."""
    rng = random.Random(f"{seed}-{kind}-{stored}")
    calls: list[Call] = []
    if kind == "since":
        low, high = SINCE_TAIL
        for _ in range(count):
            moment = stored_at(max(0, stored - rng.randint(low, high)))
            since = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
            calls.append(Call("GET", f"{STATEMENTS}?{urlencode({'since': since, 'limit': PAGE})}"))
        return calls
    candidates = [p for s in statements[:stored] if (p := _params(kind, s)) is not None]
    if not candidates:
        raise ValueError(f"no statement gives a {kind} query")
    for params in rng.choices(candidates, k=count):
        calls.append(Call("GET", f"{STATEMENTS}?{urlencode({**params, 'limit': PAGE})}"))
    return calls


def aggregate_queries(kind: str, generator: StatementGenerator, count: int = 200,
                      seed: int = 2026) -> list[Call]:
    """`count` GET /api/v1/aggregates/popular (kind "popular") or …/series ("series")
    requests over the generator's DAYS days: windows of 1, 7 and 30 days and the whole
    span, with and without a verb, activity type or platform filter; series of an activity
    by hour (7 days) or by day (the whole span)."""
    rng = random.Random(f"{seed}-{kind}")
    activities = generator.activities
    calls: list[Call] = []
    for _ in range(count):
        if kind == "popular":
            days = rng.choice((1, 7, 7, 30, DAYS))
            first = EPOCH + timedelta(days=rng.randrange(DAYS - days + 1))
            params = {"from": f"{first:%Y-%m-%d}",
                      "to": f"{first + timedelta(days=days - 1):%Y-%m-%d}",
                      "limit": str(rng.choice((10, 10, 50)))}
            activity = rng.choice(activities)
            extra = rng.choice(("", "", "verb", "activity_type", "platform"))
            if extra == "verb":
                params["verb"] = "http://adlnet.gov/expapi/verbs/" + rng.choice(
                    ("experienced", "completed", "passed", "answered"))
            elif extra == "activity_type":
                params["activity_type"] = activity.body["definition"]["type"]
            elif extra == "platform":
                params["platform"] = activity.platform
            calls.append(Call("GET", f"{AGGREGATES}/popular?{urlencode(params)}"))
        elif kind == "series":
            activity = rng.choice(activities)
            hourly = rng.random() < 0.5
            days = 7 if hourly else DAYS
            first = EPOCH + timedelta(days=rng.randrange(DAYS - days + 1))
            params = {"activity": activity.body["id"], "from": f"{first:%Y-%m-%d}",
                      "to": f"{first + timedelta(days=days - 1):%Y-%m-%d}",
                      "granularity": "hour" if hourly else "day"}
            calls.append(Call("GET", f"{AGGREGATES}/series?{urlencode(params)}"))
        else:
            raise ValueError(f"unknown aggregate query {kind!r}")
    return calls


def state_calls(documents: list[dict[str, Any]], method: str, *,
                overwrite: bool = False) -> list[Call]:
    """PUT (with its body) or GET of each State document. An `overwrite` PUT carries
    `If-Match: *` (the document exists: replace it), as xAPI 2.0 asks of a PUT onto an
    existing document (Communication §3.1); a PUT without one only creates."""
    calls = []
    for document in documents:
        params = {"activityId": document["activityId"], "agent": _agent(document["agent"]),
                  "registration": document["registration"], "stateId": document["stateId"]}
        calls.append(Call(method, f"{STATE}?{urlencode(params)}",
                          document["body"] if method == "PUT" else None,
                          (("If-Match", "*"),) if overwrite else ()))
    return calls
