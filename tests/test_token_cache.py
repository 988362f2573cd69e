"""The API token check is kept in the process for a few seconds: a hot client's token costs
no query, and a revoked token or a deactivated user is refused within those seconds (at
once in the process that revoked it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from caseowner import auth
from tests.factories import make_agent

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 16, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache():
    auth.forget_tokens()
    yield
    auth.forget_tokens()


def _queue(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/queue/").status_code


def _token_queries(key: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert _queue(key) == 200
    return sum('"authtoken_token"' in q["sql"] for q in queries)


def test_a_second_call_reads_no_token_and_each_request_gets_its_own_user():
    token = Token.objects.create(user=make_agent())
    with time_machine.travel(START, tick=False):
        assert _token_queries(token.key) == 1
        assert _token_queries(token.key) == 0
        first, _ = auth.TokenAuthentication().authenticate_credentials(token.key)
        second, _ = auth.TokenAuthentication().authenticate_credentials(token.key)
    assert first == second and first is not second
    first._caseowner_managed_ids = {1}  # per-request state stays on its request's copy
    assert not hasattr(second, "_caseowner_managed_ids")
    assert first.agent_profile is not second.agent_profile


def test_a_token_revoked_elsewhere_is_refused_within_seconds(settings):
    settings.API_TOKEN_CACHE_SECONDS = 5
    token = Token.objects.create(user=make_agent())
    with time_machine.travel(START, tick=False) as clock:
        assert _queue(token.key) == 200
        # revoked by another process: this one's signal never fires
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM authtoken_token WHERE key = %s", [token.key])
        assert _queue(token.key) == 200  # cached
        clock.shift(timedelta(seconds=6))
        assert _queue(token.key) == 401


def test_a_user_deactivated_elsewhere_is_refused_within_seconds(settings):
    settings.API_TOKEN_CACHE_SECONDS = 5
    agent = make_agent()
    token = Token.objects.create(user=agent)
    with time_machine.travel(START, tick=False) as clock:
        assert _queue(token.key) == 200
        type(agent).objects.filter(pk=agent.pk).update(is_active=False)
        clock.shift(timedelta(seconds=4))
        assert _queue(token.key) == 200
        clock.shift(timedelta(seconds=2))
        assert _queue(token.key) == 401


def test_revoking_or_deactivating_in_this_process_is_refused_at_once():
    agent, other = make_agent(), make_agent()
    token, kept = Token.objects.create(user=agent), Token.objects.create(user=other)
    with time_machine.travel(START, tick=False):
        assert _queue(token.key) == 200 and _queue(kept.key) == 200
        token.delete()
        assert _queue(token.key) == 401
        other.is_active = False
        other.save(update_fields=["is_active"])
        assert _queue(kept.key) == 401
