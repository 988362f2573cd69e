"""A team's settings changed in the back office go through ``team_settings_update``: checked
against the same limits as on the settings page, and recorded as a ``TeamSettingsChange``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.forms.models import model_to_dict
from django.test import Client

from cases.models import Team
from reports.models import TeamSettingsChange
from reports.settings_services import MAX_HANDOFF_ACCEPT_MINUTES
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def team_form(team: Team, **changes: Any) -> dict[str, Any]:
    """The admin's team form as posted: the team's fields, with ``changes``."""
    data = {
        name: "" if value is None else value
        for name, value in model_to_dict(team, exclude=["last_assigned"]).items()
    }
    data["managers"] = [user.pk for user in team.managers.all()]
    data["first_response_seconds"] = json.dumps(team.first_response_seconds)
    return data | changes


def post(client: Client, team: Team, **changes: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/admin/cases/team/{team.pk}/change/", team_form(team, **changes))


@pytest.fixture
def billing() -> Team:
    return TeamFactory(name="Billing")


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_assignment_rule_changed_in_the_admin_is_recorded(staff, billing):
    team = billing
    response = post(staff, team, assignment_rule="round_robin", handoff_accept_minutes=90)
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.assignment_rule, team.handoff_accept_minutes) == ("round_robin", 90)
    change = TeamSettingsChange.objects.get(team=team)
    assert change.before == {"assignment_rule": "least_open", "handoff_accept_minutes": 120}
    assert change.after == {"assignment_rule": "round_robin", "handoff_accept_minutes": 90}


def test_an_offer_wait_past_a_week_is_refused_in_the_admin(staff, billing):
    team = billing
    response = post(
        staff, team, handoff_accept_minutes=MAX_HANDOFF_ACCEPT_MINUTES + 1, name="Renamed"
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["handoff_accept_minutes"]
    team.refresh_from_db()
    assert (team.name, team.handoff_accept_minutes) == ("Billing", 120)
    assert not TeamSettingsChange.objects.exists()


def test_staff_who_do_not_manage_the_team_cannot_change_its_settings_in_the_admin(billing):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__endswith="_team"))
    client = Client()
    client.force_login(clerk)
    response = post(client, billing, assignment_rule="round_robin")
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    billing.refresh_from_db()
    assert billing.assignment_rule == "least_open"


def test_a_teams_name_changed_in_the_admin_needs_no_settings_record(staff, billing):
    team = billing
    assert post(staff, team, name="Billing and accounts").status_code == 302
    team.refresh_from_db()
    assert team.name == "Billing and accounts"
    assert not TeamSettingsChange.objects.exists()
