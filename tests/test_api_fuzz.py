"""Property-based API fuzzing from our own OpenAPI schema, as an agent and as a manager, with
every response check on: no server error, every status code and content type documented, and
every body (the error shape included) matching the schema. Derandomized, so CI is
reproducible; raise ``max_examples`` locally to explore further."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from caseowner.wsgi import application
from tests.factories import CaseFactory, HandoffFactory, TeamFactory, make_agent, make_manager

# The inbound-mail endpoint takes a raw message: generated bodies go as bytes.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Called as a WSGI app, Django would close the connection that holds the test's
    transaction at the end of each request; its test client avoids it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cache.clear()  # throttle counters: each example starts with none
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["agent", "manager"])
def auth_headers(request, db) -> dict[str, str]:
    team = TeamFactory()
    owner = make_agent(team)
    manager = make_manager(team)
    case = CaseFactory(team=team, owner=owner)
    HandoffFactory(case=case)
    user = owner if request.param == "agent" else manager
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented_and_never_a_server_error(case, auth_headers):
    response = case.call(headers=auth_headers)
    case.validate_response(response, checks=CHECKS)
