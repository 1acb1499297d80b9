"""The request log: one JSON line per request, with an id, and nothing identifying."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from starlette.routing import Mount, Route

from lrs.requestlog import ACCESS_LOGGER, JsonFormatter, route_template
from tests.conftest import Client
from tests.factories import make_agent, make_statement

pytestmark = pytest.mark.usefixtures("engine")


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The request log lines captured, each as the JSON the formatter writes."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == ACCESS_LOGGER]


async def test_request_log_line_has_id_route_status_duration_and_credential(
        client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = await client.post("/xapi/statements", json=make_statement())
    [line] = lines(caplog)
    assert line["request_id"] == response.headers["x-request-id"]
    assert len(line["request_id"]) == 32
    assert {k: line[k] for k in ("logger", "method", "route", "status", "credential")} == {
        "logger": ACCESS_LOGGER, "method": "POST", "route": "/xapi/statements",
        "status": 200, "credential": "platform"}
    assert line["duration_ms"] > 0


async def test_request_log_echoes_a_sent_request_id_and_replaces_an_unsafe_one(
        client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    kept = await client.get("/xapi/about", headers={"X-Request-Id": "trace-42.a:b"})
    unsafe = await client.get("/xapi/about", headers={"X-Request-Id": "ada@example.com"})
    assert kept.headers["x-request-id"] == "trace-42.a:b"
    assert unsafe.headers["x-request-id"] != "ada@example.com"
    assert [line["request_id"] for line in lines(caplog)] == [
        "trace-42.a:b", unsafe.headers["x-request-id"]]
    assert "credential" not in lines(caplog)[0]  # /about is not authenticated


async def test_request_log_keeps_no_query_string_or_identifier(
        client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    statement = make_statement(actor=make_agent("hopper7x"))
    await client.post("/xapi/statements", json=statement)
    await client.get("/xapi/statements", params={"agent": json.dumps(statement["actor"])})
    await client.get("/xapi/statements", params={"statementId": statement["id"]})
    await client.get(f"/xapi/agents/hopper7x/{statement['id']}")
    await client.get("/xapi/statements", headers={"X-Experience-API-Version": "hopper7x"})
    text = caplog.text + json.dumps(lines(caplog))
    assert [line["route"] for line in lines(caplog)] == [
        "/xapi/statements", "/xapi/statements", "/xapi/statements", "<unmatched>",
        "/xapi/statements"]
    assert "hopper7x" not in text and statement["id"] not in text and "agent=" not in text


def test_route_template_includes_mount_prefix_and_keeps_parameters_unfilled() -> None:
    async def endpoint() -> None: ...

    routes = [Mount("/api/v1", routes=[Route("/things/{thing}", endpoint)]),
              Route("/health/live", endpoint)]
    scope = {"type": "http", "path": "/api/v1/things/secret-42", "root_path": "",
             "method": "GET"}
    assert route_template(routes, scope) == "/api/v1/things/{thing}"
    assert route_template(routes, {**scope, "path": "/health/live"}) == "/health/live"
    assert route_template(routes, {**scope, "path": "/elsewhere"}) is None


def test_json_formatter_writes_one_line_with_fields() -> None:
    record = logging.LogRecord("lrs.access", logging.INFO, __file__, 1, "request\nsplit", None,
                               None)
    record.fields = {"status": 200}
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert json.loads(text)["status"] == 200 and json.loads(text)["level"] == "info"

