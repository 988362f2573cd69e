"""A token-authenticated /api/ call skips what it does not need (sessions, CSRF, messages,
static files) and keeps the security headers, the request id and the
throttles; a session-authenticated API call gets the full stack, CSRF included."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from caseowner import auth
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_token_cache():
    auth.forget_tokens()
    yield
    auth.forget_tokens()


def test_a_token_call_keeps_the_security_headers_and_touches_no_session():
    token = Token.objects.create(user=make_agent())
    client = Client(enforce_csrf_checks=True)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/queue/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    assert not any("django_session" in q["sql"] for q in queries)


def test_a_token_call_without_csrf_may_write():
    token = Token.objects.create(user=make_agent())
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/cases/",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 400  # the body is wrong, not the CSRF token


def test_a_session_call_still_works_and_still_needs_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_agent())
    assert client.get("/api/v1/queue/").status_code == 200
    refused = client.post("/api/v1/cases/", {}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    client.get("/accounts/login/")  # a page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    allowed = client.post(
        "/api/v1/cases/", {}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert allowed.status_code == 400


def test_pages_keep_csrf_and_messages():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_agent())
    assert client.post("/accounts/logout/").status_code == 403


def test_the_deploy_check_still_asks_for_csrf_protection(settings):
    """Django's own check looks for CsrfViewMiddleware by name and is silenced for the lean
    stack; ours fails when no middleware of the stack protects against cross-site requests."""
    from caseowner.lean import csrf_protection_installed

    assert csrf_protection_installed() == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "caseowner.lean.Csrf"]
    assert [w.id for w in csrf_protection_installed()] == ["caseowner.W003"]
