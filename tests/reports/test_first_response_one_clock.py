"""One definition of first-response attainment: on a promise channel the report counts the
team's business time, the clock the first-response promise falls due by, so the report's
rate and the promises' kept-on-time rate agree for the same cases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.conversations.services import NewContact, contact_record
from cases.models import Team
from reports.first_response import first_response_attainment
from reports.promises import promise_weeks
from reports.selectors import Window
from tests.commitments.conftest import london

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026, 14:00 in London; the team works Mon–Fri 09–17.
OPENED = london(2026, 11, 25, 14)


def reply(clock, case, agent, at):
    clock.move_to(at, tick=False)
    contact_record(
        case=case,
        contact=NewContact(direction="to_customer", channel="email", summary="Answered.", at=at),
        by=agent,
    )


@pytest.fixture
def answered(time_machine, open_case, agent):
    """Three email cases opened together: answered in one hour, the next morning (19 clock
    hours, 4 working hours: on time) and the next afternoon (past 6 working hours)."""
    time_machine.move_to(OPENED, tick=False)
    quick, next_morning, late = (open_case(channel="email") for _ in range(3))
    reply(time_machine, quick, agent, OPENED + timedelta(hours=1))
    reply(time_machine, next_morning, agent, london(2026, 11, 26, 9) + timedelta(hours=1))
    reply(time_machine, late, agent, london(2026, 11, 26, 16))
    return london(2026, 11, 26, 17)


def test_the_report_and_the_promise_figures_agree_on_the_same_cases(answered, team):
    window = Window.ending(OPENED.date() + timedelta(days=1), 1)
    _weeks, channels = promise_weeks(team=team, window=window)
    (promises,) = [c for c in channels if c.channel == "email"]
    report = first_response_attainment(team=team, window=window, now=answered)
    (email,) = [c for c in report.channels if c.channel == "email"]
    assert promises.figures.decided == email.decided == 3
    assert promises.figures.kept_on_time == email.answered_within_target == 2
    assert promises.attainment == email.rate == pytest.approx(2 / 3, abs=1e-4)


def test_email_is_counted_in_business_time_whatever_the_live_setting(answered, team):
    assert team.first_response_business_time is False
    window = Window.ending(OPENED.date() + timedelta(days=1), 1)
    (email,) = first_response_attainment(team=team, window=window, now=answered).channels
    assert email.business_time is True
    assert email.as_dict()["time"] == "business"
    # 1 h; 3 working hours on Wednesday + 1 on Thursday; 3 + 7
    assert sorted(email.seconds) == [3600.0, 4 * 3600.0, 10 * 3600.0]


def test_live_channels_keep_the_teams_choice(time_machine, open_case, agent, team):
    time_machine.move_to(OPENED, tick=False)
    open_case(channel="chat")
    report = first_response_attainment(
        team=team, window=Window.ending(OPENED.date(), 1), now=OPENED + timedelta(hours=1)
    )
    assert [c.business_time for c in report.channels] == [False]
    team.first_response_business_time = True
    team.save()
    team = Team.objects.get(pk=team.pk)
    report = first_response_attainment(
        team=team, window=Window.ending(OPENED.date(), 1), now=OPENED + timedelta(hours=1)
    )
    assert [c.business_time for c in report.channels] == [True]


def test_the_page_states_the_definition(answered, team, client):
    from tests.factories import make_manager

    client.force_login(make_manager(team))
    page = client.get("/manage/first-response/", {"team": team.pk}).content.decode()
    assert "One clock for each target" in page
    assert "business time" in page and "agree" in page
