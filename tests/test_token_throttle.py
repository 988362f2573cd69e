"""Guessing API tokens is throttled per client address, behind a proxy by the real client."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import make_agent

pytestmark = pytest.mark.django_db

LIMIT = 20  # THROTTLE_FAILED_TOKEN's default: 20/min


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def call(token: str, address: str = "203.0.113.7", **extra: str):
    client = APIClient(REMOTE_ADDR=address, **extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/queue/")


def test_wrong_tokens_are_refused_then_throttled():
    for _ in range(LIMIT):
        assert call("wrong").status_code == 401
    response = call("wrong")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


def test_while_throttled_even_a_right_token_waits_from_that_address():
    token = Token.objects.create(user=make_agent())
    for _ in range(LIMIT):
        call("wrong")
    assert call(token.key).status_code == 429
    assert call(token.key, address="198.51.100.4").status_code == 200


def test_right_tokens_are_never_counted():
    token = Token.objects.create(user=make_agent())
    for _ in range(LIMIT + 5):
        assert call(token.key).status_code == 200


def test_behind_a_proxy_the_client_not_the_proxy_is_throttled(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"
    for _ in range(LIMIT):
        call("wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert call("wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50").status_code == 429
    assert call("wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.51").status_code == 401
