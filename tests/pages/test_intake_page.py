"""Opening a case from the intake page, for an existing or a new customer."""

from __future__ import annotations

import pytest

from cases.models import Case
from tests.factories import make_agent
from tests.pages.conftest import case_url, client_for

pytestmark = pytest.mark.django_db


def test_opening_a_case_for_an_existing_customer(org):
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {
            "customer": org["customer"].pk,
            "team": org["team"].pk,
            "channel": "phone",
            "subject": "Card declined",
            "priority": "normal",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(subject="Card declined")
    assert case.customer == org["customer"] and response["Location"] == case_url(case)


def test_opening_a_case_for_a_new_customer_with_a_named_owner(org):
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {
            "new_name": "Katherine Johnson",
            "new_title": "Mrs",
            "new_addressed_as": "Katherine",
            "new_email": "kj@example.org",
            "new_time_zone": "America/New_York",
            "team": org["team"].pk,
            "channel": "email",
            "subject": "Wrong address on invoice",
            "priority": "high",
            "owner": org["colleague"].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(subject="Wrong address on invoice")
    assert case.owner == org["colleague"] and case.customer.addressed_as == "Katherine"


def test_opening_a_case_needs_exactly_one_customer(org):
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {"team": org["team"].pk, "channel": "email", "subject": "Nobody", "priority": "normal"},
    )
    assert response.status_code == 400
    assert "Choose an existing customer or give a new customer" in response.content.decode()


def test_opening_a_case_with_an_owner_outside_the_team_shows_the_services_error(org):
    other_team_agent = make_agent(org["team"])
    org["team"].agents.remove(other_team_agent.agent_profile)
    response = client_for(org["manager"]).post(
        "/cases/new/",
        {
            "customer": org["customer"].pk,
            "team": org["team"].pk,
            "channel": "email",
            "subject": "Wrong owner",
            "priority": "normal",
            "owner": org["outsider"].pk,
        },
    )
    assert response.status_code == 400
    assert not Case.objects.filter(subject="Wrong owner").exists()


def test_the_customer_picker_searches_by_name(org):
    html = client_for(org["owner"]).get("/cases/new/?q=hopper").content.decode()
    assert "Grace Hopper" in html


def test_the_form_preselects_the_agents_only_team(org):
    html = client_for(org["owner"]).get("/cases/new/").content.decode()
    assert f'<option value="{org["team"].pk}" selected>' in html


def test_a_team_that_is_not_the_agents_is_refused(org):
    response = client_for(org["owner"]).post(
        "/cases/new/",
        {
            "customer": org["customer"].pk,
            "team": org["other_team"].pk,
            "channel": "email",
            "subject": "Not my team",
            "priority": "normal",
        },
    )
    assert response.status_code == 400
    assert not Case.objects.filter(subject="Not my team").exists()
