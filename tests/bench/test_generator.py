"""The benchmark's generator: deterministic, valid, and its compliance share is what a
catalogue keeps."""

from __future__ import annotations

import orjson
import pytest

from bench.generator import MAX_BYTES, MIN_BYTES, StatementGenerator
from plugins.catalogue import Catalogue, load_catalogue
from statements.parsing import parse_statements
from statements.versions import XapiVersion


def test_same_seed_same_statements_and_documents() -> None:
    first, second = StatementGenerator(7), StatementGenerator(7)
    assert first.statements(300) == second.statements(300)
    assert first.state_documents(50) == second.state_documents(50)
    assert StatementGenerator(8).statements(300) != StatementGenerator(7).statements(300)


def test_statements_are_valid_and_of_the_promised_size() -> None:
    statements = StatementGenerator(3, compliance_share=0.5).statements(500)
    parse_statements(orjson.dumps(statements), XapiVersion.V2)  # raises if one is invalid
    assert all(MIN_BYTES <= len(orjson.dumps(s)) <= MAX_BYTES for s in statements)
    assert len({s["id"] for s in statements}) == 500


@pytest.mark.parametrize(("share", "low", "high"), [(0.0, 0.0, 0.0), (0.1, 0.06, 0.14),
                                                    (1.0, 1.0, 1.0)])
def test_the_catalogue_keeps_the_compliance_share(share: float, low: float,
                                                  high: float) -> None:
    generator = StatementGenerator(11, compliance_share=share)
    catalogue = Catalogue(load_catalogue(orjson.dumps(generator.compliance_catalogue()).decode(),
                                         filename="catalogue.json"))
    statements = generator.statements(1500)
    kept = sum(catalogue.matches(s) is not None for s in statements) / len(statements)
    assert low <= kept <= high


def test_state_documents_are_json_objects_of_several_kinds() -> None:
    documents = StatementGenerator(5).state_documents(200)
    assert {d["stateId"] for d in documents} >= {"suspend_data", "bookmark"}
    assert all(isinstance(orjson.loads(d["body"]), dict) for d in documents)
    assert len({(d["activityId"], d["registration"], d["stateId"]) for d in documents}) == 200


def test_a_compliance_share_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="compliance_share"):
        StatementGenerator(1, compliance_share=1.5)
