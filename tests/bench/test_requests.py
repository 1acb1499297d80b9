"""The harness's fills and requests, against the real app on each engine: every request a
scenario sends is answered 2xx, and the fills leave what they say."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from aggregation.report import whole_days
from aggregation.store import Filters
from bench import scenarios
from bench.fill import STORED_EPOCH, STORED_STEP_MS, add_hits, draw_hits, fill_statements
from bench.generator import DAYS, EPOCH, StatementGenerator
from bench.load import Call
from lrs.storage import Storage
from tests.conftest import Client

SEED = 2026
STORED = 300


async def test_every_statement_query_finds_what_it_asks_for(storage: Storage,
                                                            client: Client) -> None:
    await fill_statements(storage, SEED, 0, STORED - 100)
    await fill_statements(storage, SEED, STORED - 100, 100)  # a second fill continues the first
    sample = StatementGenerator(SEED).statements(STORED)
    for kind in scenarios.QUERY_KINDS:
        for call in scenarios.statement_queries(kind, sample, STORED, count=4, seed=SEED):
            response = await client.get(call.path)
            assert response.status_code == 200, (kind, call.path, response.text)
            found = response.json()["statements"]
            assert found, (kind, call.path)
            if kind != "since":
                continue
            # Following `more` to the end returns every statement stored after `since`.
            since = parse_qs(urlsplit(call.path).query)["since"][0]
            after = (datetime.fromisoformat(since) - STORED_EPOCH).total_seconds() * 1000
            expected = STORED - (round(after) // STORED_STEP_MS + 1)
            more = response.json()["more"]
            while more:
                page = (await client.get(more)).json()
                found += page["statements"]
                more = page["more"]
            assert len(found) == expected


async def test_the_counters_hold_every_hit_and_the_aggregate_queries_answer(
        storage: Storage, client: Client) -> None:
    hits = draw_hits(SEED, 2_000)
    assert sum(hits.values()) == 2_000
    await add_hits(storage, hits)
    first = EPOCH.date()
    last = first.fromordinal(first.toordinal() + DAYS - 1)
    counts = await storage.tally.popular(*whole_days(first, last), Filters(), by="hits",
                                         limit=100_000)
    assert sum(c.hits for c in counts) == 2_000
    generator = StatementGenerator(SEED)
    for kind in ("popular", "series"):
        for call in scenarios.aggregate_queries(kind, generator, count=10, seed=SEED):
            response = await client.get(call.path)
            assert response.status_code == 200, (call.path, response.text)


async def test_state_documents_are_created_overwritten_and_read(client: Client) -> None:
    documents = StatementGenerator(SEED).state_documents(5)
    for create, overwrite, read, document in zip(
            scenarios.state_calls(documents, "PUT"),
            scenarios.state_calls(documents, "PUT", overwrite=True),
            scenarios.state_calls(documents, "GET"), documents, strict=True):
        for call in (create, overwrite):
            response = await client.put(call.path, content=call.body,
                                        headers={"Content-Type": "application/json",
                                                 **dict(call.headers)})
            assert response.status_code == 204, response.text
        response = await client.get(read.path)
        assert response.status_code == 200
        assert response.content == document["body"]
    # Without If-Match, the second PUT is refused: why the overwrite scenario sends one.
    again = scenarios.state_calls(documents, "PUT")[0]
    response = await client.put(again.path, content=again.body,
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 409


def test_a_request_line_is_tab_separated_and_refuses_tabs_and_newlines() -> None:
    call = Call("PUT", "/xapi/activities/state?stateId=a", b'{"a":1}', (("If-Match", "*"),))
    assert call.line() == b'PUT\t/xapi/activities/state?stateId=a\tIf-Match: *\t{"a":1}'
    assert Call("GET", "/xapi/statements").line() == b"GET\t/xapi/statements\t\t"
    for bad in (Call("GET", "/x\ty"), Call("POST", "/x", b"{\n}")):
        with pytest.raises(ValueError, match="tab or newline"):
            bad.line()
