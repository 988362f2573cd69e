"""A team's calendar: managers set it; new promises use it."""

from __future__ import annotations

from datetime import date

import pytest

from cases.services import case_open
from commitments.calendar_changes import business_calendar_update
from commitments.calendar_services import CalendarSettings
from commitments.errors import CommitmentRuleError
from commitments.models import BusinessCalendar
from commitments.services import commitment_create
from tests.commitments.conftest import london
from tests.factories import CustomerFactory, TeamFactory, make_agent, make_manager

pytestmark = pytest.mark.django_db


def test_a_team_without_a_calendar_works_mon_to_fri_nine_to_five(time_machine):
    team = TeamFactory(time_zone="Europe/London")
    owner = make_agent(team)
    time_machine.move_to(london(2026, 11, 27, 16), tick=False)  # Friday
    case = case_open(customer=CustomerFactory(), team=team, channel="email", subject="x", by=owner)
    assert not BusinessCalendar.objects.filter(team=team).exists()
    c = commitment_create(case=case, by=owner, description="x", kind="update", due="2 hours")
    assert c.due_at == london(2026, 11, 30, 10)


def test_a_manager_sets_hours_holidays_and_closed_days(time_machine, open_case, team, manager):
    row = business_calendar_update(
        team=team,
        by=manager,
        changes=CalendarSettings(
            weekly_hours={"0": [["08:00", "12:00"]], "4": [["08:00", "12:00"]]},
            holiday_country="gb",
            holiday_subdivision="sct",
            closed_days=[(date(2026, 11, 30), "Training")],
        ),
    )
    assert (row.holiday_country, row.holiday_subdivision) == ("GB", "SCT")
    time_machine.move_to(london(2026, 11, 27, 11), tick=False)  # Friday
    case = open_case()
    c = commitment_create(
        case=case, by=case.owner, description="x", kind="callback", due="2 business hours"
    )
    # Monday 30th is St Andrew's Day in Scotland *and* a closed day: next is Friday 4 Dec
    assert c.due_at == london(2026, 12, 4, 9)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (CalendarSettings(weekly_hours={"0": [["17:00", "09:00"]]}), "weekly_hours"),
        (CalendarSettings(weekly_hours={"9": [["09:00", "17:00"]]}), "weekly_hours"),
        (CalendarSettings(weekly_hours={}), "weekly_hours"),
        (CalendarSettings(reminder_leads=["a while"]), "reminder_leads"),
        (CalendarSettings(holiday_country="XX"), "holiday_country"),
    ],
)
def test_invalid_calendars_are_refused(team, manager, changes, field):
    with pytest.raises(CommitmentRuleError) as err:
        business_calendar_update(team=team, by=manager, changes=changes)
    assert err.value.code == "invalid_calendar"
    assert field in err.value.fields


def test_only_a_manager_changes_the_calendar(team, agent):
    with pytest.raises(CommitmentRuleError) as err:
        business_calendar_update(team=team, by=agent, changes=CalendarSettings())
    assert (err.value.code, err.value.status_code) == ("not_team_manager", 403)
    other_manager = make_manager(TeamFactory())
    with pytest.raises(CommitmentRuleError):
        business_calendar_update(team=team, by=other_manager, changes=CalendarSettings())
