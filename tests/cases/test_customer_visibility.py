"""Whether agents see other teams' customers is one setting, tested both ways."""

from __future__ import annotations

import pytest

from cases.contacts import owner_contact, point_of_contact
from cases.permissions import visible_customers
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
