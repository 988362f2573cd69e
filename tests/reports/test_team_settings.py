"""Changing a team's settings: one service for every section, a record of each change, bad
input writing nothing, queued reminders moving with the calendar; the page and who may use it."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from cases.models import Team
from cases.recipients import display_name
from commitments.calendar_services import CalendarSettings
from commitments.models import BusinessCalendar, ClosedDay
from commitments.services import commitment_create
from notifications.models import NotificationStatus
from reports.errors import ReportRuleError
from reports.models import TeamSettingsChange
from reports.settings_selectors import team_settings_history
from reports.settings_services import TeamSettings, team_settings_update
from tests.commitments.conftest import london, pending
from tests.factories import TeamFactory, make_manager

pytestmark = pytest.mark.django_db

LATER_MORNINGS = {str(d): [["09:45", "17:00"]] for d in range(5)}


def _calendar(team: Team) -> BusinessCalendar:
    return BusinessCalendar.objects.get(team=team)


# --- the service -----------------------------------------------------------------------------


def test_it_changes_the_calendar_and_records_before_and_after(team, manager):
    change = team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(
            calendar=CalendarSettings(
                weekly_hours=LATER_MORNINGS,
                holiday_subdivision="SCT",
                closed_days=[(date(2026, 12, 24), "Christmas Eve")],
            )
        ),
    )
    cal = _calendar(team)
    assert cal.weekly_hours == LATER_MORNINGS and cal.holiday_subdivision == "SCT"
    assert list(ClosedDay.objects.filter(calendar=cal).values_list("day", "name")) == [
        (date(2026, 12, 24), "Christmas Eve")
    ]
    assert change is not None and change.changed_by == manager and change.team == team
    assert set(change.after) == {"weekly_hours", "holiday_subdivision", "closed_days"}
    assert change.before["holiday_subdivision"] == "ENG"
    assert change.after["closed_days"] == [["2026-12-24", "Christmas Eve"]]
    assert change.before["weekly_hours"]["0"] == [["09:00", "17:00"]]


def test_it_changes_the_reminder_leads(team, manager):
    change = team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(calendar=CalendarSettings(reminder_leads=["2 business hours"])),
    )
    assert _calendar(team).reminder_leads == ["2 business hours"]
    assert change is not None
    assert change.before == {"reminder_leads": ["1 business day", "1 business hour"]}
    assert change.after == {"reminder_leads": ["2 business hours"]}


def test_it_changes_targets_wait_and_rule_on_the_team(team, manager):
    change = team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(
            first_response_seconds={"email": 3600},
            handoff_accept_minutes=45,
            assignment_rule="round_robin",
        ),
    )
    team.refresh_from_db()
    assert team.first_response_seconds == {"email": 3600}
    assert team.handoff_accept_minutes == 45
    assert team.assignment_rule == "round_robin"
    assert change is not None
    assert change.before == {
        "first_response_seconds": {},
        "handoff_accept_minutes": 120,
        "assignment_rule": "least_open",
    }
    assert change.after["first_response_seconds"] == {"email": 3600}


def test_saving_the_same_settings_records_nothing(team, manager):
    changes = TeamSettings(handoff_accept_minutes=120, assignment_rule="least_open")
    assert team_settings_update(team=team, by=manager, changes=changes) is None
    assert not TeamSettingsChange.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (TeamSettings(assignment_rule="loudest_first"), "assignment_rule"),
        (TeamSettings(handoff_accept_minutes=0), "handoff_accept_minutes"),
        (TeamSettings(first_response_seconds={"fax": 60}), "first_response_seconds"),
        (TeamSettings(first_response_seconds={"email": 0}), "first_response_seconds"),
        (TeamSettings(calendar=CalendarSettings(reminder_leads=["soonish"])), "reminder_leads"),
        (TeamSettings(calendar=CalendarSettings(holiday_country="XX")), "holiday_country"),
        (TeamSettings(calendar=CalendarSettings(weekly_hours={})), "weekly_hours"),
    ],
)
def test_bad_input_is_refused_with_its_field(team, manager, changes, field):
    with pytest.raises(ReportRuleError) as caught:
        team_settings_update(team=team, by=manager, changes=changes)
    assert caught.value.code == "invalid_settings"
    assert field in caught.value.fields


def test_bad_input_in_one_section_writes_nothing_in_the_others(team, manager):
    before_cal = _calendar(team).weekly_hours
    with pytest.raises(ReportRuleError) as caught:
        team_settings_update(
            team=team,
            by=manager,
            changes=TeamSettings(
                calendar=CalendarSettings(weekly_hours=LATER_MORNINGS),  # valid
                handoff_accept_minutes=30,  # valid
                assignment_rule="loudest_first",  # not
            ),
        )
    assert set(caught.value.fields) == {"assignment_rule"}
    team.refresh_from_db()
    assert team.handoff_accept_minutes == 120
    assert _calendar(team).weekly_hours == before_cal
    assert not TeamSettingsChange.objects.exists()


def test_every_sections_errors_come_back_together(team, manager):
    with pytest.raises(ReportRuleError) as caught:
        team_settings_update(
            team=team,
            by=manager,
            changes=TeamSettings(
                calendar=CalendarSettings(reminder_leads=["soonish"]),
                handoff_accept_minutes=0,
            ),
        )
    assert set(caught.value.fields) == {"reminder_leads", "handoff_accept_minutes"}


def test_an_agent_cannot_change_the_settings(team, agent):
    with pytest.raises(ReportRuleError) as caught:
        team_settings_update(team=team, by=agent, changes=TeamSettings(handoff_accept_minutes=5))
    assert caught.value.status_code == 403
    team.refresh_from_db()
    assert team.handoff_accept_minutes == 120


def test_another_teams_manager_cannot_change_the_settings(team):
    stranger = make_manager(TeamFactory())
    with pytest.raises(ReportRuleError) as caught:
        team_settings_update(
            team=team, by=stranger, changes=TeamSettings(assignment_rule="round_robin")
        )
    assert caught.value.status_code == 403


# --- reminders move with the calendar --------------------------------------------------------


@pytest.fixture
def promise(time_machine, open_case):
    time_machine.move_to(london(2026, 11, 2, 10), tick=False)  # Monday
    case = open_case()
    return commitment_create(
        case=case, by=case.owner, description="Call back", kind="callback", due="2 business days"
    )


def test_new_lead_times_move_queued_reminders_in_the_same_save(promise, team, manager):
    old = list(pending(f"commitment:{promise.pk}:due:"))
    assert [n.send_after for n in old] == [london(2026, 11, 3, 10), london(2026, 11, 4, 9)]

    team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(calendar=CalendarSettings(reminder_leads=["2 business hours"])),
    )

    [moved] = pending(f"commitment:{promise.pk}:due:")
    # two business hours before Wednesday 10:00: one on Wednesday, one on Tuesday afternoon
    assert moved.send_after == london(2026, 11, 3, 16)
    for n in old:
        n.refresh_from_db()
        assert n.status == NotificationStatus.CANCELLED
    promise.refresh_from_db()
    assert promise.due_at == london(2026, 11, 4, 10)  # the customer's date never moves


def test_a_refused_save_leaves_queued_reminders_alone(promise, team, manager):
    before = list(pending(f"commitment:{promise.pk}:due:").values_list("pk", "send_after"))
    with pytest.raises(ReportRuleError):
        team_settings_update(
            team=team,
            by=manager,
            changes=TeamSettings(
                calendar=CalendarSettings(reminder_leads=["2 business hours"]),
                handoff_accept_minutes=0,
            ),
        )
    assert list(pending(f"commitment:{promise.pk}:due:").values_list("pk", "send_after")) == before


def test_changing_only_the_team_fields_leaves_queued_reminders_alone(promise, team, manager):
    before = list(pending(f"commitment:{promise.pk}:due:").values_list("pk", "send_after"))
    team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(
            calendar=CalendarSettings(reminder_leads=["1 business day", "1 business hour"]),
            assignment_rule="round_robin",
        ),
    )
    assert list(pending(f"commitment:{promise.pk}:due:").values_list("pk", "send_after")) == before


# --- the page --------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides) -> dict[str, str]:
    data = {f"hours_{d}": "09:00–17:00" for d in range(5)}
    data.update(
        {
            "holiday_country": "GB",
            "holiday_subdivision": "ENG",
            "closed_days": "",
            "reminder_leads": "1 business day, 1 business hour",
            "handoff_accept_minutes": "120",
            "assignment_rule": "least_open",
        }
    )
    data.update(overrides)
    return data


def test_the_page_shows_the_current_settings(team, manager, django_assert_max_num_queries):
    client = client_for(manager)
    with django_assert_max_num_queries(12):
        response = client.get(f"/manage/settings/?team={team.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="09:00–17:00"' in html
    assert 'value="1 business day, 1 business hour"' in html
    assert "No changes yet." in html


def test_the_dashboard_links_to_the_settings(team, manager):
    html = client_for(manager).get(f"/manage/?team={team.pk}").content.decode()
    assert f"/manage/settings/?team={team.pk}" in html


def test_a_save_from_the_page_changes_the_team_and_shows_in_the_history(team, manager):
    client = client_for(manager)
    url = f"/manage/settings/?team={team.pk}"
    response = client.post(
        url,
        _form(hours_5="10:00-14:00", first_response_email="60", assignment_rule="round_robin"),
    )
    assert response.status_code == 302 and response["Location"] == url
    team.refresh_from_db()
    assert team.first_response_seconds == {"email": 3600}
    assert team.assignment_rule == "round_robin"
    assert _calendar(team).weekly_hours["5"] == [["10:00", "14:00"]]
    html = client.get(url).content.decode()
    assert "Sat 10:00–14:00" in html
    assert "Email 1 h" in html
    assert "Round robin" in html


def test_a_bad_day_is_shown_on_its_field_and_nothing_is_saved(team, manager):
    response = client_for(manager).post(
        f"/manage/settings/?team={team.pk}",
        _form(hours_2="17:00–09:00", handoff_accept_minutes="30"),
    )
    assert response.status_code == 400
    assert "hours_2" in response.context["form"].errors
    team.refresh_from_db()
    assert team.handoff_accept_minutes == 120


def test_the_services_field_errors_show_on_the_form(team, manager):
    response = client_for(manager).post(
        f"/manage/settings/?team={team.pk}", _form(reminder_leads="soonish")
    )
    assert response.status_code == 400
    assert "Cannot read 'soonish'." in response.context["form"].errors["reminder_leads"]
    assert not TeamSettingsChange.objects.exists()


def test_an_agent_gets_403(team, agent):
    client = client_for(agent)
    assert client.get(f"/manage/settings/?team={team.pk}").status_code == 403
    assert client.post(f"/manage/settings/?team={team.pk}", _form()).status_code == 403


def test_another_teams_manager_gets_404(team):
    stranger = make_manager(TeamFactory())
    client = client_for(stranger)
    assert client.get(f"/manage/settings/?team={team.pk}").status_code == 404
    response = client.post(
        f"/manage/settings/?team={team.pk}", _form(assignment_rule="round_robin")
    )
    assert response.status_code == 404
    team.refresh_from_db()
    assert team.assignment_rule == "least_open"


def test_logged_out_goes_to_log_in(team):
    response = Client().get(f"/manage/settings/?team={team.pk}")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_history_names_a_manager_without_a_display_name_by_their_full_name(team, manager):
    """The one display-name rule: a blank display name falls back to the full name (the
    history printed an empty name)."""
    manager.first_name, manager.last_name = "Helen", "Marsh"
    manager.save()
    manager.agent_profile.display_name = ""
    manager.agent_profile.save()
    team_settings_update(
        team=team,
        by=manager,
        changes=TeamSettings(calendar=CalendarSettings(reminder_leads=["2 business hours"])),
    )
    history = team_settings_history(team=team)
    assert [row.changed_by for row in history] == ["Helen Marsh"] == [display_name(manager)]
