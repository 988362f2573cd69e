"""Property-based API fuzzing from our own OpenAPI schema, as an agent and as a manager, with
every response check on: no server error, every status code and content type documented, and
every body (the error shape included) matching the schema.

In CI the draw is fixed (``derandomize``), so a run is reproducible. ``make fuzz`` sets
``FUZZ_SEED`` and ``FUZZ_EXAMPLES`` to explore further; each failing request it finds is
written to ``var/fuzz/found/`` (``tests/fuzzing.py``) to become a stored example."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings

from caseowner.wsgi import application
from tests.fuzzing import CHECKS, EXPLORING, World, build_world, save_found

# The inbound-mail endpoint takes a raw message: generated bodies go as bytes.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _fresh_throttles(_keep_the_test_connection):
    cache.clear()  # throttle counters: each example starts with none


@pytest.fixture(params=["agent", "manager"])
def world(request, db) -> World:
    return build_world(request.param)


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5")),
    deadline=None,
    derandomize=not EXPLORING,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented_and_never_a_server_error(case, world):
    response = case.call(headers=world.headers)
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception as failure:
        if EXPLORING:
            print(f"\n[fuzz] found: {save_found(case, world=world, found=str(failure))}")
        raise
