"""The About resource (Communication §2.8, LRS book 4.1.6.7): open to all, any version."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.http import json_bytes
from statements.versions import XapiVersion

RETENTION_EXTENSION = "https://tally-lrs.org/xapi/extensions/retention"


async def about(request: Request) -> Response:
    """The versions spoken (latest patch per major, Comm. §2.8.s5.b1) and our extensions."""
    return json_bytes(orjson.dumps({
        "version": [version.value for version in XapiVersion],
        "extensions": {RETENTION_EXTENSION: {
            # DESIGN §3: clients can find out that what is tallied cannot be read back.
            "default": request.app.state.settings.default_retention,
            "rules": ["compliance-catalogue", "voiding", "credential-default",
                      "server-default"],
            "tallied_statements_retrievable": False,
            "documentation": "Statements about catalogued (mandatory) activities, and those "
                             "sent with a credential whose retention is 'full', are kept in "
                             "full. Others are reduced to anonymous hit counters: a GET of "
                             "their id answers 404.",
        }},
    }))


routes = [Route("/about", about, methods=["GET", "HEAD"])]
