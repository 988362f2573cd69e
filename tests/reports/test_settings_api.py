"""A team's settings over the API: the page's service behind it, so the same validation, the
same change record and reminders moved in the same transaction; managers of the team only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from commitments.models import BusinessCalendar
from commitments.services import commitment_create
from notifications.models import NotificationStatus
from reports.models import TeamSettingsChange
from tests.commitments.conftest import london, pending
from tests.factories import TeamFactory, make_manager

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _url(team) -> str:
    return f"/api/v1/reports/teams/{team.pk}/settings/"


def test_a_manager_reads_every_setting(team, manager, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = _api(manager).get(_url(team))
    assert response.status_code == 200
    body = response.json()
    assert body["team"] == team.pk
    assert body["holiday_country"] == "GB" and body["holiday_subdivision"] == "ENG"
    assert body["weekly_hours"]["0"] == [["09:00", "17:00"]]
    assert body["closed_days"] == [] and body["reminder_leads"]
    assert body["assignment_rule"] == team.assignment_rule


def test_a_patch_changes_only_what_it_names_and_is_recorded(team, manager):
    response = _api(manager).patch(
        _url(team),
        {
            "handoff_accept_minutes": 45,
            "closed_days": [{"day": "2026-12-24", "name": "Christmas Eve"}],
            "first_response_seconds": {"email": 3 * 3600},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["handoff_accept_minutes"] == 45
    assert body["closed_days"] == [{"day": "2026-12-24", "name": "Christmas Eve"}]
    assert body["first_response_seconds"] == {"email": 10800}
    assert body["holiday_subdivision"] == "ENG"  # not named: unchanged
    change = TeamSettingsChange.objects.get(team=team)
    assert change.changed_by == manager
    assert set(change.after) == {"handoff_accept_minutes", "closed_days", "first_response_seconds"}


def test_a_closed_day_may_come_without_a_name(team, manager):
    response = _api(manager).patch(
        _url(team), {"closed_days": [{"day": "2026-12-31"}, {"day": "2026-12-31"}]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["closed_days"] == [{"day": "2026-12-31", "name": ""}]


def test_new_lead_times_move_queued_reminders(time_machine, team, manager, open_case):
    time_machine.move_to(london(2026, 11, 2, 10), tick=False)  # Monday
    case = open_case()
    promise = commitment_create(
        case=case, by=case.owner, description="Call back", kind="callback", due="2 business days"
    )
    old = list(pending(f"commitment:{promise.pk}:due:"))
    response = _api(manager).patch(
        _url(team), {"reminder_leads": ["2 business hours"]}, format="json"
    )
    assert response.status_code == 200
    [moved] = pending(f"commitment:{promise.pk}:due:")
    assert moved.send_after == london(2026, 11, 3, 16)
    for notification in old:
        notification.refresh_from_db()
        assert notification.status == NotificationStatus.CANCELLED


def test_a_bad_setting_is_a_400_that_writes_nothing(time_machine, team, manager, open_case):
    time_machine.move_to(london(2026, 11, 2, 10), tick=False)
    case = open_case()
    promise = commitment_create(
        case=case, by=case.owner, description="Call back", kind="callback", due="2 business days"
    )
    before = list(pending(f"commitment:{promise.pk}:due:").values_list("pk", "send_after"))
    calendar = BusinessCalendar.objects.get(team=team)
    response = _api(manager).patch(
        _url(team),
        # valid lead times beside a country the holidays package does not know
        {"reminder_leads": ["2 business hours"], "holiday_country": "XX"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_settings"
    assert "holiday_country" in body["fields"]
    assert not TeamSettingsChange.objects.exists()
    assert BusinessCalendar.objects.get(pk=calendar.pk).reminder_leads == calendar.reminder_leads
    assert list(pending(f"commitment:{promise.pk}:due:").values_list("pk", "send_after")) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"weekly_hours": {"9": [["09:00", "17:00"]]}}, "weekly_hours"),
        ({"weekly_hours": {"0": [["17:00", "09:00"]]}}, "weekly_hours"),
        ({"first_response_seconds": {"fax": 60}}, "first_response_seconds"),
        ({"handoff_accept_minutes": 0}, "handoff_accept_minutes"),
        ({"assignment_rule": "coin_toss"}, "assignment_rule"),
        ({"reminder_leads": ["whenever"]}, "reminder_leads"),
    ],
)
def test_bad_input_names_its_field(team, manager, body, field):
    response = _api(manager).patch(_url(team), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}
    assert field in response.json()["fields"]
    assert not TeamSettingsChange.objects.exists()


def test_an_agent_gets_403(team, agent):
    for method in ("get", "patch"):
        response = getattr(_api(agent), method)(_url(team), {}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "manager_only"


def test_another_teams_manager_gets_404_and_nothing_changes(team):
    stranger = make_manager(TeamFactory())
    response = _api(stranger).patch(_url(team), {"handoff_accept_minutes": 45}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _api(stranger).get(_url(team)).status_code == 404
    assert not TeamSettingsChange.objects.exists()
