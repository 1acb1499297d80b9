"""The retention chain: built-in rules in order, third-party plugins between them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy
import pytest

from plugins.catalogue import Catalogue, CatalogueEntry
from plugins.hookspecs import Decision, RetentionContext, hookimpl
from plugins.manager import decide, make_plugin_manager
from tests.factories import make_statement, voiding

MANDATORY = "http://lms.example.com/courses/fire-safety"


def context(credential: Decision = Decision.TALLY, server: Decision = Decision.TALLY,
            catalogue: tuple[CatalogueEntry, ...] = (),
            voided: dict[str, Decision] | None = None) -> RetentionContext:
    return RetentionContext("key", "platform", credential, server, Catalogue(catalogue),
                            voided or {})


@pytest.mark.parametrize(("statement", "ctx", "expected"), [
    (make_statement(), context(credential=Decision.FULL), Decision.FULL),
    (make_statement(), context(credential=Decision.TALLY, server=Decision.FULL), Decision.TALLY),
    (make_statement(object={"id": MANDATORY}),
     context(catalogue=(CatalogueEntry(kind="activity", value=MANDATORY),)), Decision.FULL),
    (voiding("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
     context(credential=Decision.FULL,
             voided={"3fa85f64-5717-4562-b3fc-2c963f66afa6": Decision.TALLY}), Decision.TALLY),
    (voiding("3fa85f64-5717-4562-b3fc-2c963f66afa6"), context(credential=Decision.FULL),
     Decision.FULL),
], ids=["credential", "credential-before-server", "catalogue", "voiding-follows-target",
        "voiding-unknown-target"])
def test_decide_builtin_rules_in_order(statement: dict[str, Any], ctx: RetentionContext,
                                       expected: Decision) -> None:
    assert decide(make_plugin_manager(load_entry_points=False), statement, ctx) is expected


SAMPLE = Path(__file__).parent.parent / "sample_plugin"


def test_decide_entry_point_plugin_runs_before_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The sample plugin is "installed" (its module and dist-info on sys.path), so pluggy
    # finds it through importlib.metadata in the `lrs` entry-point group, as in production.
    monkeypatch.syspath_prepend(str(SAMPLE))
    manager = make_plugin_manager()
    assert manager.has_plugin("keep_cmi5")
    cmi5 = make_statement(context={"contextActivities": {"category": [
        {"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]}})
    assert decide(manager, cmi5, context()) is Decision.FULL
    assert decide(manager, make_statement(), context()) is Decision.TALLY


def test_make_plugin_manager_refuses_a_misspelt_hook() -> None:
    class Misspelt:
        @hookimpl
        def lrs_retention_decde(self, statement: dict[str, Any]) -> None: ...

    with pytest.raises(pluggy.PluginValidationError):
        make_plugin_manager(load_entry_points=False, extra=(Misspelt(),))
