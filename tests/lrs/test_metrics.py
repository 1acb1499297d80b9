"""Prometheus metrics after known traffic: requests, latency, decisions, rejections, access."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from lrs.config import Settings
from lrs.credentials import Retention, Scope
from lrs.storage import Storage
from tests.conftest import Client, add_credential, app_client, scrape, with_metrics_token
from tests.factories import make_agent, make_statement

pytestmark = pytest.mark.usefixtures("engine")
VERSION = {"X-Experience-API-Version": "2.0.0"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Metrics served on the LRS's port, behind a token (not served by default)."""
    return with_metrics_token(settings)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return 0.0




async def test_metrics_count_statements_by_decision_and_credential_name(
        client: Client, storage: Storage) -> None:
    tally = await add_credential(storage, Scope.STATEMENTS_WRITE, name="intranet",
                                 retention=Retention.TALLY)
    kept = [make_statement() for _ in range(3)]
    assert (await client.post("/xapi/statements", json=kept)).status_code == 200
    tallied = [make_statement() for _ in range(2)]
    response = await client.post("/xapi/statements", json=tallied, headers=tally)
    assert response.status_code == 200
    one = make_statement()
    assert (await client.put("/xapi/statements", json=one, headers=tally,
                             params={"statementId": one["id"]})).status_code == 204

    text = await scrape(client)

    assert sample(text, "lrs_statements_total", decision="full", credential="platform") == 3
    assert sample(text, "lrs_statements_total", decision="tally", credential="intranet") == 3
    assert sample(text, "lrs_statements_total", decision="drop", credential="intranet") == 0
    assert sample(text, "lrs_http_requests_total", method="POST", route="/xapi/statements",
                  status="200") == 2
    assert sample(text, "lrs_http_requests_total", method="PUT", route="/xapi/statements",
                  status="204") == 1
    assert sample(text, "lrs_http_request_duration_seconds_count",
                  route="/xapi/statements") == 3


async def test_metrics_label_routes_by_template_never_by_query_or_id(client: Client) -> None:
    statement = make_statement(actor=make_agent("grace"))
    await client.post("/xapi/statements", json=statement)
    await client.get("/xapi/statements", params={"statementId": statement["id"]})
    await client.get("/xapi/statements", params={"agent": '{"mbox":"mailto:grace@example.com"}'})
    await client.get(f"/no/such/{statement['id']}")

    text = await scrape(client)

    assert sample(text, "lrs_http_requests_total", method="GET", route="/xapi/statements",
                  status="200") == 2
    assert sample(text, "lrs_http_requests_total", method="GET", route="<unmatched>",
                  status="404") == 1
    assert statement["id"] not in text and "grace" not in text and "?" not in text


async def test_metrics_count_rejected_statement_requests_by_status(client: Client) -> None:
    invalid = make_statement(verb={"id": "not an IRI"})
    assert (await client.post("/xapi/statements", json=invalid)).status_code == 400
    no_version = await client.post("/xapi/statements", json=make_statement(),
                                   headers={"X-Experience-API-Version": "0.9"})
    assert no_version.status_code == 400  # refused by the middleware, before any route
    anonymous = await client.post("/xapi/statements", json=make_statement(),
                                  headers={"Authorization": ""})
    assert anonymous.status_code == 401
    await client.get("/xapi/statements", params={"since": "yesterday"})  # a GET: not counted

    text = await scrape(client)

    assert sample(text, "lrs_statement_requests_rejected_total", status="400") == 2
    assert sample(text, "lrs_statement_requests_rejected_total", status="401") == 1
    assert sample(text, "lrs_statements_total", decision="full", credential="platform") == 0


async def test_metrics_with_token_refuse_requests_without_it(settings: Settings,
                                                             storage: Storage) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("s3cret-token")})
    async with app_client(guarded, storage) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        basic = await client.get("/metrics", headers={"Authorization": "Basic s3cret-token"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert [missing.status_code, wrong.status_code, basic.status_code] == [401, 401, 401]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "lrs_http_requests_total" not in missing.text
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain")
    assert sample(right.text, "lrs_http_requests_total", method="GET", route="/metrics",
                  status="401") == 3


async def test_metrics_disabled_are_not_served(settings: Settings, storage: Storage) -> None:
    quiet = settings.model_copy(update={"metrics_enabled": False})
    auth = await add_credential(storage, Scope.ALL)
    async with app_client(quiet, storage) as client:
        assert (await client.get("/metrics")).status_code == 404
        posted = await client.post("/xapi/statements", json=make_statement(),
                                   headers={**auth, **VERSION})
    assert posted.status_code == 200  # and nothing fails for want of a registry


async def test_metrics_are_not_served_on_the_lrs_port_by_default(settings: Settings,
                                                                 storage: Storage) -> None:
    default = settings.model_copy(update={"metrics_token": None})
    assert Settings.model_fields["metrics_token"].default is None
    assert Settings.model_fields["metrics_port"].default is None
    admin = await add_credential(storage, Scope.ALL, name="secret-platform-name")
    async with app_client(default, storage) as client:
        await client.post("/xapi/statements", json=make_statement(),
                          headers={**admin, **VERSION})
        for headers in ({}, admin, {"Authorization": "Bearer anything"}):
            response = await client.get("/metrics", headers=headers)
            assert response.status_code == 404
            assert "secret-platform-name" not in response.text


async def test_metrics_registries_are_per_app(settings: Settings, storage: Storage) -> None:
    async with app_client(settings, storage) as first:
        await first.get("/health/live")
        async with app_client(settings, storage) as second:
            text = await scrape(second)
    assert sample(text, "lrs_http_requests_total", method="GET", route="/health/live",
                  status="200") == 0
