"""A team's calendar is read once per process and read afresh as soon as it changes
(``commitments.calendar_services.business_calendar_of``)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Team
from commitments import calendar_services
from commitments.calendar_changes import business_calendar_update
from commitments.calendar_services import CalendarSettings, business_calendar_of
from commitments.models import ClosedDay

pytestmark = pytest.mark.django_db


def fresh(team: Team) -> Team:
    return Team.objects.get(pk=team.pk)  # no calendar read on the instance yet


def test_the_calendar_is_kept_and_a_change_takes_effect_at_once(team, manager):
    calendar_services._ROWS._pending().clear()  # as if the team had been committed long ago
    assert not business_calendar_of(fresh(team)).is_closed_day(date(2026, 12, 10))
    team_again = fresh(team)
    with CaptureQueriesContext(connection) as captured:
        kept = business_calendar_of(team_again)
    assert captured.captured_queries == []
    assert kept.team is team_again and kept.holiday_country == "GB"
    business_calendar_update(
        team=team,
        by=manager,
        changes=CalendarSettings(closed_days=[(date(2026, 12, 10), "Stocktake")]),
    )
    assert business_calendar_of(fresh(team)).is_closed_day(date(2026, 12, 10))
    ClosedDay.objects.all().delete()
    assert not business_calendar_of(fresh(team)).is_closed_day(date(2026, 12, 10))
