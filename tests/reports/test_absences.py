"""The dashboard's absences: who is away today or from within two business days, who
covers, and the promises left uncovered; computed on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from cases.availability.services import agent_set_away
from cases.models import Absence
from commitments.models import CommitmentStatus
from reports.absences import team_absences
from tests.commitments.conftest import london, promise
from tests.factories import make_agent, offer

pytestmark = pytest.mark.django_db

# Thursday 12 March 2026, 10:00 London: two business days later is Monday 10:00.
NOW = london(2026, 3, 12, 10)


def _absence(agent, start, end, note=""):
    return Absence.objects.create(
        agent=agent, starts_at=start, ends_at=end, note=note, created_by=agent
    )


def _backup(agent, backup):
    profile = agent.agent_profile
    profile.backup_agent = backup
    profile.save()


@pytest.fixture
def away_team(team, agent, manager, open_case):
    """Ana is on holiday now with a promise due meanwhile (covered by Ben); Cat starts
    Monday morning (inside two business days) with her backup away then, so the on-duty
    agent covers; Dan starts Tuesday (too far); Eve is switched away with nobody to cover."""
    ben = make_agent(team, display_name="Ben Backup")
    duty = make_agent(team, display_name="Dee Duty")
    cat = make_agent(team, display_name="Cat Soon")
    dan = make_agent(team, display_name="Dan Later")
    eve = make_agent(team, display_name="Eve Switched")
    ana = agent
    profile = ana.agent_profile
    profile.display_name = "Ana Away"
    profile.save()
    team.on_duty = duty
    team.save()
    _backup(ana, ben)
    _backup(cat, ben)
    _backup(eve, eve)  # her own backup: never her cover
    with time_machine.travel(NOW - timedelta(days=3), tick=False):  # Monday 9 March
        during = open_case(owner=ana)
        promise(during, ana, due=london(2026, 3, 13, 12))  # Friday noon: during the holiday
        handed = open_case(owner=ana)
        promise(handed, ana, due=london(2026, 3, 13, 15))
        offer(handed, to=ben)  # offered: no longer uncovered
        after = open_case(owner=ana)
        promise(after, ana, due=london(2026, 3, 20, 12))  # after she is back
        for case in (during, handed, after):  # first-response promises end first
            case.commitments.filter(kind="first_response").update(
                status=CommitmentStatus.KEPT, ended_at=NOW - timedelta(days=3)
            )
        cat_case = open_case(owner=cat)
        cat_case.commitments.update(due_at=london(2026, 3, 16, 12))
        eve_case = open_case(owner=eve)
    _absence(ana, london(2026, 3, 11, 9), london(2026, 3, 18, 9), note="Holiday")
    _absence(ben, london(2026, 3, 16, 9), london(2026, 3, 17, 9))
    _absence(cat, london(2026, 3, 16, 9), london(2026, 3, 16, 17), note="Dentist")
    _absence(dan, london(2026, 3, 17, 9), london(2026, 3, 18, 9))
    _absence(dan, london(2026, 3, 2, 9), london(2026, 3, 3, 9))  # over
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        agent_set_away(agent=eve, by=eve, away=True, note="Unwell")
    return {"ana": ana, "ben": ben, "duty": duty, "cat": cat, "eve": eve, "eve_case": eve_case}


def test_it_lists_who_is_away_or_leaves_soon_with_cover_and_uncovered_promises(team, away_team):
    with time_machine.travel(NOW, tick=False):
        away = team_absences(team=team, now=NOW)
    assert away.horizon == london(2026, 3, 16, 10)
    rows = {row.name: row for row in away.rows}
    # away now first, then by start; Ben's own day off on Monday is listed too
    assert list(rows) == ["Ana Away", "Eve Switched", "Ben Backup", "Cat Soon"]
    assert (rows["Ben Backup"].promises_due, rows["Ben Backup"].cover_name) == (0, "Dee Duty")

    ana = rows["Ana Away"]
    assert ana.away_now and not ana.switched and ana.note == "Holiday"
    assert (ana.cover_id, ana.cover_name) == (away_team["ben"].pk, "Ben Backup")
    # the offered case is handed on, Ben is in on Friday when the other falls due
    assert (ana.promises_due, ana.uncovered) == (2, 0)
    assert (ana.due_from, ana.due_to) == (london(2026, 3, 11, 9), london(2026, 3, 18, 9))

    cat = rows["Cat Soon"]
    assert not cat.away_now and cat.starts_at == london(2026, 3, 16, 9)
    assert cat.cover_name == "Dee Duty"  # Ben is away on Monday too
    assert (cat.promises_due, cat.uncovered) == (1, 0)  # Dee is in on Monday at noon

    eve = rows["Eve Switched"]
    assert eve.switched and eve.away_now and eve.note == "Unwell" and eve.starts_at is None
    assert eve.cover_name == "Dee Duty"  # not herself
    # her first-response promise, overdue: Dee, in now, acts for her
    assert (eve.promises_due, eve.uncovered) == (1, 0)
    assert away.uncovered == 0


def test_nobody_covers_when_backup_and_on_duty_are_away(team, away_team):
    with time_machine.travel(NOW, tick=False):
        agent_set_away(agent=away_team["duty"], by=away_team["duty"], away=True)
        rows = {row.name: row for row in team_absences(team=team, now=NOW).rows}
    assert rows["Eve Switched"].cover_id is None and rows["Eve Switched"].cover_name == ""
    assert rows["Cat Soon"].cover_id is None
    assert rows["Ana Away"].cover_name == "Ben Backup"


def test_a_promise_due_while_no_cover_is_in_is_uncovered(team, away_team, open_case):
    """Ana's backup is in today, but her promise falls due on Monday, when Ben is away and
    so is the on-duty agent: nobody acts for her then."""
    ana = away_team["ana"]
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        case = open_case(owner=ana)
        case.commitments.update(status=CommitmentStatus.KEPT, ended_at=NOW - timedelta(days=3))
        promise(case, ana, due=london(2026, 3, 16, 12))
    _absence(away_team["duty"], london(2026, 3, 16, 9), london(2026, 3, 16, 17))
    with time_machine.travel(NOW, tick=False):
        rows = {row.name: row for row in team_absences(team=team, now=NOW).rows}
    ana_row = rows["Ana Away"]
    assert ana_row.cover_name == "Ben Backup"  # in today
    assert (ana_row.promises_due, ana_row.uncovered) == (3, 1)


def test_it_takes_one_query(team, away_team, django_assert_num_queries):
    team = type(team).objects.select_related("calendar").get(pk=team.pk)
    team.calendar.as_calendar().is_closed_day(NOW.date())  # the dashboard has read the calendar
    # Ben's day off on Monday leaves no promise to look at: the panel is one query
    Absence.objects.filter(agent__in=[away_team["ana"], away_team["cat"]]).delete()
    agent_set_away(agent=away_team["eve"], by=away_team["eve"], away=False)
    with django_assert_num_queries(1):
        away = team_absences(team=team, now=NOW)
    assert [row.name for row in away.rows] == ["Ben Backup"]


def test_an_agent_with_promises_to_look_at_takes_a_few_more(
    team, away_team, django_assert_num_queries
):
    """Ana's, Cat's and Eve's promises are not handed on and each has a cover: for each, one
    query reads them and the cover is asked at each due time (the owner's and the covers'
    absences). The dashboard keeps the panel until something changes."""
    team = type(team).objects.select_related("calendar").get(pk=team.pk)
    team.calendar.as_calendar().is_closed_day(NOW.date())
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(18):
        team_absences(team=team, now=NOW)
