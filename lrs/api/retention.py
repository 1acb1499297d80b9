"""What the LRS keeps and for how long (`/api/v1/retention`), for anyone it knows: the
learner's "my record" page says it in plain words (docs/retention.md)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.http import credential_of, json_bytes


async def retention(request: Request) -> Response:
    """The retention policy in force: the default decision, the kept statements' periods
    (per catalogue entry, per verb, default), the fingerprint window and the suppression
    threshold. Names no person and no credential."""
    await credential_of(request)  # any credential or signed-in person; no scope needed
    state = request.app.state
    settings = state.settings
    return json_bytes(orjson.dumps({
        "default": settings.default_retention,
        "tallied_statements_retrievable": False,
        "default_days": settings.retention_default_days,
        "verb_days": settings.retention_verb_days,
        "catalogue": [{"kind": e.kind, "value": e.value, "name": e.name,
                       "retention_days": e.retention_days} for e in state.catalogue.current()],
        "fingerprint_days": settings.fingerprint_days,
        "suppression_threshold": settings.suppression_threshold,
    }))


routes = [Route("/retention", retention, methods=["GET"])]
