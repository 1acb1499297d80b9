"""docs/alerts.yml: valid rule groups naming only metrics (and labels) the LRS exposes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from lrs.config import Settings
from tests.conftest import Client, scrape, with_metrics_token
from tests.factories import make_statement

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Metrics served on the LRS's port, behind a token (not served by default)."""
    return with_metrics_token(settings)
ALERTS = Path(__file__).resolve().parents[2] / "docs" / "alerts.yml"
# Series Prometheus adds itself, not the LRS.
SYNTHETIC = {"up"}
SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*\[?")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
PROMQL_WORDS = {"sum", "by", "rate", "histogram_quantile", "without", "avg", "max", "min",
                "and", "or", "unless", "on", "ignoring", "group_left", "increase", "count"}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def selectors(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, label names matched) of each series selector in a PromQL expression."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_strings)
    found = []
    for name, matchers, in SELECTOR.findall(without_groupings):
        if name in PROMQL_WORDS or re.fullmatch(r"\d.*|e\d+", name):
            continue
        found.append((name, set(MATCHER.findall(matchers))))
    return found


def test_alert_rules_are_well_formed() -> None:
    names = [rule["alert"] for rule in rules()]
    assert names and len(names) == len(set(names))
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["expr"].strip() and rule["annotations"]["summary"], rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), rule["alert"]


async def test_alert_rules_name_only_exposed_metrics_and_labels(client: Client) -> None:
    # Traffic that makes every labelled family show at least one sample.
    statement = make_statement()
    assert (await client.post("/xapi/statements", json=statement)).status_code == 200
    assert (await client.post("/xapi/statements", json={**statement, "verb": {
        "id": "http://example.com/verbs/other"}})).status_code == 409
    assert (await client.post("/xapi/statements", json={"verb": 1})).status_code == 400
    exposed: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(await scrape(client)):
        for sample in family.samples:
            exposed.setdefault(sample.name, set()).update(sample.labels)

    for rule in rules():
        for name, labels in selectors(rule["expr"]):
            if name in SYNTHETIC:
                continue
            assert name in exposed, f"{rule['alert']}: the LRS exposes no {name}"
            assert labels - {"job", "instance"} <= exposed[name], \
                f"{rule['alert']}: {name} has no label {labels - exposed[name]}"
