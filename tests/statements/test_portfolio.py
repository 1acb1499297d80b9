"""The learner's statements: who they belong to, and how SQLite finds them."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from statements.portfolio import belongs_to, html_row
from statements.query import StatementQuery
from statements.stores.sqlite import MIGRATIONS, build_query
from tests.factories import make_agent, make_statement

ALICE = "mbox:mailto:alice@example.com"
PLATFORM = {"objectType": "Agent", "account": {"homePage": "http://lrs", "name": "k"}}


@pytest.mark.parametrize(("statement", "hers"), [
    (make_statement(actor=make_agent("alice"), authority=PLATFORM), True),
    (make_statement(actor=make_agent("bob"), authority=make_agent("alice")), True),
    (make_statement(actor={"objectType": "Group", "member": [make_agent("alice")]},
                    authority=PLATFORM), True),
    (make_statement(actor=make_agent("bob"), object=make_agent("alice"), authority=PLATFORM),
     False),
    (make_statement(actor=make_agent("bob"), authority=PLATFORM,
                    context={"instructor": make_agent("alice")}), False),
    (make_statement(actor=make_agent("bob"), authority={
        "objectType": "Group", "member": [PLATFORM, make_agent("alice")]}), True),
])
def test_belongs_to_authority_or_actor_only(statement: dict[str, Any], hers: bool) -> None:
    assert belongs_to(statement, ALICE) is hers


def test_mine_query_reads_only_the_learners_rows() -> None:
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        migration(conn)
    sql, params = build_query(StatementQuery(mine=ALICE, limit=10), fetch=11)
    plan = " / ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    # Both halves by their index: no scan of the statements table.
    assert "MULTI-INDEX OR" in plan and "statements_authority" in plan, plan
    assert "SEARCH statement_agents USING PRIMARY KEY (agent=?)" in plan, plan
    assert "SCAN s" not in plan, plan


def test_html_row_escapes_every_value() -> None:
    row = html_row(make_statement(actor={**make_agent("alice"), "name": "<b>A</b>"},
                                  verb={"id": "http://v", "display": {"en": "did <i>"}},
                                  result={"duration": "PT1M<"}))
    assert "<b>" not in row and "&lt;b&gt;A&lt;/b&gt;" in row
    assert "did &lt;i&gt;" in row and "PT1M&lt;" in row
