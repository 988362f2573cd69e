"""What the cases tests share: hooks isolated from other apps and an API client with the
error-shape check (their small organisation, ``world``, is in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from cases import hooks


@pytest.fixture
def isolated_hooks(monkeypatch) -> None:
    """Only the handlers a test registers itself run (other apps' handlers are tested there)."""
    for name in ("handoff_accepted", "open_commitments", "business_time_add"):
        monkeypatch.setattr(hooks, name, [])


def client_for(user: Any) -> APIClient:
    """An API client logged in as ``user`` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_error(response: Any, status: int, code: str | None = None) -> dict:
    """The response is the API's error shape with this status (and code, when given)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert isinstance(body["message"], str) and body["message"]
    if code:
        assert body["code"] == code
    return body
