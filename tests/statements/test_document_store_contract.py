"""The DocumentStore and ActivityStore contracts, over every reachable engine."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from lrs.storage import Storage
from statements.documents import (
    DocumentConflict,
    DocumentKind,
    DocumentScope,
    MergeRejected,
    Mutation,
    PreconditionFailed,
    Preconditions,
    delete_mutation,
    make_document,
    post_mutation,
    put_mutation,
)

STATE = DocumentScope(DocumentKind.STATE, activity="http://e.com/a", agent="mbox:mailto:a@e.com")
NONE = Preconditions()


def put(content: bytes, at: int = 1000, content_type: str = "application/json",
        preconditions: Preconditions = NONE, conflict: bool = False) -> Mutation:
    return put_mutation(make_document(content, content_type, at), preconditions,
                        conflict_without_precondition=conflict, precondition_required=False)


async def test_documents_put_get_and_list(storage: Storage) -> None:
    docs = storage.documents
    await docs.mutate(STATE, "s1", put(b'{"a":1}', 1000))
    await docs.mutate(STATE, "s2", put(b"raw bytes", 2000, "text/plain"))
    got = await docs.get(STATE, "s2")
    assert got is not None
    assert (got.content, got.content_type, got.updated_ms) == (b"raw bytes", "text/plain", 2000)
    assert len(got.etag) == 40
    assert await docs.ids(STATE, None) == (["s1", "s2"], 2000)
    assert await docs.ids(STATE, 1000) == (["s2"], 2000)  # since is exclusive
    assert await docs.get(STATE, "missing") is None


async def test_documents_scopes_are_separate(storage: Storage) -> None:
    registered = DocumentScope(DocumentKind.STATE, STATE.activity, STATE.agent,
                               registration="3fa85f64-5717-4562-b3fc-2c963f66afa6")
    profile = DocumentScope(DocumentKind.ACTIVITY_PROFILE, activity=STATE.activity)
    await storage.documents.mutate(STATE, "x", put(b"plain"))
    await storage.documents.mutate(registered, "x", put(b"registered"))
    await storage.documents.mutate(profile, "x", put(b"profile"))
    for scope, content in ((STATE, b"plain"), (registered, b"registered"), (profile, b"profile")):
        got = await storage.documents.get(scope, "x")
        assert got is not None and got.content == content
    await storage.documents.delete_all(STATE)
    assert await storage.documents.get(STATE, "x") is None
    assert await storage.documents.get(registered, "x") is not None


async def test_documents_post_merges_json_objects_one_level(storage: Storage) -> None:
    await storage.documents.mutate(STATE, "m", put(b'{"a":{"x":1},"b":2}'))
    posted = make_document(b'{"a":{"y":3},"c":4}', "application/json; charset=utf-8", 5000)
    await storage.documents.mutate(STATE, "m", post_mutation(posted, NONE))
    got = await storage.documents.get(STATE, "m")
    assert got is not None
    assert orjson.loads(got.content) == {"a": {"y": 3}, "b": 2, "c": 4}
    assert got.etag == make_document(got.content, None, 0).etag


@pytest.mark.parametrize(("stored", "posted"), [
    (b'{"a":1}', b"[1,2]"), (b"[1]", b'{"a":1}'), (b'{"a":1}', b"{not json")])
async def test_documents_post_rejects_what_is_not_an_object(storage: Storage, stored: bytes,
                                                            posted: bytes) -> None:
    await storage.documents.mutate(STATE, "m", put(stored))
    with pytest.raises(MergeRejected):
        await storage.documents.mutate(
            STATE, "m", post_mutation(make_document(posted, "application/json", 9), NONE))
    got = await storage.documents.get(STATE, "m")
    assert got is not None and got.content == stored  # nothing changed


async def test_documents_preconditions(storage: Storage) -> None:
    await storage.documents.mutate(STATE, "p", put(b"one"))
    current = await storage.documents.get(STATE, "p")
    assert current is not None
    with pytest.raises(PreconditionFailed):
        await storage.documents.mutate(STATE, "p", put(b"two", preconditions=Preconditions(
            if_match=("0" * 40,))))
    with pytest.raises(PreconditionFailed):
        await storage.documents.mutate(STATE, "p", put(b"two", preconditions=Preconditions(
            if_none_match=("*",))))
    with pytest.raises(DocumentConflict):
        await storage.documents.mutate(STATE, "p", put(b"two", conflict=True))
    await storage.documents.mutate(STATE, "p", put(b"two", preconditions=Preconditions(
        if_match=(current.etag,))))
    with pytest.raises(PreconditionFailed):
        await storage.documents.mutate(STATE, "p", delete_mutation(Preconditions(
            if_match=(current.etag,))))
    await storage.documents.mutate(STATE, "p", delete_mutation(NONE))
    assert await storage.documents.get(STATE, "p") is None


async def test_documents_concurrent_conditional_puts_let_one_win(storage: Storage) -> None:
    await storage.documents.mutate(STATE, "c", put(b"base"))
    base = await storage.documents.get(STATE, "c")
    assert base is not None
    guard = Preconditions(if_match=(base.etag,))
    results = await asyncio.gather(
        *(storage.documents.mutate(STATE, "c", put(f"writer {n}".encode(), preconditions=guard))
          for n in range(5)), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, PreconditionFailed) for r in results if r is not None)


async def test_activities_merge_language_maps(storage: Storage) -> None:
    activity = "http://e.com/act"
    await storage.activities.merge({activity: {"name": {"en-US": "Fire"}, "type": "http://t/1"}})
    await storage.activities.merge({activity: {"name": {"fr-FR": "Feu"}, "type": "http://t/2"}})
    held = await storage.activities.definitions([activity, "http://e.com/unknown"])
    assert held == {activity: {"name": {"en-US": "Fire", "fr-FR": "Feu"}, "type": "http://t/2"}}
