"""An app with dev sign-in and several people signed in on it at once (a learner, managers)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lrs.app import create_app
from lrs.config import Settings
from lrs.people.csrf import CSRF_HEADER
from lrs.storage import Storage
from tests.conftest import Client

SignIn = Callable[..., Awaitable[Client]]


@pytest.fixture
async def app(settings: Settings, storage: Storage) -> AsyncIterator[Starlette]:
    """The LRS with dev sign-in, its lifespan run, on the test's real store."""
    made = create_app(settings.model_copy(update={"dev_sign_in": True}), storage=storage)
    async with made.router.lifespan_context(made):
        yield made


@pytest.fixture
async def sign_in(app: Starlette) -> AsyncIterator[SignIn]:
    """`await sign_in("learner", name=…, email=…, groups=…)`: a client of its own (its own
    cookies) signed in through the dev form, sending the CSRF token on every request."""
    clients: list[Client] = []

    async def signed_in(*roles: str, name: str, email: str, groups: str = "") -> Client:
        client = Client(transport=httpx.ASGITransport(app=app), base_url="http://lrs.test")
        clients.append(client)
        form = await client.get("/sign-in")
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
        assert token, form.text
        done = await client.post("/sign-in/dev", data={
            "csrftoken": token[1], "name": name, "email": email, "role": list(roles),
            "groups": groups, "next": "/api/v1/me"})
        assert done.status_code == 303, done.text
        me = await client.get("/api/v1/me")
        client.headers[CSRF_HEADER] = me.json()["csrf_token"]
        return client

    yield signed_in
    for client in clients:
        await client.aclose()


def problems(response: httpx.Response) -> list[str]:
    """The JSON paths an error answer names."""
    body: dict[str, Any] = response.json()
    return [p["path"] for p in body["error"]["problems"]]
