"""Schema-driven API testing with stateful links: schemathesis follows the schema's OpenAPI
links (``caseowner.schema_links``) so the cases, promises, hand-offs and absences one call
creates are used by the next (kept, renegotiated, accepted, …), as an agent and as a
manager, and the customer's link endpoints are driven with a real customer token. At least
``REQUESTS_PER_ROLE`` generated requests per role, every check of ``tests/test_api_fuzz.py``
on: no server error, every status code, content type, header and body as documented."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from caseowner.wsgi import application
from cases.links import make_customer_token
from tests.factories import CaseFactory, HandoffFactory, TeamFactory, make_agent, make_manager

pytestmark = pytest.mark.django_db

REQUESTS_PER_ROLE = int(os.environ.get("RELIABILITY_API_REQUESTS", "1000"))

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
    cache.clear()
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Tally:
    """What one role's run sent and got back."""

    def __init__(self) -> None:
        self.requests = 0
        self.statuses: Counter[int] = Counter()
        self.operations: Counter[str] = Counter()
        self.schema_breaks = 0

    def figures(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "operations_called": len(self.operations),
            "server_errors": sum(n for code, n in self.statuses.items() if code >= 500),
            "schema_breaks": self.schema_breaks,
            "answers_2xx": sum(n for code, n in self.statuses.items() if 200 <= code < 300),
            "answers_4xx": sum(n for code, n in self.statuses.items() if 400 <= code < 500),
        }


BaseWorkflow = schema.as_state_machine()


def _workflow(headers: dict[str, str], tally: Tally) -> type:
    class Workflow(BaseWorkflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):  # noqa: ANN001, ANN202
            cache.clear()  # throttle counters: the run is one client far past any rate
            return {"headers": headers}

        def after_call(self, response, case):  # noqa: ANN001, ANN202
            tally.requests += 1
            tally.statuses[response.status_code] += 1
            tally.operations[case.operation.label] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # noqa: ANN001, ANN202
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception:
                tally.schema_breaks += response.status_code < 500
                raise

    return Workflow


def _world(role: str) -> dict[str, str]:
    team = TeamFactory()
    owner = make_agent(team)
    manager = make_manager(team)
    make_agent(team)  # a colleague to hand off to
    case = CaseFactory(team=team, owner=owner)
    HandoffFactory(case=case)
    user = owner if role == "agent" else manager
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_stateful_runs_follow_the_links_without_a_server_error_or_schema_break(role, figures):
    tally = Tally()
    workflow = _workflow(_world(role), tally)
    run = settings(
        max_examples=30,
        stateful_step_count=40,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    try:
        while tally.requests < REQUESTS_PER_ROLE:
            before = tally.requests
            workflow.run(settings=run)
            assert tally.requests > before
            run = settings(run, derandomize=False)  # a further round explores elsewhere
    finally:
        figures.record(f"api stateful: {role}", **tally.figures())
    linked = [op for op in tally.operations if "{" in op]
    assert tally.requests >= REQUESTS_PER_ROLE
    assert len(linked) >= 10, tally.operations  # the links reached the objects' own operations


CUSTOMER_TALLY = Tally()
CUSTOMER_OPERATIONS = ["customer_case_retrieve", "customer_case_acknowledge"]


@pytest.fixture
def customer_token(db, figures) -> Iterator[str]:
    case = CaseFactory()
    yield make_customer_token(case_id=case.pk, generation=case.link_generation)
    figures.record("api stateful: customer", **CUSTOMER_TALLY.figures())


@schema.include(operation_id=CUSTOMER_OPERATIONS).parametrize()
@settings(
    max_examples=REQUESTS_PER_ROLE // len(CUSTOMER_OPERATIONS) + 1,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_customer_link_answers_as_documented(case, customer_token):
    """The link's endpoints, with a valid token (a generated one would only be a 404)."""
    cache.clear()
    case.path_parameters = {**(case.path_parameters or {}), "token": customer_token}
    response = case.call()
    CUSTOMER_TALLY.requests += 1
    CUSTOMER_TALLY.statuses[response.status_code] += 1
    CUSTOMER_TALLY.operations[case.operation.label] += 1
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception:
        CUSTOMER_TALLY.schema_breaks += response.status_code < 500
        raise


def test_the_customer_link_had_its_share_of_requests():
    """Runs after the two operations' tests (file order): the customer's figure is enough."""
    if CUSTOMER_TALLY.requests == 0:
        pytest.skip("the customer link's tests did not run")
    assert CUSTOMER_TALLY.requests >= REQUESTS_PER_ROLE
