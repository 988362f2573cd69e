"""What the cases tests share: a small organisation, hooks isolated from other apps, and an
API client with the error-shape check."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from cases import hooks
from tests.factories import CaseFactory, TeamFactory, make_agent, make_manager


@pytest.fixture
def world(db) -> dict[str, Any]:
    """Two teams, Billing (``team``) and Repairs (``other``); a case of Billing owned by
    ``owner``; ``receiver`` and ``colleague`` work beside them, ``outsider`` in Repairs;
    ``manager`` manages Billing, ``other_manager`` Repairs."""
    team, other = TeamFactory(name="Billing"), TeamFactory(name="Repairs")
    owner = make_agent(team)
    receiver = make_agent(team)
    colleague = make_agent(team)
    outsider = make_agent(other)
    manager = make_manager(team)
    other_manager = make_manager(other)
    case = CaseFactory(team=team, owner=owner)
    return {
        "team": team,
        "other": other,
        "owner": owner,
        "receiver": receiver,
        "colleague": colleague,
        "outsider": outsider,
        "manager": manager,
        "other_manager": other_manager,
        "case": case,
    }


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
