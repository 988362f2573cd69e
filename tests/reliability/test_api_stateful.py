"""Schema-driven API testing with stateful links: schemathesis follows the schema's OpenAPI
links (``caseowner.schema_links``) so the cases, promises, hand-offs and absences one call
creates are used by the next (kept, renegotiated, accepted, …), as an agent and as a
manager, and the customer's link endpoints are driven with a real customer token. At least
``REQUESTS_PER_ROLE`` generated requests per role, every check of ``tests/test_api_fuzz.py``
on: no server error, every status code, content type, header and body as documented.

Every round draws from a fixed seed (round 0 derandomized, round k from seed k), so CI is
reproducible. ``make fuzz`` sets ``FUZZ_SEED`` (the rounds then draw from it onwards) and
a larger ``RELIABILITY_API_REQUESTS``; what it finds is written to ``var/fuzz/found/``."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, Phase, settings

from caseowner.wsgi import application
from tests.fuzzing import CHECKS, EXPLORING, FUZZ_SEED, World, build_world, save_found

pytestmark = pytest.mark.django_db

# CI's share; ``make fuzz`` sends at least 1,500 per role
REQUESTS_PER_ROLE = int(os.environ.get("RELIABILITY_API_REQUESTS", "500"))
FIRST_SEED = int(FUZZ_SEED) if EXPLORING else 0

schemathesis.serializer.alias("message/rfc822", "application/octet-stream")
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _fresh_throttles(_keep_the_test_connection):
    cache.clear()


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


def _workflow(world: World, tally: Tally) -> type:
    class Workflow(BaseWorkflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):  # noqa: ANN001, ANN202
            cache.clear()  # throttle counters: the run is one client far past any rate
            return {"headers": world.headers}

        def after_call(self, response, case):  # noqa: ANN001, ANN202
            tally.requests += 1
            tally.statuses[response.status_code] += 1
            tally.operations[case.operation.label] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # noqa: ANN001, ANN202
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as failure:
                tally.schema_breaks += response.status_code < 500
                if EXPLORING:
                    print(f"\n[fuzz] found: {save_found(case, world=world, found=str(failure))}")
                raise

    return Workflow


def seeded_rounds(first_seed: int) -> Iterator[tuple[int, settings]]:
    """The rounds' draws: CI's first is derandomized, each further one has a seed of its own,
    so every run of the suite sends the same requests."""
    base = settings(
        max_examples=20,  # about 600 requests a round
        stateful_step_count=40,
        deadline=None,
        derandomize=not EXPLORING,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    yield first_seed, base
    seed = first_seed
    while True:
        seed += 1
        yield seed, settings(base, derandomize=False)


@pytest.mark.parallel_pass  # in-process, the database only
@pytest.mark.parametrize("role", ["agent", "manager"])
def test_stateful_runs_follow_the_links_without_a_server_error_or_schema_break(role, figures):
    tally = Tally()
    workflow = _workflow(build_world(role), tally)
    seeds = []
    try:
        for seed, run in seeded_rounds(FIRST_SEED):
            if tally.requests >= REQUESTS_PER_ROLE:
                break
            before = tally.requests
            seeds.append(seed)
            # hypothesis reads the seed of a state machine from the class
            workflow._hypothesis_internal_use_seed = None if run.derandomize else seed
            workflow.run(settings=run)
            assert tally.requests > before
    finally:
        figures.record(f"api stateful: {role}", seeds=seeds, **tally.figures())
    linked = [op for op in tally.operations if "{" in op]
    assert tally.requests >= REQUESTS_PER_ROLE
    assert len(linked) >= 10, tally.operations  # the links reached the objects' own operations


CUSTOMER_TALLY = Tally()
CUSTOMER_OPERATIONS = ["customer_case_retrieve", "customer_case_acknowledge"]


@pytest.fixture
def customer_world(db, figures) -> Iterator[World]:
    yield build_world("customer")
    figures.record("api stateful: customer", **CUSTOMER_TALLY.figures())


@schema.include(operation_id=CUSTOMER_OPERATIONS).parametrize()
@settings(
    max_examples=REQUESTS_PER_ROLE // len(CUSTOMER_OPERATIONS) + 1,
    deadline=None,
    derandomize=not EXPLORING,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_customer_link_answers_as_documented(case, customer_world):
    """The link's endpoints, with a valid token (a generated one would only be a 404)."""
    cache.clear()
    case.path_parameters = {**(case.path_parameters or {}), "token": customer_world.values["token"]}
    response = case.call()
    CUSTOMER_TALLY.requests += 1
    CUSTOMER_TALLY.statuses[response.status_code] += 1
    CUSTOMER_TALLY.operations[case.operation.label] += 1
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception as failure:
        CUSTOMER_TALLY.schema_breaks += response.status_code < 500
        if EXPLORING:
            print(f"\n[fuzz] found: {save_found(case, world=customer_world, found=str(failure))}")
        raise


def test_the_customer_link_had_its_share_of_requests():
    """Runs after the two operations' tests (file order): the customer's figure is enough."""
    if CUSTOMER_TALLY.requests == 0:
        pytest.skip("the customer link's tests did not run")
    assert CUSTOMER_TALLY.requests >= REQUESTS_PER_ROLE
