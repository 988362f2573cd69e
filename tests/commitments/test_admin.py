"""The admin: calendars change through the service, promises not at all."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

import commitments.admin
from commitments.calendar_changes import business_calendar_update
from commitments.models import BusinessCalendar, ClosedDay, Commitment
from tests.commitments.conftest import london
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def staff_client(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def calendar_form(calendar, **changes):
    """The change form as the admin posts it, one closed day in its inline."""
    data = {
        "weekly_hours": '{"0": [["08:00", "12:00"]]}',
        "reminder_leads": '["1 business day"]',
        "holiday_country": "gb",
        "holiday_subdivision": "sct",
        "callback_slot_minutes": "30",
        "callback_lead_minutes": "120",
        "callback_daily_cap": "8",
        "closed_days-TOTAL_FORMS": "1",
        "closed_days-INITIAL_FORMS": "0",
        "closed_days-0-day": "2026-11-30",
        "closed_days-0-name": "Training",
        "closed_days-0-calendar": str(calendar.pk),
    }
    return {**data, **changes}


def change_url(calendar) -> str:
    return f"/admin/commitments/businesscalendar/{calendar.pk}/change/"


def test_a_calendar_saved_in_the_admin_goes_through_the_service(team, admin_client, monkeypatch):
    calls = []

    def spy(**kwargs):
        calls.append(kwargs)
        return business_calendar_update(**kwargs)

    monkeypatch.setattr(commitments.admin, "business_calendar_update", spy)
    calendar = team.calendar
    response = admin_client.post(change_url(calendar), calendar_form(calendar))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [c["team"] for c in calls] == [team]
    calendar.refresh_from_db()
    # the service's normalisation, and its closed days
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("GB", "SCT")
    assert calendar.weekly_hours == {"0": [["08:00", "12:00"]]}
    assert list(ClosedDay.objects.filter(calendar=calendar).values_list("day", "name")) == [
        (date(2026, 11, 30), "Training")
    ]


def test_an_invalid_calendar_is_refused_on_the_form(team, admin_client):
    calendar = team.calendar
    response = admin_client.post(
        change_url(calendar), calendar_form(calendar, weekly_hours='{"0": [["17:00", "09:00"]]}')
    )
    assert response.status_code == 200
    calendar.refresh_from_db()
    assert calendar.weekly_hours != {"0": [["17:00", "09:00"]]}


def test_a_manager_edits_only_their_own_teams_calendar(team, manager):
    other = BusinessCalendar.objects.create(team=TeamFactory())
    client = staff_client(manager)
    manager.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="commitments", codename__endswith="closedday"
        ),
        *Permission.objects.filter(
            codename__in=["view_businesscalendar", "change_businesscalendar"]
        ),
    )
    response = client.post(change_url(team.calendar), calendar_form(team.calendar))
    assert response.status_code == 302
    response = client.post(change_url(other), calendar_form(other))
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.holiday_country == ""


def test_calendars_are_not_deleted_in_the_admin(team, admin_client):
    response = admin_client.post(
        f"/admin/commitments/businesscalendar/{team.calendar.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert BusinessCalendar.objects.filter(pk=team.calendar.pk).exists()


def test_promises_are_read_only_in_the_admin(time_machine, open_case, admin_client):
    time_machine.move_to(london(2026, 11, 25, 10), tick=False)
    commitment = Commitment.objects.get(case=open_case())
    url = f"/admin/commitments/commitment/{commitment.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(url, {"status": "kept", "end_reason": "Done."})
    assert response.status_code == 403
    commitment.refresh_from_db()
    assert commitment.is_open
