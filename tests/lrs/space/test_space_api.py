"""The space API (/api/v1/space) on every engine, signed in through dev sign-in: each
learner their own space only, CSRF as every console call, sealed mode's unlock, lock,
recovery and sign-out, and clear 4xx answers with JSON paths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from lrs.config import Settings
from lrs.people.csrf import CSRF_HEADER
from lrs.storage import Storage
from tests.conftest import Client, app_client
from tests.lrs.people.test_dev_sign_in import token_of

ENTRY = {"kind": "experience", "title": "Ran the incident review",
         "reflection": {"happened": "The database filled up.", "learned": "Alert earlier.",
                        "next": "Add a disk alert."},
         "tags": ["ops"], "links": ["https://example.org/postmortem"]}
PASSPHRASE = "correct horse battery staple"


class Learner:
    """A client signed in as one person, sending the CSRF header on changes."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.token = client, token

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {CSRF_HEADER: self.token, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"/api/v1/space{path}", headers=headers,
                                         **kwargs)


@asynccontextmanager
async def signed_in(settings: Settings, storage: Storage, email: str | None = "ada@example.org",
                    roles: tuple[str, ...] = ("learner",)) -> AsyncIterator[Learner]:
    dev = settings.model_copy(update={"dev_sign_in": True})
    async with app_client(dev, storage) as client:
        form = await client.get("/sign-in")
        answer = await client.post("/sign-in/dev", data={
            "csrftoken": token_of(form.text), "name": "Ada", "email": email or "",
            "role": list(roles), "next": "/console/space"})
        assert answer.status_code == 303, answer.text
        yield Learner(client, (await client.get("/api/v1/me")).json()["csrf_token"])


def problem_paths(answer: httpx.Response) -> list[str]:
    return [p["path"] for p in answer.json()["error"]["problems"]]


async def test_space_api_needs_a_signed_in_learner(settings: Settings,
                                                   storage: Storage) -> None:
    async with app_client(settings.model_copy(update={"dev_sign_in": True}), storage) as c:
        nobody = await c.get("/api/v1/space/entries", headers={"X-Requested-With": "x"})
        assert nobody.status_code == 401 and "sign in" in nobody.json()["error"]["message"]
    async with signed_in(settings, storage, roles=("admin", "compliance")) as admin:
        refused = await admin.call("GET", "/entries")
        assert refused.status_code == 403 and "learner" in refused.json()["error"]["message"]
    async with signed_in(settings, storage, email=None) as no_agent:
        refused = await no_agent.call("GET", "")
        assert refused.status_code == 403 and "xAPI agent" in refused.json()["error"]["message"]


async def test_space_api_record_list_edit_delete(settings: Settings, storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        assert (await ada.call("GET", "")).json()["exists"] is False
        made = await ada.call("POST", "/entries", json=ENTRY)
        assert made.status_code == 201, made.text
        entry = made.json()
        assert entry["statement"]["actor"]["mbox"] == "mailto:ada@example.org"
        status = (await ada.call("GET", "")).json()
        assert status["exists"] and status["mode"] == "envelope" and status["entries"] == 1
        assert (await ada.call("POST", "")).status_code == 409  # one space each
        listed = (await ada.call("GET", "/entries")).json()["entries"]
        assert [e["id"] for e in listed] == [entry["id"]]
        changed = await ada.call("PUT", f"/entries/{entry['id']}",
                                 json={**ENTRY, "title": "Renamed"})
        assert changed.status_code == 200 and changed.json()["title"] == "Renamed"
        assert (await ada.call("GET", f"/entries/{entry['id']}")).json()["title"] == "Renamed"
        assert (await ada.call("DELETE", f"/entries/{entry['id']}")).status_code == 204
        gone = await ada.call("GET", f"/entries/{entry['id']}")
        assert gone.status_code == 404 and entry["id"] in gone.json()["error"]["message"]


async def test_space_api_files_upload_download_remove(settings: Settings,
                                                      storage: Storage) -> None:
    async with signed_in(settings.model_copy(update={"space_file_max_bytes": 1000}),
                         storage) as ada:
        entry = (await ada.call("POST", "/entries", json=ENTRY)).json()
        files = f"/entries/{entry['id']}/files"
        added = await ada.call("POST", files, params={"name": "notes.txt"},
                               content=b"my notes", headers={"Content-Type": "text/plain"})
        assert added.status_code == 201, added.text
        (info,) = added.json()["files"]
        got = await ada.call("GET", f"{files}/{info['id']}")
        assert got.content == b"my notes" and got.headers["content-type"].startswith(
            "text/plain")
        assert got.headers["content-disposition"] == 'attachment; filename="notes.txt"'
        assert got.headers["content-security-policy"] == "sandbox"
        too_big = await ada.call("POST", files, params={"name": "big.bin"},
                                 content=b"x" * 1001)
        assert too_big.status_code == 413
        unnamed = await ada.call("POST", files, content=b"x")
        assert unnamed.status_code == 400 and problem_paths(unnamed) == ["?name"]
        removed = await ada.call("DELETE", f"{files}/{info['id']}")
        assert removed.status_code == 200 and removed.json()["files"] == []
        assert (await ada.call("GET", f"{files}/{info['id']}")).status_code == 404


@pytest.mark.parametrize(("body", "path"), [
    ({**ENTRY, "kind": "party"}, "$.kind"),
    ({**ENTRY, "title": None}, "$.title"),
    ({**ENTRY, "tags": [1]}, "$.tags[0]"),
    ({**ENTRY, "extra": True}, "$.extra"),
])
async def test_space_api_bad_entry_is_400_with_the_path(settings: Settings, storage: Storage,
                                                        body: dict[str, Any],
                                                        path: str) -> None:
    async with signed_in(settings, storage) as ada:
        answer = await ada.call("POST", "/entries", json=body)
        assert answer.status_code == 400 and path in problem_paths(answer)
        assert (await ada.call("GET", "")).json()["exists"] is False  # nothing written


async def test_space_api_changes_need_the_csrf_token(settings: Settings,
                                                     storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        answer = await ada.client.post("/api/v1/space/entries", json=ENTRY)
        assert answer.status_code == 403 and "CSRF" in answer.json()["error"]["message"]
        assert (await ada.call("GET", "")).json()["exists"] is False


async def test_space_api_learners_see_only_their_own(settings: Settings,
                                                     storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        mine = (await ada.call("POST", "/entries", json=ENTRY)).json()
    async with signed_in(settings, storage, email="grace@example.org") as grace:
        assert (await grace.call("GET", "")).json()["exists"] is False
        assert (await grace.call("GET", f"/entries/{mine['id']}")).status_code == 404
        await grace.call("POST", "/entries", json={**ENTRY, "title": "Grace's"})
        assert [e["title"] for e in (await grace.call("GET", "/entries")).json()["entries"]] \
            == ["Grace's"]
        assert (await grace.call("DELETE", f"/entries/{mine['id']}")).status_code == 404
    async with signed_in(settings, storage) as ada:
        assert [e["id"] for e in (await ada.call("GET", "/entries")).json()["entries"]] \
            == [mine["id"]]


async def test_space_api_sealed_unlock_lock_recover_and_sign_out(
        settings: Settings, storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        await ada.call("POST", "/entries", json=ENTRY)
        short = await ada.call("POST", "/seal", json={"passphrase": "short"})
        assert short.status_code == 400 and problem_paths(short) == ["$.passphrase"]
        sealed = await ada.call("POST", "/seal", json={"passphrase": PASSPHRASE})
        assert sealed.status_code == 200, sealed.text
        code = sealed.json()["recovery_code"]
        assert (await ada.call("GET", "")).json() | {"mode": "sealed", "unlocked": True} \
            == (await ada.call("GET", "")).json()
        assert len((await ada.call("GET", "/entries")).json()["entries"]) == 1
        assert (await ada.call("POST", "/lock")).status_code == 204
        locked = await ada.call("GET", "/entries")
        assert locked.status_code == 409 and "unlock" in locked.json()["error"]["message"]
        # Recording needs no unlocking: the server writes to the public key.
        assert (await ada.call("POST", "/entries", json=ENTRY)).status_code == 201
        wrong = await ada.call("POST", "/unlock", json={"passphrase": "not my passphrase"})
        assert wrong.status_code == 403 and problem_paths(wrong) == ["$.passphrase"]
        missing = await ada.call("POST", "/unlock", json={})
        assert missing.status_code == 400 and problem_paths(missing) == ["$.passphrase"]
        assert (await ada.call("POST", "/unlock",
                               json={"passphrase": PASSPHRASE})).status_code == 200
        assert len((await ada.call("GET", "/entries")).json()["entries"]) == 2
        await ada.call("POST", "/lock")
        recovered = await ada.call("POST", "/recover", json={
            "recovery_code": code, "passphrase": "a new passphrase, long"})
        assert recovered.status_code == 200 and recovered.json()["recovery_code"] != code
        assert (await ada.call("GET", "/entries")).status_code == 200  # unlocked by it
        spent = await ada.call("POST", "/recover", json={
            "recovery_code": code, "passphrase": "a new passphrase, long"})
        assert spent.status_code == 403 and problem_paths(spent) == ["$.recovery_code"]
        out = await ada.client.post("/sign-out", data={"csrftoken": ada.token})
        assert out.status_code == 303
        assert len(ada.client._transport.app.state.space_unlocked) == 0  # type: ignore[attr-defined]
    async with signed_in(settings, storage) as again:
        assert (await again.call("GET", "")).json()["unlocked"] is False
        assert (await again.call("GET", "/entries")).status_code == 409


async def test_space_api_change_the_passphrase(settings: Settings, storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        await ada.call("POST", "/entries", json=ENTRY)
        await ada.call("POST", "/seal", json={"passphrase": PASSPHRASE})
        wrong = await ada.call("POST", "/passphrase", json={
            "passphrase": "not my passphrase", "new_passphrase": "a new passphrase"})
        assert wrong.status_code == 403 and problem_paths(wrong) == ["$.passphrase"]
        missing = await ada.call("POST", "/passphrase", json={"passphrase": PASSPHRASE})
        assert missing.status_code == 400 and problem_paths(missing) == ["$.new_passphrase"]
        changed = await ada.call("POST", "/passphrase", json={
            "passphrase": PASSPHRASE, "new_passphrase": "a new passphrase"})
        assert changed.status_code == 200, changed.text
        await ada.call("POST", "/lock")
        assert (await ada.call("POST", "/unlock", json={"passphrase": PASSPHRASE})
                ).status_code == 403
        assert (await ada.call("POST", "/unlock", json={"passphrase": "a new passphrase"})
                ).status_code == 200


async def test_space_api_delete_the_space(settings: Settings, storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        assert (await ada.call("DELETE", "")).status_code == 404
        await ada.call("POST", "/entries", json=ENTRY)
        assert (await ada.call("DELETE", "")).status_code == 204
        assert (await ada.call("GET", "")).json()["exists"] is False
        assert (await ada.call("GET", "/entries")).status_code == 404


async def test_space_api_passphrase_guesses_are_slowed(settings: Settings,
                                                       storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        await ada.call("POST", "/entries", json=ENTRY)
        assert (await ada.call("POST", "/seal", json={"passphrase": PASSPHRASE})
                ).status_code == 200  # one try of the ten a minute
        answers = [(await ada.call("POST", "/unlock", json={"passphrase": f"guess {n:06}"})
                    ).status_code for n in range(10)]
        assert answers == [403] * 9 + [429]
        assert int((await ada.call("POST", "/unlock", json={"passphrase": PASSPHRASE})
                    ).headers["retry-after"]) >= 1  # even the right one, for now
