"""Property-based API fuzzing from our own OpenAPI schema: whatever an authenticated client
sends to any endpoint, the answer is never a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from caseowner.wsgi import application
from tests.factories import CaseFactory, TeamFactory, make_agent, make_manager

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def auth_headers(db) -> dict[str, str]:
    team = TeamFactory()
    owner = make_agent(team)
    make_manager(team)
    CaseFactory(team=team, owner=owner)
    return {"Authorization": f"Token {Token.objects.create(user=owner).key}"}


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_server_error(case, auth_headers):
    response = case.call(headers=auth_headers)
    case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])
