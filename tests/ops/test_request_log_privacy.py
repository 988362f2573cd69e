"""Request logs keep the path and the names of query parameters, never their values: a staff
search or a filter by email, name or phone is personal data."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from caseowner.ops.logs import logging_config, without_query_values
from tests.factories import TeamFactory, make_agent


@pytest.fixture
def request_log_lines():
    """The JSON lines the production logging writes for this test's requests (the request
    events included: the test run's own format may be plain, which leaves them out)."""
    stream = io.StringIO()
    config = logging_config(fmt="json", level="INFO")
    formatter = logging.config.DictConfigurator(config).configure_custom(
        dict(config["formatters"]["structured"])
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root, requests = logging.getLogger(), logging.getLogger("django_structlog")
    levels = root.level, requests.level
    root.setLevel(logging.INFO)
    requests.setLevel(logging.INFO)
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(levels[0])
    requests.setLevel(levels[1])


@pytest.mark.django_db
def test_a_logged_search_keeps_the_path_and_not_the_address_searched_for(client, request_log_lines):
    client.force_login(make_agent(TeamFactory()))

    client.get("/api/v1/search/", {"q": "someone@example.org"})

    lines = request_log_lines()
    requests = [line for line in lines if line["event"] in ("request_started", "request_finished")]
    assert [line["request"] for line in requests] == ["GET /api/v1/search/?q=[redacted]"] * 2
    assert not [line for line in lines if "someone" in json.dumps(line)]


def test_every_query_value_goes_and_plain_parameter_names_stay():
    assert without_query_values("GET /api/v1/customers/?email=a%40b.example&page=2") == (
        "GET /api/v1/customers/?email=[redacted]&page=[redacted]"
    )
    assert without_query_values('"GET /search/?ruth@example.org HTTP/1.1" 200 512') == (
        '"GET /search/?[redacted] HTTP/1.1" 200 512'
    )
    assert without_query_values("GET /queue/") == "GET /queue/"


@pytest.mark.django_db
def test_the_logged_client_address_is_the_one_the_throttles_count(
    client, request_log_lines, settings
):
    """Directly exposed, a client's own X-Forwarded-For is not its address; behind one
    trusted proxy, the address that proxy saw is."""
    client.force_login(make_agent(TeamFactory()))
    client.get("/api/v1/queue/", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="198.51.100.4")
    finished = [line for line in request_log_lines() if line["event"] == "request_finished"]
    assert [line["ip"] for line in finished] == ["198.51.100.4"]

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}  # DRF reloads
    client.get(
        "/api/v1/queue/", HTTP_X_FORWARDED_FOR="203.0.113.9, 192.0.2.7", REMOTE_ADDR="10.0.0.2"
    )
    finished = [line for line in request_log_lines() if line["event"] == "request_finished"]
    assert finished[-1]["ip"] == "192.0.2.7"
