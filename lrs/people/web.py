"""Placeholder for the `people` branch's web layer (sign-in, sessions, CSRF): until it is
merged nobody is signed in. The merge replaces this file with the real one."""

from __future__ import annotations

from starlette.requests import Request

from lrs.people import Person


async def person_of(request: Request) -> Person | None:
    """The signed-in person of the request's session, or None."""
    return None


def csrf_token(request: Request) -> str:
    """The CSRF token pages send back (`x-csrftoken` header, `csrftoken` form field)."""
    return ""
