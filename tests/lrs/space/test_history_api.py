"""My own history's API (/api/v1/space/history and the admin's flush) on every engine, signed in
through dev sign-in: off by default, on only with a sealed space, tallied statements copied and
read back after a flush, stop and delete, and clear 4xx answers naming what is wrong."""

from __future__ import annotations

import pytest

from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.people.csrf import CSRF_HEADER
from lrs.storage import Storage
from tests.conftest import add_credential
from tests.factories import make_agent, make_statement
from tests.lrs.space.test_space_api import PASSPHRASE, Learner, problem_paths, signed_in

pytestmark = pytest.mark.usefixtures("engine")
ADA = make_agent("ada", mbox="mailto:ada@example.org")
VIEWED = "http://id.tincanapi.com/verb/viewed"


def viewed(actor: dict[str, object], page: int) -> dict[str, object]:
    return make_statement(actor=actor, verb={"id": VIEWED},
                          object={"id": f"http://intranet.example.com/pages/{page}"},
                          result=None, context={"platform": "intranet"})


async def history(learner: Learner, method: str = "GET", path: str = "",
                  **kwargs: object) -> dict[str, object]:
    answer = await learner.call(method, f"/history{path}", **kwargs)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def test_history_api_is_off_by_default_and_needs_a_sealed_space(
        settings: Settings, storage: Storage) -> None:
    async with signed_in(settings, storage) as ada:
        assert await history(ada) == {"keeping": False, "since": None, "sealed": False,
                                      "unlocked": False, "batches": 0}
        refused = await ada.call("POST", "/history")
        assert refused.status_code == 409 and problem_paths(refused) == ["$"]
        assert "create your space" in refused.json()["error"]["message"]
        assert (await ada.call("POST", "")).status_code == 201  # an envelope space
        refused = await ada.call("POST", "/history")
        assert refused.status_code == 409 and "seal yours" in refused.json()["error"]["message"]
        assert (await ada.call("POST", "/seal", json={"passphrase": PASSPHRASE})
                ).status_code == 200
        keeping = await history(ada, "POST")
        assert keeping["keeping"] is True and keeping["sealed"] and keeping["unlocked"]
        assert isinstance(keeping["since"], str)
        assert (await history(ada, "POST"))["since"] == keeping["since"]  # kept, not reset
    async with signed_in(settings, storage, roles=("admin",)) as admin:
        assert (await admin.call("GET", "/history")).status_code == 403


async def test_history_api_copies_tallied_statements_and_reads_them_after_a_flush(
        settings: Settings, storage: Storage) -> None:
    tally = await add_credential(storage, Scope.STATEMENTS_WRITE, name="intranet",
                                 retention=Retention.TALLY)
    admin = await add_credential(storage, Scope.ADMIN, name="ops")
    xapi = {"X-Experience-API-Version": "2.0.0"}
    async with signed_in(settings, storage) as ada:
        await ada.call("POST", "")
        await ada.call("POST", "/seal", json={"passphrase": PASSPHRASE})
        await history(ada, "POST")
        mine = [viewed(ADA, n) for n in range(3)]
        others = [viewed(make_agent("bob"), n) for n in range(2)]
        sent = await ada.client.post("/xapi/statements", json=mine + others,
                                     headers={**tally, **xapi, CSRF_HEADER: ada.token})
        assert sent.status_code == 200, sent.text
        # Tallied, not kept: GET /statements knows none of them.
        kept = await ada.client.get("/xapi/statements", headers={
            **xapi, **await add_credential(storage, Scope.ALL, name="reader")})
        assert kept.json()["statements"] == []
        assert (await history(ada, path="/statements"))["statements"] == []  # not flushed
        denied = await ada.client.post("/api/v1/admin/space/history/flush",
                                       headers={**tally, CSRF_HEADER: ada.token})
        assert denied.status_code == 403
        bad = await ada.client.post("/api/v1/admin/space/history/flush",
                                    json={"through_today": "yes"},
                                    headers={**admin, CSRF_HEADER: ada.token})
        assert bad.status_code == 400 and problem_paths(bad) == ["$.through_today"]
        flushed = await ada.client.post("/api/v1/admin/space/history/flush",
                                        json={"through_today": True},
                                        headers={**admin, CSRF_HEADER: ada.token})
        assert flushed.status_code == 200, flushed.text
        assert flushed.json()["batches"] == 1 and flushed.json()["copies"] == 3
        read = await history(ada, path="/statements")
        assert sorted(s["id"] for s in read["statements"]) == sorted(s["id"] for s in mine)
        assert (await history(ada))["batches"] == 1
        assert (await ada.call("POST", "/lock")).status_code == 204
        locked = await ada.call("GET", "/history/statements")
        assert locked.status_code == 409 and "unlock" in locked.json()["error"]["message"]


async def test_history_api_stop_and_delete_the_copy(settings: Settings,
                                                    storage: Storage) -> None:
    admin = await add_credential(storage, Scope.ADMIN, name="ops")
    async with signed_in(settings, storage) as ada:
        await ada.call("POST", "")
        await ada.call("POST", "/seal", json={"passphrase": PASSPHRASE})
        await history(ada, "POST")
        flushed = await ada.client.post("/api/v1/admin/space/history/flush",
                                        json={"through_today": True},
                                        headers={**admin, CSRF_HEADER: ada.token})
        assert flushed.json()["batches"] == 1  # an empty, padded batch: no activity
        bad = await ada.call("DELETE", "/history", params={"copy": "shred"})
        assert bad.status_code == 400 and problem_paths(bad) == ["?copy"]
        unknown = await ada.call("DELETE", "/history", params={"now": "1"})
        assert unknown.status_code == 400 and problem_paths(unknown) == ["?now"]
        stopped = await history(ada, "DELETE")
        assert stopped["stopped"] == 1 and stopped["status"] == {
            "keeping": False, "since": None, "sealed": True, "unlocked": True, "batches": 1}
        deleted = await history(ada, "DELETE", "/copy")
        assert deleted["batches_deleted"] == 1
        await history(ada, "POST")
        again = await history(ada, "DELETE", params={"copy": "delete"})
        assert again["stopped"] == 1 and again["batches_deleted"] == 0
