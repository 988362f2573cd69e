"""Whether agents see other teams' customers is one setting, tested both ways."""

from __future__ import annotations

import pytest

from cases.permissions import visible_customers
from cases.recipients import owner_contact, point_of_contact
from tests.factories import CaseFactory, CustomerFactory, TeamFactory, make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams():
    billing, network = TeamFactory(), TeamFactory()
    mine = CaseFactory(team=billing).customer
    theirs = CaseFactory(team=network).customer
    return {"agent": make_agent(billing), "mine": mine, "theirs": theirs}


def test_organisation_wide_every_agent_sees_every_customer(two_teams, settings):
    settings.CUSTOMER_VISIBILITY = "organisation"
    walk_in = CustomerFactory()
    found = set(visible_customers(two_teams["agent"]))
    assert found == {two_teams["mine"], two_teams["theirs"], walk_in}


def test_team_scoped_an_agent_sees_only_their_teams_customers(two_teams, settings):
    settings.CUSTOMER_VISIBILITY = "team"
    CustomerFactory()  # no case anywhere yet
    assert list(visible_customers(two_teams["agent"])) == [two_teams["mine"]]


def test_the_point_of_contact_is_the_owner_while_nobody_covers():
    case = CaseFactory()
    poc = point_of_contact(case=case, at=case.created_at)
    assert poc.contact == poc.owner == owner_contact(case.owner)
    assert poc.covering is False


# --- the setting applied: intake picker, intake by id, earlier cases (page and API) ----------


@pytest.fixture
def shared_customer():
    """A customer with a case in Billing (ours) and an earlier one in Network (theirs)."""
    billing, network = TeamFactory(name="Billing"), TeamFactory(name="Network")
    agent, stranger = make_agent(billing), make_agent(network, display_name="Nina Network")
    customer = CustomerFactory(full_name="Grace Hopper")
    theirs = CaseFactory(team=network, owner=stranger, customer=customer, subject="Fibre down")
    ours = CaseFactory(team=billing, owner=agent, customer=customer, subject="Charged twice")
    only_theirs = CaseFactory(team=network, owner=stranger, subject="Router").customer
    return {
        "agent": agent,
        "billing": billing,
        "customer": customer,
        "theirs": theirs,
        "ours": ours,
        "only_theirs": only_theirs,
    }


def picker(user, query=""):
    from cases.customers.selectors import customer_choices

    return {pk for pk, _ in customer_choices(user=user, query=query)}


def test_the_intake_picker_follows_the_setting(shared_customer, settings):
    agent, only_theirs = shared_customer["agent"], shared_customer["only_theirs"]
    settings.CUSTOMER_VISIBILITY = "organisation"
    assert only_theirs.pk in picker(agent)
    settings.CUSTOMER_VISIBILITY = "team"
    assert only_theirs.pk not in picker(agent)
    assert shared_customer["customer"].pk in picker(agent, "Grace")


def test_team_scoped_intake_by_id_of_another_teams_customer_is_not_found(shared_customer, settings):
    from cases.errors import CaseRuleError
    from cases.intake import CaseIntake, case_intake

    settings.CUSTOMER_VISIBILITY = "team"
    intake = CaseIntake(
        channel="email", subject="Hello", customer_id=shared_customer["only_theirs"].pk
    )
    with pytest.raises(CaseRuleError) as caught:
        case_intake(intake=intake, by=shared_customer["agent"])
    assert caught.value.code == "customer_not_found"
    settings.CUSTOMER_VISIBILITY = "organisation"
    assert case_intake(intake=intake, by=shared_customer["agent"]).pk


def earlier_cases(user, case):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/cases/{case.ref}/").json()["customer_history"]


def test_organisation_wide_other_teams_earlier_cases_show_without_their_owner(
    shared_customer, settings
):
    settings.CUSTOMER_VISIBILITY = "organisation"
    history = earlier_cases(shared_customer["agent"], shared_customer["ours"])
    assert [(h["subject"], h["owner"]) for h in history] == [("Fibre down", None)]
    html = _case_page(shared_customer)
    assert "Fibre down" in html and "Nina Network" not in html


def test_team_scoped_other_teams_earlier_cases_are_not_listed(shared_customer, settings):
    settings.CUSTOMER_VISIBILITY = "team"
    assert earlier_cases(shared_customer["agent"], shared_customer["ours"]) == []
    html = _case_page(shared_customer)
    assert "Fibre down" not in html and "This is their first case." in html


def test_own_teams_earlier_cases_show_their_owner_either_way(shared_customer, settings):
    earlier = CaseFactory(
        team=shared_customer["billing"],
        owner=shared_customer["agent"],
        customer=shared_customer["customer"],
        subject="Old invoice",
    )
    for setting in ("organisation", "team"):
        settings.CUSTOMER_VISIBILITY = setting
        history = earlier_cases(shared_customer["agent"], shared_customer["ours"])
        mine = [h for h in history if h["ref"] == earlier.ref]
        assert mine and mine[0]["owner"]["id"] == shared_customer["agent"].pk


def _case_page(shared_customer) -> str:
    from django.test import Client

    client = Client()
    client.force_login(shared_customer["agent"])
    return client.get(f"/cases/{shared_customer['ours'].ref}/").content.decode()
