"""Structured logs: one JSON line per event, with the context bound for the work."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
import structlog
from rest_framework.test import APIClient

from caseowner.ops.logs import logging_config
from notifications.models import Notification
from tests.factories import CustomerFactory, TeamFactory, make_agent


@pytest.fixture
def json_lines():
    """The root logger writes JSON to a buffer for the test; the old handlers come back."""
    stream = io.StringIO()
    config = logging_config(fmt="json", level="INFO")
    formatter = logging.config.DictConfigurator(config).configure_custom(
        dict(config["formatters"]["structured"])
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)  # whatever LOG_LEVEL the run was started with
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_standard_library_log_call_is_one_json_line_with_the_bound_context(json_lines):
    with structlog.contextvars.bound_contextvars(request_id="req-1", case_ref="CASE-000007"):
        logging.getLogger("notifications.services").warning("outbox: notification %s", 7)
    [line] = json_lines()
    assert line["event"] == "outbox: notification 7"
    assert (line["request_id"], line["case_ref"], line["level"]) == (
        "req-1",
        "CASE-000007",
        "warning",
    )


def test_an_unknown_log_format_stops_the_start():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(fmt="xml", level="INFO")


@pytest.mark.django_db
def test_an_api_call_answers_with_its_request_id_and_the_outbox_row_keeps_it():
    team = TeamFactory()
    agent = make_agent(team)
    client = APIClient()
    client.force_authenticate(agent)

    answer = client.post(
        "/api/v1/cases/",
        {"customer": CustomerFactory().pk, "team": team.pk, "channel": "email", "subject": "Hi"},
        format="json",
        HTTP_X_REQUEST_ID="support-ticket-4711",
    )

    assert answer.status_code == 201, answer.content
    assert answer["X-Request-ID"] == "support-ticket-4711"
    assert Notification.objects.filter(request_id="support-ticket-4711").exists()
